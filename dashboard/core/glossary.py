"""One glossary for every measure: the same words on every page, in help text and exports."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

MEASURES_FILE = Path(__file__).with_name("measures.yaml")


@dataclass(frozen=True)
class Measure:
    key: str
    name: str
    unit: str  # "%", "cases per FTE", "hours", "FTE", "days per FTE"
    numerator: str
    denominator: str
    source: str
    higher_is_better: bool | None
    note: str = ""
    short: str = ""
    # default target bands (green from, amber from) in the measure's unit, or None
    default_target: tuple[float, float] | None = None

    @property
    def label(self) -> str:
        """A short name for narrow places such as metric cards."""
        return self.short or self.name

    def definition(self) -> str:
        text = f"**{self.name}** ({self.unit}): {self.numerator}"
        if self.denominator:
            text += f" ÷ {self.denominator}"
        text += f". Source: {self.source}."
        return text + (f" {self.note}" if self.note else "")


def _load(path: Path) -> dict[str, Measure]:
    """measures.yaml as Measures by key, in file order."""
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))["measures"]
    found: dict[str, Measure] = {}
    for entry in entries:
        band = entry.pop("default_target", None)
        target = None if band is None else (float(band["green_from"]),
                                            float(band["amber_from"]))
        measure = Measure(**{"denominator": "", **entry}, default_target=target)
        if measure.key in found:
            raise ValueError(f"{path.name}: measure {measure.key} is listed twice")
        if target is not None and measure.higher_is_better is None:
            raise ValueError(f"{path.name}: {measure.key} has a target but no better side")
        found[measure.key] = measure
    return found


MEASURES: dict[str, Measure] = _load(MEASURES_FILE)


# Words about time, used the same way on every page.
TERMS = {
    "period": "The months chosen in the sidebar (From, To). Counts, rates and cards cover "
              "the whole period; staffing is a snapshot on the first day of its last month.",
    "this month": "The last month of the chosen period. Special-cause flags are for that "
                  "month, judged on a control chart of at least the 12 months ending with "
                  "it (the whole period when longer), so a one-month view and the 12-month "
                  "view ending in the same month list the same flags.",
    "trend": "Monthly trends show every month of the chosen period. The readiness trend "
             "follows the evidence: by quarter up to the period's end for completed "
             "audits, by successive samples when a sample is the evidence.",
    "working day": "Monday to Friday except England and Wales bank holidays, including "
                   "one-off days (from the holidays library).",
}

# The overview's performance report reads each measure the NHS England "Making Data Count"
# way (dashboard.stats.mdc): an XmR chart of the last 24 monthly values.
TERMS.update({
    "variation icon": "Whether the latest month is ordinary for this measure. Its XmR chart "
                      "has a mean and process limits at the mean ± 2.66 × the average "
                      "month-to-month change. The latest month is a special cause when it "
                      "is outside the limits, part of 7 or more months in a row on one side "
                      "of the mean, part of 7 or more months each rising (or each falling), "
                      "or one of 2 in 3 months beyond two thirds of the way to a limit on "
                      "the same side. A special cause is improving or concerning by the "
                      "measure's better direction; otherwise the month is common cause "
                      "(the usual ups and downs: no reason to act on that month alone).",
    "assurance icon": "Whether the target will be met if nothing changes: consistently "
                      "passes when both process limits are on the target's side (every "
                      "ordinary month meets it), consistently fails when both are on the "
                      "wrong side, hit or miss when the target lies between them.",
    "not enough data": "Fewer than 12 months with a figure: too few to set process limits, "
                       "so no icons are shown.",
})


def define(key: str) -> str:
    """The one-line definition of a measure for help text."""
    return MEASURES[key].definition()
