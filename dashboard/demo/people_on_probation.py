"""Demo people on probation in one office, with their appointments, unpaid work orders
and sessions, and releases from custody (Through the Gate)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd

from dashboard.data import reference, schema
from dashboard.demo.bulk import as_days

# --- people on probation ----------------------------------------------------------------

SENTENCE_P = {"community_order": 0.42, "suspended_sentence_order": 0.23, "licence": 0.35}
TIER_P = {"A": 0.12, "B": 0.30, "C": 0.34, "D": 0.24}
ROSH_P = {"low": 0.33, "medium": 0.47, "high": 0.17, "very_high": 0.03}


def people_of_office(rng, ids, office_id, caseload, window_start, as_of,
                     staff) -> pd.DataFrame:
    """The person_on_probation rows of an office: everyone on probation at some time in
    the window, arriving at a steady rate for the caseload."""
    mean_days = 372.0
    lead = 760  # start the arrivals early so the window opens at steady state
    span = (as_of - window_start).days + lead
    n = rng.poisson(caseload / mean_days * span)
    start = np.datetime64(window_start - timedelta(days=lead)) + as_days(
        np.sort(rng.integers(0, span + 1, n)))
    sentence = rng.choice(list(SENTENCE_P), n, p=list(SENTENCE_P.values()))
    length = np.where(sentence == "licence", rng.integers(90, 366, n),
                      rng.integers(180, 721, n))
    end = start + as_days(length)
    keep = end >= np.datetime64(window_start)
    n = int(keep.sum())
    df = pd.DataFrame({
        "start_date": start[keep], "end_date": end[keep], "sentence_type": sentence[keep],
    })
    df.insert(0, "id", ids.take("person_on_probation", n))
    df["crn"] = [f"X{office_id:03d}{i:07d}" for i in df["id"]]
    df["office_id"] = office_id
    holders = staff.loc[staff["grade"].isin(["PO", "PSO"]), "id"].to_numpy()
    df["officer_id"] = rng.choice(holders, n) if len(holders) else None
    df["tier"] = rng.choice(list(TIER_P), n, p=list(TIER_P.values()))
    df["rosh_level"] = rng.choice(list(ROSH_P), n, p=list(ROSH_P.values()))
    df["gender"] = np.where(rng.random(n) < 0.86, "male", "female")
    needs = rng.random((n, len(schema.ROUTEWAYS))) < 0.35
    df["routeway_needs"] = [
        ",".join(r for r, has in zip(schema.ROUTEWAYS, row, strict=True) if has)
        for row in needs]
    return df[["id", "crn", "office_id", "officer_id", "sentence_type", "start_date",
               "end_date", "tier", "rosh_level", "gender", "routeway_needs"]]


# --- appointments -----------------------------------------------------------------------

TIER_INTERVAL = {"A": 10, "B": 14, "C": 21, "D": 28}


def appointments(rng, ids, people, window_start, as_of) -> pd.DataFrame:
    """The appointment rows of people in the window, at their tier's interval (days)."""
    first = np.maximum(people["start_date"].to_numpy(),
                       np.datetime64(window_start)).astype("datetime64[D]")
    last = np.minimum(people["end_date"].to_numpy(),
                      np.datetime64(as_of)).astype("datetime64[D]")
    interval = people["tier"].map(TIER_INTERVAL).to_numpy()
    span = (last - first).astype(int)
    count = np.where(span >= 0, span // interval + 1, 0)
    person_idx = np.repeat(np.arange(len(people)), count)
    seq = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    jitter = rng.integers(-2, 3, len(seq))
    day = first[person_idx] + as_days(seq * interval[person_idx]
                                      + np.maximum(jitter, 0) * (seq > 0))
    day = np.minimum(day, last[person_idx])
    kept_p = float(np.clip(rng.normal(0.86, 0.035), 0.7, 0.95))
    u = rng.random(len(seq))
    outcome = np.where(u < kept_p, "kept", np.where(u < kept_p + 0.06, "acceptable_absence",
                                                     "failed"))
    df = pd.DataFrame({
        "person_id": people["id"].to_numpy()[person_idx],
        "appointment_date": day,
        "outcome": outcome,
        "enforcement_action": (outcome == "failed") & (rng.random(len(seq)) < 0.55),
    })
    df.insert(0, "id", ids.take("appointment", len(df)))
    return df


# --- unpaid work ------------------------------------------------------------------------

ORDER_HOURS = np.array([40, 60, 80, 100, 120, 150, 180, 200, 240, 300])
ORDER_HOURS_P = np.array([0.08, 0.12, 0.16, 0.16, 0.14, 0.12, 0.08, 0.07, 0.04, 0.03])


def unpaid_work(rng, ids, people, as_of) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(upw_order rows, upw_session rows) for the people on community sentences."""
    community = people[people["sentence_type"] != "licence"]
    has_order = rng.random(len(community)) < 0.48
    who = community[has_order]
    n = len(who)
    orders = pd.DataFrame({
        "person_id": who["id"].to_numpy(),
        "sentence_date": who["start_date"].to_numpy().astype("datetime64[D]"),
        "hours_ordered": rng.choice(ORDER_HOURS, n, p=ORDER_HOURS_P),
    })
    orders.insert(0, "id", ids.take("upw_order", n))
    ends = who["end_date"].to_numpy().astype("datetime64[D]")
    # Office pace: how quickly the first session is arranged and how often people attend.
    fast_start = float(np.clip(rng.normal(0.87, 0.04), 0.7, 0.97))
    attend_p = float(np.clip(rng.normal(0.84, 0.04), 0.7, 0.95))
    start_delay = np.where(rng.random(n) < fast_start, rng.integers(2, 9, n),
                           rng.integers(10, 40, n))  # calendar days; ~7 working days = 9
    gap = np.where(rng.random(n) < 0.45, 7, 14)
    needed = np.ceil(orders["hours_ordered"].to_numpy() / 7 / attend_p * 1.3).astype(int) + 2
    order_idx = np.repeat(np.arange(n), needed)
    seq = np.arange(needed.sum()) - np.repeat(np.cumsum(needed) - needed, needed)
    day = (orders["sentence_date"].to_numpy()[order_idx]
           + as_days(start_delay[order_idx] + seq * gap[order_idx]))
    attended = rng.random(len(seq)) < attend_p
    hours = np.where(attended, np.where(rng.random(len(seq)) < 0.9, 7.0, 3.5), 0.0)
    sessions = pd.DataFrame({"order_idx": order_idx, "session_date": day,
                             "attended": attended, "hours_worked": hours})
    sessions["ordered"] = orders["hours_ordered"].to_numpy()[order_idx]
    sessions["before"] = sessions.groupby("order_idx")["hours_worked"].cumsum() - hours
    sessions = sessions[sessions["before"] < sessions["ordered"]].copy()
    sessions["hours_worked"] = np.minimum(sessions["hours_worked"],
                                          sessions["ordered"] - sessions["before"])
    # Stop at the sentence end, at as-of, and for ~6 % terminated part-way (breach).
    terminate = rng.random(n) < 0.06
    cutoff = np.minimum(ends, np.datetime64(as_of))
    term_day = orders["sentence_date"].to_numpy() + as_days(rng.integers(30, 300, n))
    cutoff = np.where(terminate, np.minimum(cutoff, term_day), cutoff)
    sessions = sessions[sessions["session_date"].to_numpy() <= cutoff[sessions["order_idx"]]]
    total = sessions.groupby("order_idx")["hours_worked"].sum().reindex(range(n), fill_value=0)
    last_day = sessions.groupby("order_idx")["session_date"].max()
    complete = total.to_numpy() >= orders["hours_ordered"].to_numpy()
    orders["completed_date"] = pd.Series(pd.NaT, index=orders.index, dtype="datetime64[s]")
    orders.loc[complete, "completed_date"] = last_day.reindex(np.flatnonzero(complete)).to_numpy()
    ended = ~complete & (cutoff < np.datetime64(as_of))
    orders["terminated_date"] = pd.Series(pd.NaT, index=orders.index, dtype="datetime64[s]")
    orders.loc[ended, "terminated_date"] = cutoff[ended]
    sessions["order_id"] = orders["id"].to_numpy()[sessions["order_idx"].to_numpy()]
    sessions = sessions[["order_id", "session_date", "attended", "hours_worked"]].copy()
    sessions.insert(0, "id", ids.take("upw_session", len(sessions)))
    return orders, sessions


# --- Through the Gate -------------------------------------------------------------------

ACCOMMODATION_P = {"settled": 0.58, "temporary": 0.27, "no_fixed_abode": 0.15}


def custody_releases(rng, ids, people, as_of) -> pd.DataFrame:
    """The custody_release rows (Through the Gate dates) of the people on licence."""
    lic = people[people["sentence_type"] == "licence"]
    n = len(lic)
    release = lic["start_date"].to_numpy().astype("datetime64[D]")
    custody = np.maximum(14, rng.lognormal(np.log(200), 0.6, n).astype(int))
    reception = release - as_days(custody)
    prison = rng.choice(np.array(reference.PRISONS), n)
    screen_fast = float(np.clip(rng.normal(0.82, 0.06), 0.6, 0.98))
    screening = reception + as_days(np.where(rng.random(n) < screen_fast,
                                           rng.integers(0, 7, n), rng.integers(8, 30, n)))
    screening = np.minimum(screening, release)
    plan_ok = float(np.clip(rng.normal(0.78, 0.07), 0.5, 0.97))
    plan_before = rng.random(n) < plan_ok
    plan = np.where(plan_before, release - as_days(rng.integers(3, 60, n)),
                    release + as_days(rng.integers(1, 21, n)))
    plan = np.maximum(plan, screening)
    contact_ok = float(np.clip(rng.normal(0.68, 0.08), 0.4, 0.95))
    early = rng.random(n) < contact_ok
    contact = np.where(early, release - as_days(rng.integers(84, 121, n)),
                       release - as_days(rng.integers(7, 84, n)))
    contact = np.maximum(contact, reception + as_days(2))
    settled_shift = float(rng.normal(0, 0.05))
    acc_p = np.array(list(ACCOMMODATION_P.values())) + [settled_shift, 0, -settled_shift]
    acc_p = np.clip(acc_p, 0.02, None)
    accommodation = rng.choice(list(ACCOMMODATION_P), n, p=acc_p / acc_p.sum())
    kept_p = np.where(accommodation == "no_fixed_abode", 0.74, 0.91)
    kept = rng.random(n) < kept_p
    df = pd.DataFrame({
        "person_id": lic["id"].to_numpy(), "prison": prison, "reception_date": reception,
        "screening_date": screening, "plan_completed_date": plan,
        "pre_release_contact_date": contact, "release_date": release,
        "accommodation_on_release": accommodation,
        "first_appointment_kept": kept.astype(object),
    })
    missing = rng.random(n) < 0.03  # some screenings never recorded
    df.loc[missing, "screening_date"] = pd.NaT
    recent = release > np.datetime64(as_of) - 2  # too soon for a first appointment
    df.loc[recent, "first_appointment_kept"] = None
    # Dates after as-of are not known yet.
    for col in ("plan_completed_date", "screening_date", "pre_release_contact_date"):
        df.loc[df[col] > np.datetime64(as_of), col] = pd.NaT
    df.insert(0, "id", ids.take("custody_release", n))
    return df

