"""A small dataset whose every figure can be worked out by hand (see EXPECTED comments in
tests/queries/test_handmade.py). Period of interest: September and October 2026."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine

from dashboard.core.workdays import calendar_rows
from dashboard.data import reference, schema

D = date


def load(engine: Engine) -> None:
    with engine.begin() as conn:
        def put(table, rows):
            conn.execute(table.insert(), rows)

        put(schema.calendar_day, calendar_rows(D(2024, 1, 1), D(2027, 12, 31)))
        put(schema.area, [{"id": 1, "code": "KENT", "name": "Kent"},
                          {"id": 2, "code": "SURREY", "name": "Surrey"}])
        put(schema.office, [{"id": 1, "code": "ASH", "name": "Ashford", "area_id": 1},
                            {"id": 2, "code": "CHA", "name": "Chatham", "area_id": 1},
                            {"id": 3, "code": "GUI", "name": "Guildford", "area_id": 2}])
        put(schema.target, [
            {"measure": m, "office_id": None, "green_from": g, "amber_from": a,
             "higher_is_better": h}
            for m, (g, a, h) in reference.DEFAULT_TARGETS.items()])
        est = []
        for month in (D(2026, 9, 1), D(2026, 10, 1)):
            est += [{"office_id": 1, "grade": "PO", "month": month, "budgeted_fte": 10.0},
                    {"office_id": 1, "grade": "PSO", "month": month, "budgeted_fte": 5.0},
                    {"office_id": 2, "grade": "PO", "month": month, "budgeted_fte": 4.0},
                    {"office_id": 3, "grade": "PO", "month": month, "budgeted_fte": 2.0}]
        put(schema.establishment, est)
        staff = []

        def member(office_id, grade, fte=1.0, start=None, end=None):
            start = start or D(2020, 1, 6)
            staff.append({"id": len(staff) + 1, "staff_ref": f"H{len(staff) + 1:03d}",
                          "office_id": office_id, "grade": grade, "fte": fte,
                          "start_date": start, "end_date": end})

        for _ in range(7):
            member(1, "PO")                      # ids 1-7
        member(1, "PO", end=D(2026, 9, 15))      # id 8: in post on 1 Sep, gone by 1 Oct
        for _ in range(4):
            member(1, "PSO")                     # ids 9-12
        member(1, "PSO", fte=0.5)                # id 13
        for _ in range(3):
            member(2, "PO")                      # ids 14-16
        member(2, "PO", start=D(2026, 10, 1))    # id 17: starts on 1 Oct (counts in Oct)
        for _ in range(3):
            member(3, "PO")                      # ids 18-20: over establishment (2)
        put(schema.staff_member, staff)
        put(schema.staff_absence, [
            {"staff_member_id": 1, "start_date": D(2026, 9, 7), "end_date": D(2026, 9, 11),
             "working_days_lost": 5.0, "reason": "sickness"},
            {"staff_member_id": 18, "start_date": D(2026, 10, 1), "end_date": D(2026, 10, 2),
             "working_days_lost": 2.0, "reason": "sickness"},
            {"staff_member_id": 2, "start_date": D(2026, 8, 1), "end_date": D(2026, 8, 5),
             "working_days_lost": 3.0, "reason": "sickness"},
        ])

        def person(pid, office_id, sentence, start, end, tier, rosh="medium", gender="male"):
            return {"id": pid, "crn": f"H{pid:06d}", "office_id": office_id, "officer_id": None,
                    "sentence_type": sentence, "start_date": start, "end_date": end,
                    "tier": tier, "rosh_level": rosh, "gender": gender,
                    "routeway_needs": "Home"}

        put(schema.person, [
            person(1, 1, "community_order", D(2026, 1, 10), D(2027, 1, 9), "A"),
            person(2, 1, "licence", D(2026, 9, 20), D(2027, 3, 19), "B"),
            person(3, 1, "suspended_sentence_order", D(2025, 5, 1), D(2026, 9, 15), "D"),
            person(4, 2, "community_order", D(2026, 6, 1), D(2027, 5, 31), "C"),
            person(5, 3, "licence", D(2026, 10, 5), D(2027, 4, 4), "A", gender="female"),
            person(6, 3, "community_order", D(2026, 2, 1), D(2027, 1, 31), "B"),
            person(7, 2, "licence", D(2026, 9, 1), D(2027, 2, 28), "C"),
        ])
        def appointment(pid, day, outcome, enforced=False):
            return {"person_id": pid, "appointment_date": day, "outcome": outcome,
                    "enforcement_action": enforced}

        put(schema.appointment, [
            appointment(1, D(2026, 9, 3), "kept"),
            appointment(1, D(2026, 9, 17), "failed", enforced=True),
            appointment(1, D(2026, 10, 1), "kept"),
            appointment(1, D(2026, 10, 15), "acceptable_absence"),
            appointment(4, D(2026, 10, 2), "kept"),
            appointment(5, D(2026, 10, 6), "failed"),
            appointment(6, D(2026, 8, 20), "kept"),
        ])
        put(schema.upw_order, [
            {"id": 1, "person_id": 1, "sentence_date": D(2026, 1, 12), "hours_ordered": 60,
             "completed_date": None, "terminated_date": None},
            {"id": 2, "person_id": 4, "sentence_date": D(2026, 6, 1), "hours_ordered": 40,
             "completed_date": D(2026, 10, 8), "terminated_date": None},
            {"id": 3, "person_id": 6, "sentence_date": D(2025, 9, 15), "hours_ordered": 80,
             "completed_date": D(2026, 9, 10), "terminated_date": None},
            {"id": 4, "person_id": 3, "sentence_date": D(2025, 10, 20), "hours_ordered": 120,
             "completed_date": None, "terminated_date": D(2026, 9, 15)},
            {"id": 5, "person_id": 4, "sentence_date": D(2026, 10, 5), "hours_ordered": 50,
             "completed_date": None, "terminated_date": None},
        ])
        sessions = [
            (1, D(2026, 1, 20), True, 7.0), (1, D(2026, 9, 5), True, 7.0),
            (1, D(2026, 10, 10), True, 7.0), (1, D(2026, 10, 20), False, 0.0),
            (2, D(2026, 6, 15), True, 7.0), (2, D(2026, 9, 10), True, 7.0),
            (2, D(2026, 9, 17), True, 7.0), (2, D(2026, 9, 24), True, 7.0),
            (2, D(2026, 10, 1), True, 7.0), (2, D(2026, 10, 8), True, 5.0),
            (4, D(2025, 10, 27), True, 7.0), (4, D(2025, 11, 3), True, 7.0),
            (5, D(2026, 10, 13), True, 7.0),
        ]
        sessions += [(3, d, True, 10.0) for d in (
            D(2025, 9, 22), D(2025, 10, 20), D(2025, 11, 17), D(2025, 12, 15),
            D(2026, 1, 12), D(2026, 3, 9), D(2026, 6, 8), D(2026, 9, 10))]
        put(schema.upw_session, [
            {"order_id": o, "session_date": d, "attended": a, "hours_worked": h}
            for o, d, a, h in sessions])
        put(schema.custody_release, [
            {"person_id": 2, "prison": "HMP Elmley", "reception_date": D(2026, 3, 2),
             "screening_date": D(2026, 3, 9), "plan_completed_date": D(2026, 9, 10),
             "pre_release_contact_date": D(2026, 6, 20), "release_date": D(2026, 9, 20),
             "accommodation_on_release": "settled", "first_appointment_kept": True},
            {"person_id": 5, "prison": "HMP Send", "reception_date": D(2026, 8, 3),
             "screening_date": D(2026, 8, 11), "plan_completed_date": None,
             "pre_release_contact_date": D(2026, 8, 20), "release_date": D(2026, 10, 5),
             "accommodation_on_release": "no_fixed_abode", "first_appointment_kept": False},
            {"person_id": 7, "prison": "HMP Rochester", "reception_date": D(2025, 12, 1),
             "screening_date": None, "plan_completed_date": D(2026, 9, 3),
             "pre_release_contact_date": D(2026, 8, 1), "release_date": D(2026, 9, 1),
             "accommodation_on_release": "temporary", "first_appointment_kept": None},
        ])
        put(schema.case_audit, [
            {"id": 1, "person_id": 1, "auditor": "auditor.kent1", "audit_date": D(2026, 9, 15),
             "status": "complete", "scheme": "crc_2018"},
            {"id": 2, "person_id": 4, "auditor": "auditor.kent1", "audit_date": D(2026, 10, 10),
             "status": "complete", "scheme": "crc_2018"},
            {"id": 3, "person_id": 6, "auditor": "auditor.sur1", "audit_date": D(2026, 10, 12),
             "status": "draft", "scheme": "crc_2018"},
            {"id": 4, "person_id": 6, "auditor": "auditor.sur1", "audit_date": D(2026, 8, 1),
             "status": "complete", "scheme": "crc_2018"},
        ])
        answers = [(1, "2.1a", "sufficient"), (1, "2.1b", "not_sufficient"),
                   (1, "2.1c", "not_applicable"), (2, "2.1a", "sufficient"),
                   (2, "2.1b", "sufficient"), (2, "2.1c", "not_sufficient"),
                   (3, "2.1a", "not_sufficient"), (4, "2.1a", "not_sufficient")]
        put(schema.audit_answer, [
            {"audit_id": a, "standard": q[:3], "key_question": q, "answer": ans,
             "reason": "Reason given" if ans == "not_sufficient" else None}
            for a, q, ans in answers])
        put(schema.dataset_info, [
            {"key": "data_as_of", "value": "2026-10-31"},
            {"key": "history_start", "value": "2026-09-01"},
            {"key": "mode", "value": "test"},
        ])
        if conn.dialect.name == "postgresql":
            from dashboard.demo.demo_data import reset_sequences

            reset_sequences(conn)
