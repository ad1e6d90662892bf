"""The naive approach most Streamlit dashboards take, for the benchmark (scripts/bench.py):
read the raw tables a page needs into pandas (``SELECT *`` through SQLAlchemy) on every
page run and aggregate there.

Each function returns the same columns and figures as its query in queries/, so the
benchmark can check that the three approaches agree before comparing their times.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from functools import reduce

import numpy as np
import pandas as pd
from sqlalchemy import Boolean, Connection, Date, text

from dashboard.core.filters import Filters, month_start
from dashboard.data import schema
from queries.overview import RATES
from tests.pandas_reference import completion_rows, in_post, with_gaps

LEVEL_KEYS = {"office": ["area", "office", "office_code"], "area": ["area"], "region": []}
TIER_POINTS = {"A": 30, "B": 20, "C": 14, "D": 8}


class Raw:
    """Whole tables read on first use (once per page run), dates parsed."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.frames: dict[str, pd.DataFrame] = {}

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self.frames:
            table = schema.metadata.tables[name]
            df = pd.read_sql(text(f'SELECT * FROM "{name}"'), self.conn)
            for col in table.c:
                if isinstance(col.type, Date):
                    df[col.name] = pd.to_datetime(df[col.name])
                elif isinstance(col.type, Boolean) and col.nullable is False:
                    df[col.name] = df[col.name].astype(bool)
            self.frames[name] = df
        return self.frames[name]

    @property
    def offices(self) -> pd.DataFrame:
        if "_offices" not in self.frames:
            self.frames["_offices"] = self["office"].rename(
                columns={"id": "office_id", "name": "office", "code": "office_code"}).merge(
                self["area"].rename(columns={"id": "area_id", "name": "area",
                                             "code": "area_code"}), on="area_id")
        return self.frames["_offices"]

    def person_office(self) -> pd.DataFrame:
        return self["person_on_probation"][["id", "office_id"]].rename(
            columns={"id": "person_id"})

    def held_on(self, rows: pd.DataFrame, day: str) -> pd.DataFrame:
        """rows (with person_id) with the office_id of the allocation covering each row's
        `day` (the person's current office where none does), as the queries count."""
        alloc = self["case_allocation"][["person_id", "office_id", "start_date", "end_date"]]
        rows = rows.drop(columns=["office_id"], errors="ignore")
        pairs = rows.reset_index().merge(alloc.rename(
            columns={"start_date": "_from", "end_date": "_to"}), on="person_id")
        covered = (pairs["_from"] <= pairs[day]) & (
            pairs["_to"].isna() | (pairs["_to"] >= pairs[day]))
        found = pairs[covered].set_index("index")["office_id"]
        now = rows["person_id"].map(self.person_office().set_index("person_id")["office_id"])
        return rows.assign(office_id=found.reindex(rows.index).fillna(now).astype("int64"))


def _in(values: pd.Series, f: Filters) -> pd.Series:
    return (values >= pd.Timestamp(f.start)) & (values <= pd.Timestamp(f.end))


def _scope(office_ids: pd.Series, f: Filters) -> pd.Series:
    return office_ids.isin(f.office_ids) if f.office_ids is not None else office_ids.notna()


def _month(values: pd.Series) -> pd.Series:
    return values.dt.strftime("%Y-%m")


def _summarise(raw: Raw, rows: pd.DataFrame, level: str, values: list[str],
               before: tuple = (), after: tuple = ()) -> pd.DataFrame:
    names = raw.offices[["office_id", "office", "office_code", "area"]]
    rows = rows.merge(names, on="office_id", how="left")
    keys = [*before, *LEVEL_KEYS[level], *after]
    if not keys:
        return pd.DataFrame([{v: rows[v].sum() if len(rows) else 0 for v in values}])
    return rows.groupby(keys, sort=True)[values].sum().reset_index()[[*keys, *values]]


# --- staffing -----------------------------------------------------------------------------

def _in_post(raw: Raw, est: pd.DataFrame) -> pd.DataFrame:
    """Per establishment row: in-post FTE and head count of its office and grade on the
    month's first day."""
    return in_post(raw["staff_member"], est)


