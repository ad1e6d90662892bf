"""Deterministic synthetic demo data, calibrated on ../shared/DOMAIN.md: the scales, and
generate(), which writes a dataset office by office.

Everything is written through the schema (no CSVs). The generator works office by office,
so memory stays bounded whatever the scale. For a given seed, as-of date and scale the
database it writes is identical. The rows come from staffing, people_on_probation and
case_audits; bulk writes them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import Engine, Table, delete, func, select, text

from dashboard.core.workdays import calendar_rows
from dashboard.data import reference, schema, summaries
from dashboard.demo.bulk import Ids, first_date, insert_frame
from dashboard.demo.case_audits import add_demo_samples, audits_of_office
from dashboard.demo.people_on_probation import (
    appointments,
    custody_releases,
    people_of_office,
    unpaid_work,
)
from dashboard.demo.staffing import (
    ALLOCATION_STREAM,
    Holders,
    allocation_history,
    staff_of_office,
    teams_of_office,
)
from dashboard.precompute import statistics

Progress = Callable[[float, str], None]

HISTORY_MONTHS = 24


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
    ids = Ids()
    months = month_starts(as_of)
    window_start = months[0]
    counts: dict[str, int] = {}

    def add(table: Table, df: pd.DataFrame) -> None:
        counts[table.name] = counts.get(table.name, 0) + insert_frame(conn, table, df)

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
            staff = staff_of_office(office_rng, ids, office_id, caseload, po_vacancy,
                                    area_code, months)
            teams = teams_of_office(np.random.default_rng([seed, office_id, ALLOCATION_STREAM]),
                                    ids, office_id, code, name, staff["staff"])
            add(schema.team, teams)
            add(schema.staff_member, staff["staff"])
            add(schema.establishment, staff["establishment"])
            add(schema.staff_absence, staff["absence"])
            staffs[office_id] = staff["staff"]
        holders = Holders(staffs)
        neighbours = {k + 1: [j + 1 for j, other in enumerate(scale.offices)
                              if other[2] == area_code and j != k]
                      for k, (_c, _n, area_code, _cl, _v) in enumerate(scale.offices)}
        for k, (_code, _name, area_code, caseload, _vacancy) in enumerate(scale.offices):
            office_id = k + 1
            say(0.02 + 0.96 * k / n_offices, f"Office {k + 1} of {n_offices}: {_name}")
            office_rng = office_rngs.pop(office_id)
            people = people_of_office(office_rng, ids, office_id, caseload, window_start,
                                      as_of, staffs[office_id])
            allocations = allocation_history(
                np.random.default_rng([seed, office_id, ALLOCATION_STREAM, 1]), ids, people,
                office_id, holders, neighbours[office_id], as_of)
            current = allocations.drop_duplicates("person_id", keep="last").set_index(
                "person_id")
            people["office_id"] = people["id"].map(current["office_id"]).astype(np.int64)
            people["officer_id"] = people["id"].map(current["officer_id"])
            add(schema.person, people)
            add(schema.case_allocation, allocations)
            add(schema.appointment, appointments(office_rng, ids, people, window_start, as_of))
            orders, sessions = unpaid_work(office_rng, ids, people, as_of)
            add(schema.upw_order, orders)
            add(schema.upw_session, sessions)
            releases = custody_releases(office_rng, ids, people, as_of)
            add(schema.custody_release, releases)
            earliest += [first_date(orders["sentence_date"]),
                         first_date(releases["reception_date"])]
            audits, answers = audits_of_office(office_rng, ids, people, months, as_of, area_code)
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

