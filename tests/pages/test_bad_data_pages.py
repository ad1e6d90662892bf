"""No page is poisoned by bad data that slipped past the importer by another route (an old
import, a direct database edit): each page shows what it can and says what it left out.

Audit answers with key questions the scheme does not have (2.1d to 2.1g, as in issue 19)
and under the wrong standard, a tier outside the documented set and formula-like office
and prison names are written straight into a copy of the demo database; then every page
of the quality lead and of the administrator is opened."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from dashboard.access.scope import ROLE_PAGES
from tests.pages.apphelp import open_app

BAD_CODES = ("2.1d", "2.1e", "2.1f", "2.1g")


@pytest.fixture(scope="module")
def poisoned(demo_sqlite_url, tmp_path_factory) -> tuple[str, int]:
    """(url of the poisoned copy, answers added with codes not in the scheme)."""
    path = tmp_path_factory.mktemp("poisoned") / "demo.sqlite"
    path.write_bytes(Path(demo_sqlite_url.split("///", 1)[1]).read_bytes())
    url = f"sqlite:///{path}"
    eng = create_engine(url)
    with eng.begin() as conn:
        audits = conn.execute(text(
            "SELECT id FROM case_audit WHERE status = 'complete' AND scheme = 'crc_2018' "
            "ORDER BY audit_date DESC, id LIMIT 10")).scalars().all()
        assert audits, "the demo data has complete audits"
        added = 0
        for audit_id in audits:
            for code in BAD_CODES:
                conn.execute(text("INSERT INTO audit_answer (audit_id, standard, key_question,"
                                  " answer) VALUES (:a, '2.1', :k, 'not_sufficient')"),
                             {"a": audit_id, "k": code})
                added += 1
        conn.execute(text("UPDATE audit_answer SET standard = '9.9' WHERE id = (SELECT "
                          "MIN(id) FROM audit_answer WHERE key_question = '2.1a' AND "
                          "audit_id = :a)"), {"a": audits[0]})
        conn.execute(text("UPDATE person_on_probation SET tier = 'Z' WHERE id IN (SELECT id "
                          "FROM person_on_probation ORDER BY id LIMIT 5)"))
        conn.execute(text("UPDATE office SET name = '=HYPERLINK(\"http://evil.example/\","
                          "\"x\")' WHERE id = (SELECT MIN(id) FROM office)"))
        conn.execute(text("UPDATE custody_release SET prison = '@SUM(1+1)'"))
    eng.dispose()
    return url, added + 1


def _page_failed(at) -> list[str]:
    return [e.value for e in at.error if "went wrong" in e.value or "could not" in e.value]


@pytest.mark.parametrize("user", ["quality.lead", "admin"])
def test_every_page_opens_on_bad_data(poisoned, user):
    url, _ = poisoned
    role = {"quality.lead": "quality_lead", "admin": "admin"}[user]
    for key in sorted(ROLE_PAGES[role]):
        at = open_app(url, page=f"pages/{key}.py", user=user)
        assert not at.exception, (key, at.exception)
        assert _page_failed(at) == [], (key, _page_failed(at))


def test_readiness_rates_the_rest_and_names_what_it_left_out(poisoned):
    url, left_out = poisoned
    at = open_app(url, page="pages/readiness.py", user="quality.lead")
    assert not at.exception
    warnings = [w.value for w in at.warning if "left out of these ratings" in w.value]
    assert len(warnings) == 1, [w.value for w in at.warning]
    assert warnings[0].startswith(f"{left_out:,} answer(s)")
    for code in BAD_CODES:
        assert f"`{code}` under `2.1`" in warnings[0]
    assert "`2.1a` under `9.9`" in warnings[0]
    shown = [df.value for df in at.dataframe]
    for frame in shown:
        if "key_question" in frame.columns:
            assert not set(frame["key_question"]) & set(BAD_CODES)