def gaps_by_month(raw: Raw, f: Filters, level: str = "office",
                  by_grade: bool = True) -> pd.DataFrame:
    est = raw["establishment"]
    rows = with_gaps(_in_post(raw, est[_in(est["month"], f) & _scope(est["office_id"], f)]))
    rows["month"] = _month(rows["month"])
    return _summarise(raw, rows, level,
                      ["establishment_fte", "in_post_fte", "vacancy_fte", "staff_in_post"],
                      before=("month",), after=("grade",) if by_grade else ())


def caseload_by_month(raw: Raw, f: Filters, level: str = "office") -> pd.DataFrame:
    est = raw["establishment"]
    est = est[_in(est["month"], f) & _scope(est["office_id"], f)]
    spine = est.loc[est["grade"] == "PO", ["office_id", "month"]]
    people = raw["person_on_probation"]
    points = people["tier"].map(TIER_POINTS).fillna(0) * np.where(
        people["sentence_type"] == "licence", 1.25, 1.0)
    cases = []
    for month in spine["month"].drop_duplicates():  # people open on each month's first day
        open_now = (people["start_date"] <= month) & (people["end_date"] >= month)
        held = raw.held_on(pd.DataFrame({"person_id": people.loc[open_now, "id"],
                                         "points": points[open_now], "day": month}), "day")
        counts = held.groupby("office_id").agg(
            open_cases=("points", "size"), workload_points=("points", "sum"))
        cases.append(counts.assign(month=month).reset_index())
    cases = spine.merge(pd.concat(cases), on=["office_id", "month"], how="left").fillna(
        {"open_cases": 0, "workload_points": 0.0})
    holding = _in_post(raw, est[est["grade"].isin(["PO", "PSO"])])
    fte = holding.groupby(["office_id", "month"], as_index=False)["in_post_fte"].sum().rename(
        columns={"in_post_fte": "case_holding_fte"})
    rows = cases.merge(fte, on=["office_id", "month"])
    rows["available_points"] = rows["case_holding_fte"] * 700.0
    rows["month"] = _month(rows["month"])
    return _summarise(raw, rows, level, ["open_cases", "workload_points", "case_holding_fte",
                                         "available_points"], before=("month",))


def absence(raw: Raw, f: Filters, level: str = "office") -> pd.DataFrame:
    rows = raw["staff_absence"].merge(
        raw["staff_member"][["id", "office_id"]].rename(columns={"id": "staff_member_id"}),
        on="staff_member_id")
    rows = rows[(rows["reason"] == "sickness") & _in(rows["start_date"], f)
                & _scope(rows["office_id"], f)].assign(episodes=1)
    return _summarise(raw, rows, level, ["episodes", "working_days_lost"])


# --- quality ------------------------------------------------------------------------------

def _audits(raw: Raw, f: Filters) -> pd.DataFrame:
    audits = raw.held_on(raw["case_audit"], "audit_date")
    return audits[(audits["status"] == "complete") & _in(audits["audit_date"], f)
                  & _scope(audits["office_id"], f)]


def key_question_counts(raw: Raw, f: Filters, level: str = "office", by_month: bool = False,
                        scheme: str = "crc_2018") -> pd.DataFrame:
    audits = _audits(raw, f)
    audits = audits[audits["scheme"] == scheme]
    rows = raw["audit_answer"].merge(audits[["id", "office_id", "audit_date"]].rename(
        columns={"id": "audit_id"}), on="audit_id")
    rows = rows.assign(audits=1, applicable=(rows["answer"] != "not_applicable").astype(int),
                       sufficient=(rows["answer"] == "sufficient").astype(int),
                       month=_month(rows["audit_date"]))
    return _summarise(raw, rows, level, ["audits", "applicable", "sufficient"],
                      before=("month",) if by_month else (),
                      after=("standard", "key_question"))


def audits_completed(raw: Raw, f: Filters, level: str = "office") -> pd.DataFrame:
    return _summarise(raw, _audits(raw, f).assign(audits=1), level, ["audits"])


# --- unpaid work --------------------------------------------------------------------------

