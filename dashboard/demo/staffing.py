"""Demo staff: each office's staff in post month by month, their establishment and
sickness absence, their teams, and the case allocation history of the people on probation
(issue 12)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

# --- staffing ---------------------------------------------------------------------------

GRADE_VACANCY_FACTOR = {"PO": 1.0, "PSO": 0.35, "SPO": 0.3, "TRAINEE": 0.5}


def staff_of_office(rng, ids, office_id, caseload, po_vacancy, area_code, months) -> dict:
    """An office's staff over the months: {"staff": staff_member rows, "establishment":
    budgeted FTE per grade and month, "absence": sickness episodes}, as frames."""
    case_holding = caseload / 33.0  # FTE needed for a caseload of 33 per officer
    base = {
        "PO": round(case_holding * 0.6 * 2) / 2,
        "PSO": round(case_holding * 0.4 * 2) / 2,
        "SPO": max(1.0, round(case_holding / 7 * 2) / 2),
        "TRAINEE": max(1.0, round(case_holding * 0.15 * 2) / 2),
    }
    # Kent's recruitment drive narrows its gap over the two years; Surrey's widens.
    drift = -0.06 if "KEN" in area_code else 0.05 if "SUR" in area_code else 0.0
    est_rows, staff_rows, absence_rows = [], [], []
    fte_choices = np.array([1.0, 0.8, 0.6, 0.5])
    fte_p = np.array([0.75, 0.1, 0.1, 0.05])
    for grade, establishment in base.items():
        active: list[dict] = []
        for m, month in enumerate(months):
            budget = establishment * (1.04 if month >= date(month.year, 4, 1) and
                                      month.year == months[-1].year else 1.0)
            est_rows.append({"id": None, "office_id": office_id, "grade": grade,
                             "month": month, "budgeted_fte": round(budget, 1)})
            vacancy = po_vacancy * GRADE_VACANCY_FACTOR[grade] + drift * m / len(months)
            vacancy = float(np.clip(vacancy + rng.normal(0, 0.02), 0.0, 0.7))
            wanted = budget * (1 - vacancy)
            month_end = _month_end(month)
            if m == 0:  # opening stock, hired over the last ten years
                while sum(s["fte"] for s in active) < wanted:
                    start = month - timedelta(days=int(rng.integers(30, 3650)))
                    active.append(_new_staff(rng, ids, office_id, grade, start,
                                             fte_choices, fte_p, staff_rows))
                continue
            for s in list(active):  # leavers: ~1.2 % a month
                if rng.random() < 0.012 + 0.01 * po_vacancy:
                    s["end_date"] = month + timedelta(days=int(rng.integers(0, 27)))
                    active.remove(s)
            while sum(s["fte"] for s in active) < wanted - 0.5:
                start = month + timedelta(days=int(rng.integers(0, (month_end - month).days)))
                active.append(_new_staff(rng, ids, office_id, grade, start,
                                         fte_choices, fte_p, staff_rows))
    for s in staff_rows:  # sickness: ~1 episode a year, a third of them long-term
        first = max(s["start_date"], months[0])
        last = min(s["end_date"] or months[-1], _month_end(months[-1]))
        span = (last - first).days
        if span <= 0:
            continue
        for _ in range(rng.poisson(span / 365)):
            start = first + timedelta(days=int(rng.integers(0, span)))
            lost = int(rng.integers(1, 6)) if rng.random() < 0.7 else int(rng.integers(10, 41))
            end = min(start + timedelta(days=int(lost * 7 / 5)), last)
            end = max(end, start)
            absence_rows.append({"staff_member_id": s["id"], "start_date": start,
                                 "end_date": end, "working_days_lost": float(lost),
                                 "reason": "sickness"})
    est = pd.DataFrame(est_rows)
    est["id"] = ids.take("establishment", len(est))
    absence = pd.DataFrame(absence_rows, columns=["staff_member_id", "start_date", "end_date",
                                                  "working_days_lost", "reason"])
    absence.insert(0, "id", ids.take("staff_absence", len(absence)))
    return {"staff": pd.DataFrame(staff_rows), "establishment": est, "absence": absence}


def _new_staff(rng, ids, office_id, grade, start, fte_choices, fte_p, rows) -> dict:
    staff_id = int(ids.take("staff_member", 1)[0])
    row = {"id": staff_id, "staff_ref": f"S{staff_id:06d}", "office_id": office_id,
           "grade": grade, "fte": float(rng.choice(fte_choices, p=fte_p)),
           "start_date": start, "end_date": None}
    rows.append(row)
    return row


def _month_end(month: date) -> date:
    nxt = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return nxt - timedelta(days=1)


# --- teams and case allocations (issue 12) ----------------------------------------------

ALLOCATION_STREAM = 12  # a separate random stream: the other demo figures stay as they were
OFFICERS_PER_TEAM = 8
# Rates a year per open case (realistic few, calibration): a move to another office of the
# same area, and a change of officer within the office (besides the officer leaving).
TRANSFER_RATE = 0.04
OFFICER_CHANGE_RATE = 0.15
# Days a leaver's cases wait before reallocation: mostly one to three weeks.
REALLOCATION_LAG_SHAPE, REALLOCATION_LAG_SCALE = 2.0, 6.0


def teams_of_office(rng, ids, office_id, office_code, office_name, staff) -> pd.DataFrame:
    """An office's teams (about eight case-holding officers each); sets staff team_id:
    officers and trainees at random, one SPO leading each team in turn."""
    holding = staff["grade"].isin(["PO", "PSO"]).sum()
    n = max(1, round(holding / OFFICERS_PER_TEAM))
    team_ids = ids.take("team", n)
    teams = pd.DataFrame({"id": team_ids,
                          "code": [f"{office_code}-T{i}" for i in range(1, n + 1)],
                          "name": [f"{office_name} team {i}" for i in range(1, n + 1)],
                          "office_id": office_id})
    spo = (staff["grade"] == "SPO").to_numpy()
    picked = rng.choice(team_ids, len(staff))
    picked[spo] = team_ids[np.arange(spo.sum()) % n]
    staff["team_id"] = picked
    return teams


class Holders:
    """Case-holding officers (PO, PSO) of every office, to pick one in post on a day."""

    def __init__(self, staffs: dict[int, pd.DataFrame]) -> None:
        self.by_office = {}
        for office_id, staff in staffs.items():
            h = staff[staff["grade"].isin(["PO", "PSO"])]
            ends = pd.to_datetime(h["end_date"]).fillna(pd.Timestamp("2262-01-01"))
            self.by_office[office_id] = (
                h["id"].to_numpy(), h["team_id"].to_numpy(),
                pd.to_datetime(h["start_date"]).to_numpy().astype("datetime64[D]"),
                ends.to_numpy().astype("datetime64[D]"), h["fte"].to_numpy(dtype=float))
        self.end_of = {int(i): e for ids_, _t, _s, ends, _f in self.by_office.values()
                       for i, e in zip(ids_, ends, strict=True)}
        self.team_of = {int(i): t for ids_, teams, _s, _e, _f in self.by_office.values()
                        for i, t in zip(ids_, teams, strict=True)}

    def pick(self, rng, office_id: int, day: np.datetime64, not_id: int | None = None):
        """A random officer in post on day (not not_id); the next to start if none is."""
        ids_, _teams, starts, ends, fte = self.by_office[office_id]
        if len(ids_) == 0:
            return None
        ok = (starts <= day) & (ends >= day)
        if not_id is not None:
            ok &= ids_ != not_id
        if ok.any():  # part-time officers hold fewer cases
            weights = fte[ok] / fte[ok].sum()
            return int(rng.choice(ids_[ok], p=weights))
        return int(ids_[np.argmin(np.abs((starts - day).astype(np.int64)))])


def allocation_history(rng, ids, people, office_id, holders: Holders, neighbours: list[int],
                       as_of) -> pd.DataFrame:
    """Each person's allocation history, from their start date: officer changes within
    the office, moves to another office of the area, and the reallocation of a leaver's
    cases after a lag. The last allocation stays open (no end date)."""
    rows = []
    last_day = np.datetime64(as_of)
    never = np.datetime64("2262-01-01")
    starts = people["start_date"].to_numpy().astype("datetime64[D]")
    ends = people["end_date"].to_numpy().astype("datetime64[D]")
    day = np.timedelta64(1, "D")
    for person_id, start, end in zip(people["id"].to_numpy(), starts, ends, strict=True):
        stop = min(end, last_day)
        t, office = start, office_id
        officer = holders.pick(rng, office, t)
        while True:
            moves = t + day * max(1, int(rng.exponential(365 / TRANSFER_RATE)))
            changes = t + day * max(1, int(rng.exponential(365 / OFFICER_CHANGE_RATE)))
            left = holders.end_of.get(officer, never) if officer is not None else never
            # an officer who leaves while holding the case (not one picked after leaving
            # because nobody was in post)
            realloc = (left + day * (1 + int(rng.gamma(REALLOCATION_LAG_SHAPE,
                                                       REALLOCATION_LAG_SCALE)))
                       if t <= left < never else never)
            nxt = min(moves, changes, realloc)
            if nxt > stop:
                break
            rows.append((person_id, office, officer, t, nxt - day))
            if nxt == moves and neighbours:
                office = neighbours[int(rng.integers(len(neighbours)))]
            officer = holders.pick(rng, office, nxt, not_id=officer)
            t = nxt
        rows.append((person_id, office, officer, t, None))
    df = pd.DataFrame(rows, columns=["person_id", "office_id", "officer_id", "start_date",
                                     "end_date"])
    df["team_id"] = df["officer_id"].map(holders.team_of)
    for column in ("start_date", "end_date"):
        df[column] = pd.to_datetime(df[column])
    df.insert(0, "id", ids.take("case_allocation", len(df)))
    return df[["id", "person_id", "office_id", "team_id", "officer_id", "start_date",
               "end_date"]]

