"""Deterministic synthetic demo data, calibrated on ../shared/DOMAIN.md.

Everything is written through the schema (no CSVs). The generator works office by office,
so memory stays bounded whatever the scale. For a given seed, as-of date and scale the
database it writes is identical.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import Boolean, Date, Engine, Float, Integer, Table, delete, func, select, text

from dashboard.core.workdays import calendar_rows
from dashboard.data import reference, schema, summaries
from dashboard.precompute import statistics

Progress = Callable[[float, str], None]

HISTORY_MONTHS = 24
SCHEME = "crc_2018"
# Key questions of the crc_2018 scheme sampled by the demo audits, with the base chance a
# case is judged sufficient (calibrated: keeping-others-safe is weakest; KSS 2024 found
# 22 % on implementation and delivery for safety).
KEY_QUESTION_BASE = {
    "2.1a": 0.80, "2.1b": 0.70, "2.1c": 0.52,
    "2.2a": 0.76, "2.2b": 0.66, "2.2c": 0.47,
    "2.3a": 0.74, "2.3b": 0.62, "2.3c": 0.24,
    "2.4a": 0.70, "2.4b": 0.60, "2.4c": 0.42,
}
SAFETY_QUESTIONS = {"2.1c", "2.2c", "2.3c", "2.4c"}
NOT_SUFFICIENT_REASONS = (
    "Risk assessment not reviewed after a change in circumstances",
    "No evidence of engagement with the person's views",
    "Domestic abuse enquiries not made or not followed up",
    "Safeguarding checks with children's services missing",
    "Plan does not address the main factors linked to offending",
    "Contact levels not matched to the risk of serious harm",
    "Review not completed after a significant event",
)


@dataclass(frozen=True)
class Scale:
    """How big a dataset to make: offices (code, name, area, caseload, PO vacancy)."""

    name: str
    areas: tuple[tuple[str, str], ...]
    offices: tuple[tuple[str, str, str, int, float], ...]


def region_scale() -> Scale:
    return Scale("region", reference.AREAS, reference.OFFICES)


def small_scale() -> Scale:
    """Two areas and four small offices: for tests and quick looks."""
    return Scale("small", reference.AREAS[:2], (
        ("ASH", "Ashford", "KENT", 260, 0.30),
        ("CHA", "Chatham", "KENT", 200, 0.42),
        ("GUI", "Guildford", "SURREY", 150, 0.40),
        ("WOK", "Woking", "SURREY", 120, 0.20),
    ))


# The twelve probation regions of England and Wales: (code, name, people on probation,
# probation officer vacancy rate, eight offices). Caseloads and vacancies are plausible,
# not official: the south-east and London recruit hardest (DOMAIN.md).
NATIONAL_REGIONS = (
    ("NE", "North East", 16_000, 0.22, ("Newcastle", "Sunderland", "Durham", "Middlesbrough",
                                        "Gateshead", "Darlington", "Hartlepool",
                                        "North Tyneside")),
    ("NW", "North West", 24_000, 0.26, ("Liverpool", "Preston", "Lancaster", "Blackpool",
                                        "Carlisle", "Warrington", "Chester", "Wirral")),
    ("GM", "Greater Manchester", 22_000, 0.28, ("Manchester North", "Manchester South",
                                                "Salford", "Bolton", "Wigan", "Stockport",
                                                "Oldham", "Bury")),
    ("YH", "Yorkshire and the Humber", 25_000, 0.24, ("Leeds", "Sheffield", "Bradford",
                                                      "Hull", "York", "Doncaster",
                                                      "Wakefield", "Huddersfield")),
    ("EM", "East Midlands", 21_000, 0.27, ("Nottingham", "Derby", "Leicester", "Lincoln",
                                           "Northampton", "Mansfield", "Chesterfield",
                                           "Kettering")),
    ("WM", "West Midlands", 26_000, 0.30, ("Birmingham Central", "Birmingham North",
                                           "Coventry", "Wolverhampton", "Walsall",
                                           "Stoke-on-Trent", "Worcester", "Shrewsbury")),
    ("EE", "East of England", 21_000, 0.33, ("Norwich", "Ipswich", "Cambridge",
                                             "Peterborough", "Chelmsford", "Luton", "Bedford",
                                             "Southend")),
    ("LON", "London", 36_000, 0.40, ("Camden", "Hackney", "Lambeth", "Croydon", "Ealing",
                                     "Newham", "Lewisham", "Barnet")),
    ("KSS", "Kent, Surrey and Sussex", 20_000, 0.36, ("Ashford", "Chatham", "Maidstone",
                                                      "Guildford", "Redhill", "Brighton",
                                                      "Crawley", "Hastings")),
    ("SW", "South West", 19_000, 0.25, ("Bristol", "Plymouth", "Exeter", "Gloucester",
                                        "Bournemouth", "Swindon", "Taunton", "Truro")),
    ("SC", "South Central", 19_000, 0.34, ("Southampton", "Portsmouth", "Reading", "Oxford",
                                           "Milton Keynes", "Basingstoke", "Aylesbury",
                                           "Isle of Wight")),
    ("WAL", "Wales", 15_000, 0.21, ("Cardiff", "Swansea", "Newport", "Wrexham", "Bangor",
                                    "Merthyr Tydfil", "Bridgend", "Carmarthen")),
)
# How a region's people split over its eight offices (largest first), and how far an
# office's vacancy rate sits from its region's.
OFFICE_SHARES = (0.19, 0.15, 0.13, 0.12, 0.11, 0.11, 0.10, 0.09)
OFFICE_VACANCY_SHIFT = (0.06, -0.04, 0.02, -0.05, 0.04, 0.0, -0.02, 0.03)


def national_scale() -> Scale:
    """A national probation service: about 264,000 people on probation in 12 regions
    (the dashboard's areas) and 96 offices, on the region scale's calibration."""
    areas = tuple((code, name) for code, name, _n, _v, _o in NATIONAL_REGIONS)
    offices: list[tuple[str, str, str, int, float]] = []
    for code, _name, people, vacancy, towns in NATIONAL_REGIONS:
        for town, share, shift in zip(towns, OFFICE_SHARES, OFFICE_VACANCY_SHIFT, strict=True):
            words = town.replace("-", " ").split()
            short = words[0][:6] if len(words) == 1 else words[0][:3] + words[-1][:3]
            office_code = f"{code}-{short.upper()}"
            offices.append((office_code, town, code, round(people * share),
                            round(vacancy + shift, 2)))
    return Scale("national", areas, tuple(offices))


SCALES = {"small": small_scale, "region": region_scale, "national": national_scale}


def default_as_of(today: date | None = None) -> date:
    """The last day of the month before today: the demo's 'data as of' date."""
    today = today or date.today()
    return today.replace(day=1) - timedelta(days=1)


def month_starts(as_of: date, months: int = HISTORY_MONTHS) -> list[date]:
    """First days of the `months` months ending with as_of's month, oldest first."""
    first = as_of.replace(day=1)
    out = []
    y, m = first.year, first.month
    for _ in range(months):
        out.append(date(y, m, 1))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out[::-1]


def _column_values(column, values: pd.Series) -> list:
    """A column's values as the plain Python values SQLAlchemy would bind for its type:
    dates as ISO text, booleans, ints, floats, text; None for missing."""
    missing = values.isna().to_numpy()
    if isinstance(column.type, Date):
        if pd.api.types.is_datetime64_any_dtype(values):
            out = values.dt.strftime("%Y-%m-%d").to_numpy(dtype=object, copy=True)
        else:
            out = np.array([None if m else v.isoformat() for v, m in zip(values, missing,
                                                                         strict=True)],
                           dtype=object)
    elif isinstance(column.type, Boolean):
        out = np.array([None if m else bool(v) for v, m in zip(values, missing, strict=True)],
                       dtype=object)
    elif isinstance(column.type, Integer):
        if not missing.any():
            return values.astype(np.int64).tolist()
        out = np.array([None if m else int(v) for v, m in zip(values, missing, strict=True)],
                       dtype=object)
    elif isinstance(column.type, Float):
        out = values.astype(float).to_numpy(dtype=object, copy=True)
    else:
        out = values.astype(object).to_numpy(dtype=object, copy=True)
    if missing.any():
        out[missing] = None
    return out.tolist()


def _rows(table: Table, df: pd.DataFrame) -> list[tuple]:
    columns = [_column_values(table.c[name], df[name]) for name in df.columns]
    return list(zip(*columns, strict=True))


def _insert(conn, table: Table, df: pd.DataFrame, chunk: int = 100_000) -> int:
    """Bulk-insert a frame whose columns are table columns: PostgreSQL COPY, SQLite
    executemany on the driver (the values stored are those SQLAlchemy would store)."""
    if df.empty:
        return 0
    names = ", ".join(f'"{c}"' for c in df.columns)
    raw = conn.connection.driver_connection
    for start in range(0, len(df), chunk):
        rows = _rows(table, df.iloc[start:start + chunk])
        if conn.dialect.name == "postgresql":
            with raw.cursor() as cur, cur.copy(
                    f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in df.columns)
            raw.executemany(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', rows)
    return len(df)


class _Ids:
    """Running primary keys, so rows can reference each other before they are written."""

    def __init__(self) -> None:
        self.next: dict[str, int] = {}

    def take(self, table: str, n: int) -> np.ndarray:
        start = self.next.get(table, 1)
        self.next[table] = start + n
        return np.arange(start, start + n, dtype=np.int64)


def _days(values: np.ndarray) -> np.ndarray:
    return np.asarray(values).astype("timedelta64[D]")


def _first_date(values: pd.Series) -> date | None:
    """The earliest date in a column (None when empty)."""
    if values.empty:
        return None
    return pd.Timestamp(values.min()).date()


def generate(
    engine: Engine,
    *,
    seed: int = 20261123,
    as_of: date | None = None,
    scale: Scale | None = None,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Fill an empty, migrated database with demo data. Returns row counts per table."""
    as_of = as_of or default_as_of()
    scale = scale or region_scale()
    say = progress or (lambda _f, _m: None)
    rng = np.random.default_rng(seed)
    ids = _Ids()
    months = month_starts(as_of)
    window_start = months[0]
    counts: dict[str, int] = {}

    def add(table: Table, df: pd.DataFrame) -> None:
        counts[table.name] = counts.get(table.name, 0) + _insert(conn, table, df)

    with engine.begin() as conn:
        if conn.execute(select(func.count()).select_from(schema.office)).scalar():
            raise RuntimeError("the database already holds data; generate into an empty one")
        if conn.dialect.name == "sqlite":
            # a larger page cache while loading: index pages stay in memory instead of
            # being written and read back (256 MB; memory stays bounded)
            conn.exec_driver_sql("PRAGMA cache_size=-262144")
        say(0.0, "Areas and offices")
        # the calendar is written after the rows, from the earliest date any measure
        # counts working days from (old prison receptions reach years back)
        earliest = [window_start - timedelta(days=4 * 366)]
        area_ids = {code: i for i, (code, _n) in enumerate(scale.areas, start=1)}
        add(schema.area, pd.DataFrame(
            [{"id": area_ids[c], "code": c, "name": n} for c, n in scale.areas]))
        offices = pd.DataFrame(
            [{"id": i, "code": c, "name": n, "area_id": area_ids[a]}
             for i, (c, n, a, _cl, _v) in enumerate(scale.offices, start=1)])
        add(schema.office, offices)
        add(schema.target, pd.DataFrame(
            [{"id": i, "measure": m, "office_id": None, "green_from": g, "amber_from": a,
              "higher_is_better": h}
             for i, (m, (g, a, h)) in enumerate(reference.DEFAULT_TARGETS.items(), start=1)]))
        ids.next["target"] = len(reference.DEFAULT_TARGETS) + 1

        n_offices = len(scale.offices)
        # Staff first, every office: a case can move to another office's officer. Each
        # office's random stream carries on into its people, as when one loop did both.
        office_rngs, staffs = {}, {}
        for k, (code, name, area_code, caseload, po_vacancy) in enumerate(scale.offices):
            office_id = k + 1
            office_rngs[office_id] = office_rng = np.random.default_rng([seed, office_id])
            staff = _staff(office_rng, ids, office_id, caseload, po_vacancy, area_code, months)
            teams = _teams(np.random.default_rng([seed, office_id, ALLOCATION_STREAM]), ids,
                           office_id, code, name, staff["staff"])
            add(schema.team, teams)
            add(schema.staff_member, staff["staff"])
            add(schema.establishment, staff["establishment"])
            add(schema.staff_absence, staff["absence"])
            staffs[office_id] = staff["staff"]
        holders = _Holders(staffs)
        neighbours = {k + 1: [j + 1 for j, other in enumerate(scale.offices)
                              if other[2] == area_code and j != k]
                      for k, (_c, _n, area_code, _cl, _v) in enumerate(scale.offices)}
        for k, (_code, _name, area_code, caseload, _vacancy) in enumerate(scale.offices):
            office_id = k + 1
            say(0.02 + 0.96 * k / n_offices, f"Office {k + 1} of {n_offices}: {_name}")
            office_rng = office_rngs.pop(office_id)
            people = _people(office_rng, ids, office_id, caseload, window_start, as_of,
                             staffs[office_id])
            allocations = _allocations(
                np.random.default_rng([seed, office_id, ALLOCATION_STREAM, 1]), ids, people,
                office_id, holders, neighbours[office_id], as_of)
            current = allocations.drop_duplicates("person_id", keep="last").set_index(
                "person_id")
            people["office_id"] = people["id"].map(current["office_id"]).astype(np.int64)
            people["officer_id"] = people["id"].map(current["officer_id"])
            add(schema.person, people)
            add(schema.case_allocation, allocations)
            add(schema.appointment, _appointments(office_rng, ids, people, window_start, as_of))
            orders, sessions = _unpaid_work(office_rng, ids, people, as_of)
            add(schema.upw_order, orders)
            add(schema.upw_session, sessions)
            releases = _releases(office_rng, ids, people, as_of)
            add(schema.custody_release, releases)
            earliest += [_first_date(orders["sentence_date"]),
                         _first_date(releases["reception_date"])]
            audits, answers = _audits(office_rng, ids, people, months, as_of, area_code)
            add(schema.case_audit, audits)
            add(schema.audit_answer, answers)

        first_day = min(d for d in earliest if d is not None)
        add(schema.calendar_day, pd.DataFrame(calendar_rows(
            date(first_day.year, 1, 1), as_of + timedelta(days=2 * 366))))
        say(0.97, "Demo case samples")
        add_demo_samples(conn, as_of, seed, ids)
        add(schema.dataset_info, pd.DataFrame([
            {"key": "data_as_of", "value": as_of.isoformat()},
            {"key": "mode", "value": "demo"},
            {"key": "seed", "value": str(seed)},
            {"key": "scale", "value": scale.name},
            {"key": "history_start", "value": window_start.isoformat()},
            # Part of every cached query's key: the same seed, scale and date give the
            # same rows, so the same version; any other generation gets another.
            {"key": "data_version", "value": f"demo:{scale.name}:{seed}:{as_of.isoformat()}"},
        ]))
        if conn.dialect.name == "postgresql":
            reset_sequences(conn)
            # planner statistics for the freshly loaded tables, before summarising them
            conn.exec_driver_sql("ANALYZE")
        say(0.98, "Monthly summaries")
        summaries.refresh_all(conn)
        statistics.refresh(conn)  # funnels, control charts, flags (issue 16)
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA cache_size=-2000")  # SQLite's default again
        say(1.0, "Done")
    _ = rng  # the top-level generator only seeds the per-office ones
    return counts


# --- drawn samples for the auditor workflow (issue 13) -----------------------------------

DEMO_SAMPLE_AUDITED = 0.4  # share of a demo sample's audits with answers saved
DEMO_SAMPLE_SCHEME = "pdu_2023"  # new samples answer the current PDU framework


def add_demo_samples(conn, as_of: date, seed: int, ids: _Ids | None = None) -> int:
    """Two drawn samples (HMIP method) with draft audits for the demo auditor, so an
    auditor has work on first sign-in and the quality lead sees progress: one of the
    whole region, one of the first area. About DEMO_SAMPLE_AUDITED of each sample's
    audits have some answers saved (drafts); none is complete, so no rating changes.

    The demo auditor is the first auditor named in the demo audits (the account
    auth.create_demo_users makes). Returns the number of sample audits created.
    """
    from dashboard.access.scope import Scope
    from dashboard.hmip import hmip_sampling, ratings
    from queries import samples as sample_queries

    auditor = conn.execute(
        select(schema.case_audit.c.auditor).distinct().order_by(schema.case_audit.c.auditor)
    ).scalars().first()
    if auditor is None:
        return 0
    everyone = Scope("demo-data", "quality_lead", None, None, False, True)
    rng = np.random.default_rng([seed, 13])
    window = (as_of - timedelta(weeks=10), as_of)
    first_area = conn.execute(select(func.min(schema.area.c.id))).scalar()
    area_offices = tuple(conn.execute(
        select(schema.office.c.id).where(schema.office.c.area_id == first_area)
    ).scalars())
    made = 0
    next_sample = int(conn.execute(
        select(func.coalesce(func.max(schema.case_sample.c.id), 0))).scalar()) + 1
    for k, (name, area_id, office_ids) in enumerate([
        ("Region, HMIP method (demo)", None, None),
        ("First area, HMIP method (demo)", first_area, area_offices),
    ]):
        cases = sample_queries.hmip_long_list(conn, *window, office_ids, everyone)
        eligible, _ = hmip_sampling.prepare(cases, as_of)
        if eligible.empty:
            continue
        n = ratings.sample_size(0.8, 0.05, population=len(eligible))
        sample_seed = int(rng.integers(0, 2**31 - 1))
        drawn = hmip_sampling.draw(cases, n, sample_seed, as_of)
        sample_id = next_sample + k
        conn.execute(schema.case_sample.insert().values(
            id=sample_id, name=name, office_id=None, area_id=area_id,
            window_start=window[0], window_end=window[1], confidence=0.8, margin=0.05,
            sample_size=len(drawn.sample), seed=sample_seed, created_by="quality.lead",
            created_at=pd.Timestamp(as_of).tz_localize("UTC").to_pydatetime(),
            method="hmip", buffer_pct=0.0,
            eligibility_rule=sample_queries.HMIP_WINDOW_RULE + hmip_sampling.ELIGIBILITY_RULE,
        ))
        people = [int(p) for p in drawn.sample["person_id"]]
        labels = drawn.sample["stratum"].map(hmip_sampling.STRATUM_LABELS)
        conn.execute(schema.case_sample_member.insert(), [
            {"sample_id": sample_id, "person_id": p, "stratum": str(label)}
            for p, label in zip(people, labels, strict=True)])
        audit_ids = (ids.take("case_audit", len(people)) if ids is not None else
                     np.arange(len(people)) + 1 + int(conn.execute(
                         select(func.coalesce(func.max(schema.case_audit.c.id), 0))).scalar()))
        conn.execute(schema.case_audit.insert(), [
            {"id": int(a), "person_id": p, "sample_id": sample_id, "auditor": auditor,
             "audit_date": as_of, "status": "draft", "scheme": DEMO_SAMPLE_SCHEME}
            for a, p in zip(audit_ids, people, strict=True)])
        answers = []
        for a in audit_ids[rng.random(len(audit_ids)) < DEMO_SAMPLE_AUDITED]:
            for q in list(KEY_QUESTION_BASE)[: int(rng.integers(1, 6))]:
                ok = rng.random() < KEY_QUESTION_BASE[q]
                answers.append({
                    "audit_id": int(a), "standard": q[:3], "key_question": q,
                    "answer": "sufficient" if ok else "not_sufficient",
                    "reason": None if ok else str(rng.choice(NOT_SUFFICIENT_REASONS))})
        if answers:
            answer_ids = (ids.take("audit_answer", len(answers)) if ids is not None else
                          np.arange(len(answers)) + 1 + int(conn.execute(select(
                              func.coalesce(func.max(schema.audit_answer.c.id), 0))).scalar()))
            for row, i in zip(answers, answer_ids, strict=True):
                row["id"] = int(i)
            conn.execute(schema.audit_answer.insert(), answers)
        made += len(people)
    return made


def reset_sequences(conn) -> None:
    """After explicit ids, move PostgreSQL's serial sequences past the largest id."""
    for table in schema.metadata.sorted_tables:
        if "id" in table.c and table.c.id.primary_key:
            conn.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM \"{table.name}\"), 0) + 1, false)"))


def clear(engine: Engine) -> None:
    """Delete every row (children first); used before regenerating."""
    with engine.begin() as conn:
        for table in reversed(schema.metadata.sorted_tables):
            if table.name != "alembic_version":
                conn.execute(delete(table))


# --- staffing ---------------------------------------------------------------------------

GRADE_VACANCY_FACTOR = {"PO": 1.0, "PSO": 0.35, "SPO": 0.3, "TRAINEE": 0.5}


def _staff(rng, ids, office_id, caseload, po_vacancy, area_code, months) -> dict:
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


def _teams(rng, ids, office_id, office_code, office_name, staff) -> pd.DataFrame:
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


class _Holders:
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


def _allocations(rng, ids, people, office_id, holders: _Holders, neighbours: list[int],
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


# --- people on probation ----------------------------------------------------------------

SENTENCE_P = {"community_order": 0.42, "suspended_sentence_order": 0.23, "licence": 0.35}
TIER_P = {"A": 0.12, "B": 0.30, "C": 0.34, "D": 0.24}
ROSH_P = {"low": 0.33, "medium": 0.47, "high": 0.17, "very_high": 0.03}


def _people(rng, ids, office_id, caseload, window_start, as_of, staff) -> pd.DataFrame:
    mean_days = 372.0
    lead = 760  # start the arrivals early so the window opens at steady state
    span = (as_of - window_start).days + lead
    n = rng.poisson(caseload / mean_days * span)
    start = np.datetime64(window_start - timedelta(days=lead)) + _days(
        np.sort(rng.integers(0, span + 1, n)))
    sentence = rng.choice(list(SENTENCE_P), n, p=list(SENTENCE_P.values()))
    length = np.where(sentence == "licence", rng.integers(90, 366, n),
                      rng.integers(180, 721, n))
    end = start + _days(length)
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


def _appointments(rng, ids, people, window_start, as_of) -> pd.DataFrame:
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
    day = first[person_idx] + _days(seq * interval[person_idx] + np.maximum(jitter, 0) * (seq > 0))
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


def _unpaid_work(rng, ids, people, as_of) -> tuple[pd.DataFrame, pd.DataFrame]:
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
           + _days(start_delay[order_idx] + seq * gap[order_idx]))
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
    term_day = orders["sentence_date"].to_numpy() + _days(rng.integers(30, 300, n))
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


def _releases(rng, ids, people, as_of) -> pd.DataFrame:
    lic = people[people["sentence_type"] == "licence"]
    n = len(lic)
    release = lic["start_date"].to_numpy().astype("datetime64[D]")
    custody = np.maximum(14, rng.lognormal(np.log(200), 0.6, n).astype(int))
    reception = release - _days(custody)
    prison = rng.choice(np.array(reference.PRISONS), n)
    screen_fast = float(np.clip(rng.normal(0.82, 0.06), 0.6, 0.98))
    screening = reception + _days(np.where(rng.random(n) < screen_fast,
                                           rng.integers(0, 7, n), rng.integers(8, 30, n)))
    screening = np.minimum(screening, release)
    plan_ok = float(np.clip(rng.normal(0.78, 0.07), 0.5, 0.97))
    plan_before = rng.random(n) < plan_ok
    plan = np.where(plan_before, release - _days(rng.integers(3, 60, n)),
                    release + _days(rng.integers(1, 21, n)))
    plan = np.maximum(plan, screening)
    contact_ok = float(np.clip(rng.normal(0.68, 0.08), 0.4, 0.95))
    early = rng.random(n) < contact_ok
    contact = np.where(early, release - _days(rng.integers(84, 121, n)),
                       release - _days(rng.integers(7, 84, n)))
    contact = np.maximum(contact, reception + _days(2))
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


# --- case audits ------------------------------------------------------------------------

def _audits(rng, ids, people, months, as_of, area_code) -> tuple[pd.DataFrame, pd.DataFrame]:
    office_effect = float(rng.normal(0, 0.07))
    trend = float(rng.normal(0.002, 0.004))  # change in chance of sufficient per month
    auditors = [f"auditor.{area_code.lower()[:3]}{i}" for i in (1, 2, 3)]
    start = people["start_date"].to_numpy().astype("datetime64[D]")
    end = people["end_date"].to_numpy().astype("datetime64[D]")
    audit_rows, answer_rows = [], []
    questions = list(KEY_QUESTION_BASE)
    for m, month in enumerate(months):
        mid = np.datetime64(month + timedelta(days=14))
        eligible = np.flatnonzero((start <= mid - 150) & (end >= mid))
        k = min(len(eligible), int(rng.poisson(5)) + 2)
        chosen = rng.choice(eligible, k, replace=False)
        for idx in chosen:
            audit_day = month + timedelta(days=int(rng.integers(0, 27)))
            if audit_day > as_of:
                audit_day = as_of
            audit_id = int(ids.take("case_audit", 1)[0])
            audit_rows.append({"id": audit_id, "person_id": int(people["id"].iloc[idx]),
                               "sample_id": None, "auditor": str(rng.choice(auditors)),
                               "audit_date": audit_day, "status": "complete",
                               "scheme": SCHEME})
            low_risk = people["rosh_level"].iloc[idx] == "low"
            no_review = rng.random() < 0.12
            case_effect = rng.normal(0, 0.08)
            for q in questions:
                if (q in SAFETY_QUESTIONS and rng.random() < (0.3 if low_risk else 0.03)) or (
                        q.startswith("2.4") and no_review):
                    answer, reason = "not_applicable", None
                else:
                    p = KEY_QUESTION_BASE[q] + office_effect + trend * m + case_effect
                    ok = rng.random() < np.clip(p, 0.03, 0.97)
                    answer = "sufficient" if ok else "not_sufficient"
                    reason = None if ok else str(rng.choice(NOT_SUFFICIENT_REASONS))
                answer_rows.append({"audit_id": audit_id, "standard": q[:3],
                                    "key_question": q, "answer": answer, "reason": reason})
    audits = pd.DataFrame(audit_rows)
    answers = pd.DataFrame(answer_rows)
    if not answers.empty:
        answers.insert(0, "id", ids.take("audit_answer", len(answers)))
    return audits, answers