def _orders(raw: Raw, day: str = "sentence_date") -> pd.DataFrame:
    return raw.held_on(raw["upw_order"], day)


def hours_worked(raw: Raw, f: Filters, level: str = "office",
                 by_month: bool = False) -> pd.DataFrame:
    rows = raw.held_on(raw["upw_session"].merge(
        raw["upw_order"][["id", "person_id"]].rename(columns={"id": "order_id"}),
        on="order_id"), "session_date")
    rows = rows[_in(rows["session_date"], f) & _scope(rows["office_id"], f)]
    rows = rows.assign(sessions=1, sessions_attended=rows["attended"].astype(int),
                       month=_month(rows["session_date"]))
    return _summarise(raw, rows, level, ["sessions", "sessions_attended", "hours_worked"],
                      before=("month",) if by_month else ())


def orders_made(raw: Raw, f: Filters, level: str = "office",
                by_month: bool = False) -> pd.DataFrame:
    rows = _orders(raw)
    rows = rows[_in(rows["sentence_date"], f) & _scope(rows["office_id"], f)]
    rows = rows.assign(orders=1, month=_month(rows["sentence_date"]))
    return _summarise(raw, rows, level, ["orders", "hours_ordered"],
                      before=("month",) if by_month else ())


def outstanding(raw: Raw, f: Filters, level: str = "office",
                at: date | None = None) -> pd.DataFrame:
    at_ts = pd.Timestamp(at or f.end)
    sessions = raw["upw_session"]
    worked = sessions[sessions["session_date"] <= at_ts].groupby("order_id")[
        "hours_worked"].sum()
    rows = raw.held_on(raw["upw_order"].assign(at=at_ts), "at").drop(columns="at")
    live = ((rows["sentence_date"] <= at_ts)
            & (rows["completed_date"].isna() | (rows["completed_date"] > at_ts))
            & (rows["terminated_date"].isna() | (rows["terminated_date"] > at_ts))
            & _scope(rows["office_id"], f))
    rows = rows[live].assign(live_orders=1)
    rows["hours_outstanding"] = rows["hours_ordered"] - rows["id"].map(worked).fillna(0.0)
    return _summarise(raw, rows, level, ["live_orders", "hours_outstanding"])


def completions(raw: Raw, f: Filters, level: str = "office") -> pd.DataFrame:
    # completions where the case was on the completion date, dues on the sentence date
    done = _orders(raw, "completed_date")
    done = done[_scope(done["office_id"], f) & _in(done["completed_date"], f)]
    due = _orders(raw)
    due = due[_scope(due["office_id"], f)]
    anniversary = due["sentence_date"] + pd.DateOffset(years=1)  # 29 Feb -> 28 Feb
    rows = completion_rows(done, due, anniversary, _in(anniversary, f))
    return _summarise(raw, rows, level,
                      ["orders_completed", "due_12_months", "completed_in_12_months"])


def _working_day_number(raw: Raw) -> pd.Series:
    cal = raw["calendar_day"]
    return pd.Series(cal["working_day_number"].to_numpy(), index=cal["day"])


def start_times(raw: Raw, f: Filters, level: str = "office") -> pd.DataFrame:
    numbers = _working_day_number(raw)
    cal = raw["calendar_day"]
    working = cal[cal["is_working_day"].astype(bool)]
    day_of = pd.Series(working["day"].to_numpy(), index=working["working_day_number"])
    rows = _orders(raw)
    rows = rows[_scope(rows["office_id"], f) & rows["sentence_date"].isin(numbers.index)]
    # counted in the period its start deadline (7th working day after sentence) falls in
    deadline = (rows["sentence_date"].map(numbers) + 7).map(day_of)
    rows = rows[_in(deadline, f)]
    first = raw["upw_session"].groupby("order_id")["session_date"].min()
    waited = rows["id"].map(first).map(numbers) - rows["sentence_date"].map(numbers)
    rows = rows.assign(orders_due_to_start=1, started_in_7_days=(waited <= 7).astype(int))
    return _summarise(raw, rows, level, ["orders_due_to_start", "started_in_7_days"])


# --- Through the Gate and supervision -----------------------------------------------------

