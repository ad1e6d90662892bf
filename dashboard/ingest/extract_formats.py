"""The documented column formats of the case-management extracts the dashboard imports.

One ExtractFormat per table, as data: each column's name, type, whether it is required,
allowed values, range, maximum length (read from the schema, so a huge cell can never
reach the database), the table it refers to by natural key, and a description. How a
format is specified is in format_spec.py. The importer (dashboard/commands/imports.py and
the passes in this package), the exporter (export_extracts.py) and the reference page
(docs/IMPORT_FORMATS.md, written by formats_doc.py) all read these specs, so the three
cannot drift apart.

Extracts name rows by natural keys (office code, staff_ref, crn, the source system's
reference of an appointment, order, session, release or audit), never by our ids.
"""

from __future__ import annotations

import pandas as pd

from dashboard.core.glossary import MEASURES
from dashboard.data import schema
from dashboard.data.allocations import overlap_problems
from dashboard.hmip.ratings import available_schemes, load_scheme
from dashboard.ingest.format_spec import (
    DateOrder,
    ExtractFormat,
    Field,
    FileCheck,
    Reference,
    RowCheck,
    with_schema_lengths,
)


def _office(name: str = "office_code", required: bool = True, **kw) -> Field:
    return Field(name, "code", "Office code, as in the office extract.", required=required,
                 references=Reference("office", "code", "office_id"), **kw)


def _crn() -> Field:
    return Field("crn", "text", "Case reference number of the person on probation.",
                 required=True, references=Reference("person_on_probation", "crn", "person_id"))


def _ref(name: str, column: str, what: str) -> Field:
    return Field(name, "text", f"The source system's reference of the {what}: unique, never "
                 "reused; the natural key for updates.", required=True, column=column)


def _allocation_overlaps(conn, rows: pd.DataFrame) -> pd.DataFrame:
    """Overlapping periods of one person; rows: row, crn (our person id), start_date,
    end_date, raw.crn (the file's text)."""
    return overlap_problems(conn, rows.rename(columns={"crn": "person_id"}).assign(
        crn=rows["raw.crn"]))


def _bands_out_of_order(df: pd.DataFrame) -> pd.Series:
    higher = df["higher_is_better"].astype(bool)
    green, amber = df["green_from"].astype(float), df["amber_from"].astype(float)
    return (higher & (green < amber)) | (~higher & (green > amber))


def _key_question_not_in_scheme(df: pd.DataFrame) -> pd.Series:
    """An answer whose key question (with its standard) is not in its audit's scheme: it
    would be left out of every rating (or, before, stop the readiness page)."""
    pairs = {s: {(kq.code, kq.standard) for kq in load_scheme(s).key_questions}
             for s in set(df["audit_ref.scheme"])}
    return pd.Series([(k, st) not in pairs[s] for k, st, s in zip(
        df["key_question"], df["standard"], df["audit_ref.scheme"], strict=True)],
        index=df.index)


FORMATS: dict[str, ExtractFormat] = {}


def _add(fmt: ExtractFormat) -> None:
    FORMATS[fmt.table] = with_schema_lengths(fmt)


