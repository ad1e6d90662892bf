"""Docs and look: every measure shown has a glossary entry; theme colours meet WCAG AA."""

import ast
import importlib
import tomllib

import pytest

from dashboard.core import glossary
from dashboard.core.config import PROJECT_ROOT
from dashboard.core.glossary import MEASURES, MEASURES_FILE
from dashboard.data.reference import DEFAULT_TARGETS
from queries.overview import RATES


def _page_header_measures() -> dict[str, list[str]]:
    """The measure keys each page passes to ui.page_header, read from the source: a list
    written in the page, or a constant of a module it imports (queries.payback.GLOSSARY)."""
    found = {}
    for path in sorted((PROJECT_ROOT / "pages").glob("*.py")):
        tree = ast.parse(path.read_text())
        modules = {alias.asname or alias.name: f"{node.module}.{alias.name}"
                   for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                   for alias in node.names}
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "page_header"
                    and len(node.args) >= 4):
                continue
            arg = node.args[3]
            if isinstance(arg, ast.Attribute) and isinstance(arg.value, ast.Name):
                module = importlib.import_module(modules[arg.value.id])
                found[path.name] = list(getattr(module, arg.attr))
            else:
                found[path.name] = [n.value for n in ast.walk(arg)
                                    if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    return found


def test_every_measure_on_a_page_has_a_glossary_entry():
    pages = _page_header_measures()
    assert len(pages) == 10, pages  # every page that calls ui.page_header
    assert sum(bool(keys) for keys in pages.values()) == 7, pages  # 3 define no measure
    missing = {p: [k for k in keys if k not in MEASURES] for p, keys in pages.items()}
    assert not any(missing.values()), missing


@pytest.mark.parametrize("key", sorted(set(RATES) | set(DEFAULT_TARGETS)))
def test_rates_and_targets_are_defined(key):
    m = MEASURES[key]
    assert m.numerator and m.source and m.unit
    if m.unit == "%":
        assert m.denominator, f"{key} is a rate without a denominator"


def test_default_targets_sit_on_the_better_side(tmp_path):
    """measures.yaml's bands: green is on the better side of amber for every target, and a
    file listing a measure twice, or a target with no better side, is refused."""
    for key, (green, amber, higher) in DEFAULT_TARGETS.items():
        assert (green > amber) if higher else (green < amber), key
    entry = ("- key: k\n  name: K\n  unit: '%'\n  numerator: n\n  denominator: d\n"
             "  source: s\n  higher_is_better: {better}\n"
             "  default_target: {{green_from: 1, amber_from: 2}}\n")
    twice = tmp_path / "twice.yaml"
    twice.write_text("measures:\n" + entry.format(better="false") * 2)
    with pytest.raises(ValueError, match="listed twice"):
        glossary._load(twice)
    sideless = tmp_path / "sideless.yaml"
    sideless.write_text("measures:\n" + entry.format(better="null"))
    with pytest.raises(ValueError, match="no better side"):
        glossary._load(sideless)
    assert glossary._load(MEASURES_FILE) == MEASURES


def _luminance(hex_colour: str) -> float:
    rgb = [int(hex_colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_contrast_helper_matches_known_values():
    assert contrast("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast("#777777", "#FFFFFF") == pytest.approx(4.48, abs=0.01)


def test_theme_text_meets_wcag_aa():
    theme = tomllib.loads((PROJECT_ROOT / ".streamlit" / "config.toml").read_text())["theme"]
    for background in (theme["backgroundColor"], theme["secondaryBackgroundColor"]):
        assert contrast(theme["textColor"], background) >= 4.5
    assert contrast(theme["primaryColor"], "#FFFFFF") >= 4.5  # white text on buttons
