"""One glossary for every measure: the same words on every page, in help text and exports."""

from __future__ import annotations

from dataclasses import dataclass


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

    @property
    def label(self) -> str:
        """A short name for narrow places such as metric cards."""
        return SHORT.get(self.key, self.name)

    def definition(self) -> str:
        text = f"**{self.name}** ({self.unit}): {self.numerator}"
        if self.denominator:
            text += f" ÷ {self.denominator}"
        text += f". Source: {self.source}."
        return text + (f" {self.note}" if self.note else "")


_M = Measure
SHORT = {
    "upw_completed_in_12_months": "UPW done in 12 months",
    "upw_started_in_7_days": "UPW started in 7 days",
    "ttg_screened_in_5_days": "Screened in 5 days",
    "ttg_plan_before_release": "Plan before release",
    "ttg_contact_12_weeks": "Contact 12 weeks before",
    "ttg_first_appointment_kept": "1st appointment kept",
    "ttg_settled_on_release": "Settled on release",
    "caseload_per_officer": "Caseload",
}
MEASURES: dict[str, Measure] = {m.key: m for m in [
    _M("vacancy_rate", "Vacancy rate", "%",
       "budgeted FTE not filled (establishment − staff in post, per office and grade)",
       "budgeted FTE (establishment)", "establishment, staff_member", False,
       "Counted on the first day of the last month in the period."),
    _M("establishment_fte", "Establishment", "FTE", "budgeted full-time equivalent posts", "",
       "establishment", None),
    _M("in_post_fte", "Staff in post", "FTE",
       "full-time equivalent of staff employed on the first of the month", "",
       "staff_member", None),
    _M("caseload_per_officer", "Caseload per officer", "cases per FTE",
       "cases open on the first of the month", "probation officer and PSO FTE in post",
       "person_on_probation, staff_member", False,
       "HMIP found quality falls above 50 cases."),
    _M("workload_capacity", "Workload capacity", "%",
       "workload points of open cases (tier A 30, B 20, C 14, D 8; licence ×1.25)",
       "available points (700 per case-holding FTE in post)",
       "person_on_probation, staff_member", False, "Above 110 % is excessive."),
    _M("absence_days_per_fte", "Sickness absence", "working days per FTE",
       "working days lost to sickness starting in the period", "average FTE in post",
       "staff_absence, staff_member", False),
    _M("pct_sufficient", "Cases sufficient", "%",
       "key-question judgements 'sufficient'",
       "judgements where the question applies (one per completed audit)",
       "case_audit, audit_answer", True,
       "Shown with a Wilson 95 % interval; a standard is rated by its lowest key question."),
    _M("cases_audited", "Cases audited", "cases",
       "distinct people on probation with at least one completed audit dated in the "
       "period (or in the chosen sample); a case audited twice counts once", "",
       "case_audit", None),
    _M("audits_completed", "Audits completed", "audits",
       "completed case audits dated in the period; a case audited twice counts twice, and "
       "key-question denominators count audits", "", "case_audit", None),
    _M("hours_ordered", "Hours ordered", "hours",
       "unpaid work hours in orders sentenced in the period", "", "upw_order", None),
    _M("hours_worked", "Hours worked", "hours",
       "unpaid work hours worked in sessions in the period", "", "upw_session", None),
    _M("hours_outstanding", "Hours outstanding", "hours",
       "hours ordered − hours worked, for orders live at the end of the period", "",
       "upw_order, upw_session", False),
    _M("upw_completed_in_12_months", "Orders completed within 12 months", "%",
       "orders completed on or before the anniversary of sentence (the same date a year "
       "later; 29 February -> 28 February)",
       "orders whose 12-month anniversary falls in the period", "upw_order", True),
    _M("upw_started_in_7_days", "Unpaid work started within 7 working days", "%",
       "orders whose first session was within 7 working days of sentence",
       "orders whose 7th working day after sentence falls in the period (each order is "
       "counted once, when its deadline has passed)",
       "upw_order, upw_session, calendar_day (England bank holidays)", True),
    _M("upw_attendance", "Session attendance", "%", "sessions attended",
       "sessions scheduled in the period", "upw_session", True),
    _M("ttg_screened_in_5_days", "Screened within 5 working days", "%",
       "releases whose resettlement screening was within 5 working days of reception",
       "releases in the period", "custody_release, calendar_day", True),
    _M("ttg_plan_before_release", "Resettlement plan before release", "%",
       "releases with the plan completed on or before the release date",
       "releases in the period", "custody_release", True),
    _M("ttg_contact_12_weeks", "Contact 12 weeks before release", "%",
       "releases with first pre-release contact at least 84 days before release",
       "releases after at least 84 days in custody", "custody_release", True),
    _M("ttg_housed_on_release", "Housed on release", "%",
       "releases to settled or temporary accommodation",
       "releases with accommodation recorded", "custody_release", True),
    _M("ttg_settled_on_release", "Settled accommodation on release", "%",
       "releases to settled accommodation", "releases with accommodation recorded",
       "custody_release", True),
    _M("ttg_first_appointment_kept", "First appointment kept after release", "%",
       "releases whose first probation appointment was kept",
       "releases with the first appointment's outcome recorded", "custody_release", True),
    _M("appointments_kept", "Appointments kept", "%", "appointments kept",
       "appointments in the period", "appointment", True),
]}


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