_add(ExtractFormat(
    "area", "Areas", "The areas (probation delivery units) that group offices.",
    (Field("code", "code", "Area code.", required=True),
     Field("name", "text", "Area name.", required=True, unique=True)),
    natural_key=("code",),
    example_rows=(
        "KENT,Kent",
        "SURREY,Surrey",
    ),
))
_add(ExtractFormat(
    "office", "Offices", "Probation offices and the area each belongs to.",
    (Field("code", "code", "Office code.", required=True),
     Field("name", "text", "Office name.", required=True, unique=True),
     Field("area_code", "code", "Code of the office's area.", required=True,
           references=Reference("area", "code", "area_id"))),
    natural_key=("code",), load_after=("area",),
    example_rows=(
        "ASH,Ashford,KENT",
        "GUI,Guildford,SURREY",
    ),
))
_add(ExtractFormat(
    "team", "Teams", "Teams within an office (a case is allocated to a team and an officer).",
    (Field("code", "code", "Team code.", required=True),
     Field("name", "text", "Team name.", required=True),
     _office()),
    natural_key=("code",), load_after=("office",),
    example_rows=(
        "ASH-T1,Ashford team 1,ASH",
        "ASH-T2,Ashford team 2,ASH",
    ),
))
_add(ExtractFormat(
    "staff_member", "Staff in post", "Every staff post holder, current and past (HR extract).",
    (Field("staff_ref", "text", "HR reference of the staff member.", required=True),
     _office(),
     Field("grade", "code", "Grade.", required=True, allowed=schema.GRADES),
     Field("fte", "number", "Contracted full-time equivalent.", required=True, above=0,
           maximum=1),
     Field("start_date", "date", "First day in post at this office.", required=True),
     Field("end_date", "date", "Last day in post (blank while in post)."),
     Field("team_code", "code", "Code of the team the staff member works in (blank: none).",
           references=Reference("team", "code", "team_id"))),
    natural_key=("staff_ref",),
    date_order=(DateOrder("end_date", "start_date", "end_date is before start_date"),),
    load_after=("office", "team"),
    example_rows=(
        "S000001,ASH,PO,1,2019-09-02,,ASH-T1",
        "S000002,ASH,PSO,0.6,2024-01-08,2026-03-31,ASH-T1",
        "S000003,GUI,PO,1,2021-05-04,,",
    ),
))
_add(ExtractFormat(
    "establishment", "Establishment", "Budgeted FTE per office, grade and month.",
    (_office(),
     Field("grade", "code", "Grade.", required=True, allowed=schema.GRADES),
     Field("month", "month", "The month budgeted.", required=True),
     Field("budgeted_fte", "number", "Budgeted full-time equivalent posts.", required=True,
           minimum=0)),
    natural_key=("office_code", "grade", "month"), load_after=("office",),
    example_rows=(
        "ASH,PO,2026-10,12.5",
        "ASH,PSO,2026-10,8",
    ),
))
_add(ExtractFormat(
    "staff_absence", "Staff absence", "Sickness and other absence episodes (HR extract).",
    (_ref("absence_ref", "absence_ref", "absence episode"),
     Field("staff_ref", "text", "HR reference of the staff member.", required=True,
           references=Reference("staff_member", "staff_ref", "staff_member_id")),
     Field("start_date", "date", "First day of absence.", required=True),
     Field("end_date", "date", "Last day of absence.", required=True),
     Field("working_days_lost", "number", "Working days lost.", required=True, minimum=0),
     Field("reason", "text", "Reason for absence.", required=True)),
    natural_key=("absence_ref",), ref_field="absence_ref",
    date_order=(DateOrder("end_date", "start_date", "end_date is before start_date"),),
    load_after=("staff_member",),
    example_rows=(
        "ABS-1001,S000001,2026-09-14,2026-09-18,5,sickness",
    ),
))
_add(ExtractFormat(
    "person_on_probation", "People on probation",
    "One row per case (sentence) supervised: who supervises it now and its risk profile. "
    "A new person gets an allocation from their start date; a changed office or officer "
    "starts a new allocation the day after the data's as-of date (load `case_allocation` "
    "to date a transfer).",
    (Field("crn", "text", "Case reference number.", required=True),
     _office(),
     Field("officer_staff_ref", "text", "staff_ref of the responsible officer (blank if "
           "unallocated).", references=Reference("staff_member", "staff_ref", "officer_id")),
     Field("sentence_type", "text", "Type of sentence supervised.", required=True,
           allowed=schema.SENTENCE_TYPES),
     Field("start_date", "date", "Start of supervision.", required=True),
     Field("end_date", "date", "Expected or actual end of supervision.", required=True),
     Field("tier", "code", "Case management tier.", required=True, allowed=schema.TIERS),
     Field("rosh_level", "text", "Risk of serious harm level.", required=True,
           allowed=schema.ROSH_LEVELS),
     Field("gender", "text", "Gender.", required=True, allowed=schema.GENDERS),
     Field("routeway_needs", "list", "Rehabilitation routeways with an identified need.",
           allowed=schema.ROUTEWAYS)),
    natural_key=("crn",), load_after=("office", "staff_member"),
    date_order=(DateOrder("end_date", "start_date", "end_date is before start_date"),),
    example_rows=(
        'X0010000001,GUI,S000003,community_order,2026-01-12,2027-01-11,B,medium,male,"Home,Money"',
        "X0010000002,ASH,S000002,licence,2026-03-02,2026-12-01,A,high,female,Home",
    ),
))
_add(ExtractFormat(
    "case_allocation", "Case allocations",
    "Where each case has been allocated over time: office, team and responsible officer, "
    "from a date to a date (blank: the current allocation). Every figure counts a case "
    "where it was allocated on the date of the event, so a transfer changes only the "
    "months from its date on. A transfer is two rows: the old allocation with its end "
    "date, the new one starting the next day. People on probation must be loaded first; "
    "their office and officer follow the latest allocation.",
    (_crn(),
     _office(),
     Field("team_code", "code", "Code of the team holding the case (blank: none).",
           references=Reference("team", "code", "team_id")),
     Field("officer_staff_ref", "text", "staff_ref of the responsible officer (blank if "
           "unallocated).", references=Reference("staff_member", "staff_ref", "officer_id")),
     Field("start_date", "date", "First day of the allocation.", required=True),
     Field("end_date", "date", "Last day of the allocation (blank while it is current).")),
    natural_key=("crn", "start_date"), load_after=("person_on_probation", "team"),
    date_order=(DateOrder("end_date", "start_date", "end_date is before start_date"),),
    file_checks=(FileCheck(("crn", "start_date", "end_date"),
                           "the periods of one person (in the file and stored) must not "
                           "overlap", _allocation_overlaps),),
    example_rows=(
        "X0010000001,ASH,ASH-T1,S000001,2026-01-12,2026-05-14",
        "X0010000001,GUI,,S000003,2026-05-15,",
        "X0010000002,ASH,ASH-T1,S000002,2026-03-02,",
    ),
))
_add(ExtractFormat(
    "appointment", "Appointments", "Supervision appointments and their outcomes.",
    (_ref("appointment_ref", "source_ref", "appointment"),
     _crn(),
     Field("appointment_date", "date", "Date of the appointment.", required=True),
     Field("outcome", "text", "What happened.", required=True,
           allowed=schema.APPOINTMENT_OUTCOMES),
     Field("enforcement_action", "boolean", "Enforcement action taken on a failure.",
           required=True)),
    natural_key=("appointment_ref",), ref_field="appointment_ref",
    as_of_fields=("appointment_date",), load_after=("person_on_probation",),
    example_rows=(
        "APT-0000001,X0010000001,2026-10-05,kept,false",
        "APT-0000002,X0010000001,2026-10-19,failed,true",
    ),
))
_add(ExtractFormat(
    "upw_order", "Unpaid work orders", "Unpaid work (Community Payback) requirements.",
    (_ref("order_ref", "order_ref", "unpaid work requirement"),
     _crn(),
     Field("sentence_date", "date", "Date the court made the order.", required=True),
     Field("hours_ordered", "integer", "Hours ordered.", required=True, minimum=40,
           maximum=300),
     Field("completed_date", "date", "Date the last hour was worked (blank if not)."),
     Field("terminated_date", "date", "Date the order ended without completion (blank if "
           "not).")),
    natural_key=("order_ref",), ref_field="order_ref",
    date_order=(DateOrder("completed_date", "sentence_date",
                          "completed_date is before sentence_date"),
                DateOrder("terminated_date", "sentence_date",
                          "terminated_date is before sentence_date")),
    as_of_fields=("sentence_date",), load_after=("person_on_probation",),
    example_rows=(
        "UPW-000001,X0010000001,2026-01-12,120,,",
    ),
))
_add(ExtractFormat(
    "upw_session", "Unpaid work sessions", "Work sessions booked on unpaid work orders.",
    (_ref("session_ref", "session_ref", "session"),
     Field("order_ref", "text", "order_ref of the unpaid work order.", required=True,
           references=Reference("upw_order", "order_ref", "order_id", ("sentence_date",))),
     Field("session_date", "date", "Date of the session.", required=True),
     Field("attended", "boolean", "Did the person attend?", required=True),
     Field("hours_worked", "number", "Hours worked at the session.", required=True,
           minimum=0, maximum=12)),
    natural_key=("session_ref",), ref_field="session_ref",
    date_order=(DateOrder("session_date", "order_ref.sentence_date",
                          "session_date is before the order's sentence_date"),),
    as_of_fields=("session_date",), load_after=("upw_order",),
    example_rows=(
        "SES-0000001,UPW-000001,2026-01-17,true,7",
        "SES-0000002,UPW-000001,2026-01-24,false,0",
    ),
))
_add(ExtractFormat(
    "custody_release", "Custody releases (Through the Gate)",
    "Releases from custody and the resettlement work before and after them.",
    (_ref("release_ref", "release_ref", "release"),
     _crn(),
     Field("prison", "text", "Releasing prison.", required=True),
     Field("reception_date", "date", "Date received into custody.", required=True),
     Field("screening_date", "date", "Resettlement screening done."),
     Field("plan_completed_date", "date", "Resettlement plan finished."),
     Field("pre_release_contact_date", "date", "First pre-release contact."),
     Field("release_date", "date", "Date of release.", required=True),
     Field("accommodation_on_release", "text", "Accommodation on the day of release.",
           allowed=schema.ACCOMMODATION),
     Field("first_appointment_kept", "boolean", "First probation appointment after release "
           "kept (blank if not yet due).")),
    natural_key=("release_ref",), ref_field="release_ref",
    date_order=(DateOrder("release_date", "reception_date",
                          "release_date is before reception_date"),
                DateOrder("screening_date", "reception_date",
                          "screening_date is before reception_date"),
                DateOrder("plan_completed_date", "reception_date",
                          "plan_completed_date is before reception_date"),
                DateOrder("pre_release_contact_date", "reception_date",
                          "pre_release_contact_date is before reception_date")),
    as_of_fields=("release_date",), load_after=("person_on_probation",),
    example_rows=(
        "REL-000001,X0010000002,HMP Elmley,2025-11-03,2025-11-06,2026-02-20,2025-12-01,"
        "2026-03-02,settled,true",
    ),
))
_add(ExtractFormat(
    "case_audit", "Case audits", "Case audits against an HMIP inspection scheme.",
    (_ref("audit_ref", "audit_ref", "case audit"),
     _crn(),
     Field("auditor", "text", "Username of the auditor.", required=True),
     Field("audit_date", "date", "Date of the audit.", required=True),
     Field("status", "text", "Draft or complete.", required=True,
           allowed=("draft", "complete")),
     Field("scheme", "text", "Inspection scheme the audit follows.", required=True,
           allowed=tuple(available_schemes()))),
    natural_key=("audit_ref",), ref_field="audit_ref",
    as_of_fields=("audit_date",), load_after=("person_on_probation",),
    example_rows=(
        "AUD-0001,X0010000001,auditor.ken1,2026-10-14,complete,crc_2018",
    ),
))
_add(ExtractFormat(
    "audit_answer", "Case audit answers", "One answer per key question of a case audit.",
    (Field("audit_ref", "text", "audit_ref of the case audit.", required=True,
           references=Reference("case_audit", "audit_ref", "audit_id",
                                ("audit_date", "scheme"))),
     Field("key_question", "text", "Key question, e.g. 2.1a.", required=True),
     Field("standard", "text", "Standard the question belongs to, e.g. 2.1.", required=True),
     Field("answer", "text", "The judgement.", required=True, allowed=schema.ANSWERS),
     Field("reason", "text", "Why, for a not-sufficient answer.",
           multiline=True)),
    natural_key=("audit_ref", "key_question"), load_after=("case_audit",),
    row_checks=(RowCheck(("key_question", "standard", "audit_ref.scheme"),
                         "is not a key question of that standard in the audit's scheme",
                         _key_question_not_in_scheme, report_on="key_question"),),
    example_rows=(
        "AUD-0001,2.1a,2.1,sufficient,",
        "AUD-0001,2.1c,2.1,not_sufficient,Domestic abuse enquiries not made or not followed up",
    ),
))
_add(ExtractFormat(
    "target", "Targets", "Targets and RAG bands per measure, by default or for one office.",
    (Field("measure", "text", "Measure key.", required=True,
           allowed=tuple(sorted(MEASURES))),
     Field("office_code", "code", "Office the target is for (blank: the default for every "
           "office).", references=Reference("office", "code", "office_id")),
     Field("green_from", "number", "Green from this value.", required=True),
     Field("amber_from", "number", "Amber from this value.", required=True),
     Field("higher_is_better", "boolean", "Is a higher value better?", required=True)),
    natural_key=("measure", "office_code"), load_after=("office",),
    row_checks=(RowCheck(("green_from", "amber_from", "higher_is_better"),
                         "green_from must be on the better side of amber_from",
                         _bands_out_of_order),),
    example_rows=(
        "appointments_kept,,90,80,true",
        "vacancy_rate,ASH,15,25,false",
    ),
))

# The order to load a full set of extracts in: every table after the ones it refers to.
LOAD_ORDER: tuple[str, ...] = tuple(FORMATS)


def get(table: str) -> ExtractFormat:
    """The format of table; KeyError naming the valid tables otherwise."""
    try:
        return FORMATS[table]
    except KeyError:
        raise KeyError(f"No extract format called {table!r}; choose one of: "
                       + ", ".join(FORMATS)) from None