COVERAGE = ["releases", "screened_in_5_days", "plan_before_release", "custody_12_weeks",
            "contact_12_weeks", "accommodation_known", "settled", "temporary",
            "no_fixed_abode", "first_appointment_due", "first_appointment_kept"]


def coverage(raw: Raw, f: Filters, level: str = "office", by_month: bool = False):
    numbers = _working_day_number(raw)
    r = raw.held_on(raw["custody_release"], "release_date")
    r = r[_in(r["release_date"], f) & _scope(r["office_id"], f)]
    screening_wait = r["screening_date"].map(numbers) - r["reception_date"].map(numbers)
    long_custody = (r["release_date"] - r["reception_date"]).dt.days >= 84
    acc, kept = r["accommodation_on_release"], r["first_appointment_kept"]
    r = r.assign(
        releases=1, screened_in_5_days=(screening_wait <= 5).astype(int),
        plan_before_release=(r["plan_completed_date"] <= r["release_date"]).astype(int),
        custody_12_weeks=long_custody.astype(int),
        contact_12_weeks=(long_custody & ((r["release_date"] - r["pre_release_contact_date"])
                                          .dt.days >= 84)).astype(int),
        accommodation_known=acc.notna().astype(int), settled=(acc == "settled").astype(int),
        temporary=(acc == "temporary").astype(int),
        no_fixed_abode=(acc == "no_fixed_abode").astype(int),
        first_appointment_due=kept.notna().astype(int),
        first_appointment_kept=(kept == True).astype(int),  # noqa: E712 - NULL is not kept
        month=_month(r["release_date"]))
    return _summarise(raw, r, level, COVERAGE, before=("month",) if by_month else ())


def appointments(raw: Raw, f: Filters, level: str = "office", by_month: bool = False):
    a = raw.held_on(raw["appointment"], "appointment_date")
    a = a[_in(a["appointment_date"], f) & _scope(a["office_id"], f)]
    a = a.assign(appointments=1, kept=(a["outcome"] == "kept").astype(int),
                 acceptable_absence=(a["outcome"] == "acceptable_absence").astype(int),
                 failed=(a["outcome"] == "failed").astype(int),
                 enforcement_actions=a["enforcement_action"].astype(int),
                 month=_month(a["appointment_date"]))
    return _summarise(raw, a, level, ["appointments", "kept", "acceptable_absence", "failed",
                                      "enforcement_actions"],
                      before=("month",) if by_month else ())


# --- overview -----------------------------------------------------------------------------

def measure_frame(raw: Raw, f: Filters, level: str = "office") -> pd.DataFrame:
    """The overview's frame (queries.overview.measure_frame), composed the same way."""
    keys = LEVEL_KEYS[level]
    snapshot = replace(f, start=month_start(f.end))
    parts = [
        gaps_by_month(raw, snapshot, level, by_grade=False).drop(columns="month"),
        caseload_by_month(raw, snapshot, level).drop(columns="month"),
        key_question_counts(raw, f, level).groupby(keys or (lambda _i: 0))[
            ["applicable", "sufficient"]].sum().reset_index(drop=not keys),
        audits_completed(raw, f, level), hours_worked(raw, f, level),
        orders_made(raw, f, level), outstanding(raw, f, level), completions(raw, f, level),
        start_times(raw, f, level), coverage(raw, f, level), appointments(raw, f, level),
    ]
    if keys:
        frame = reduce(lambda a, b: a.merge(b, on=keys, how="outer"), parts)
    else:
        frame = pd.concat([p.reset_index(drop=True) for p in parts], axis=1)
    frame = frame.fillna({c: 0 for c in frame.columns if c not in keys})
    frame["housed"] = frame["settled"] + frame["temporary"]
    for key, (num, den, scale) in RATES.items():
        frame[key] = (scale * frame[num] / frame[den].where(frame[den] > 0)).astype(float)
    return frame.sort_values(keys).reset_index(drop=True) if keys else frame


def targets(raw: Raw) -> pd.DataFrame:
    return raw["target"][["measure", "office_id", "green_from", "amber_from",
                          "higher_is_better"]].sort_values("measure")
