"""What each role can really reach (issue 20, items 3 and 4): every page and every download
of each demo role, checked against the README's role table and against the people each
role may see (computed in plain SQL); downloads are logged exactly once; views are logged
per user; auditors' case opens are logged per case."""

from __future__ import annotations

import ast
import re
import shutil

import pandas as pd
import pytest
from sqlalchemy import create_engine, text

from dashboard.access import audit_log
from dashboard.access.scope import PAGE_KEYS
from dashboard.core.config import PROJECT_ROOT
from dashboard.data import db
from tests.pages.apphelp import open_app, sign_in_as
from tests.pages.test_inspection_pages import MediaSpy

CRN = re.compile(r"\bX\d{10}\b")
ROLE_USERS = {"Chief executive": "chief.exec", "Area manager": "am.kent",
              "Quality lead": "quality.lead", "Auditor": "auditor.ken1", "Admin": "admin"}


def page_titles() -> dict[str, str]:
    """page key -> navigation title, read from the entry file's PAGES table."""
    tree = ast.parse((PROJECT_ROOT / "streamlit_app.py").read_text())
    node = next(n.value for n in tree.body if isinstance(n, ast.Assign)
                and getattr(n.targets[0], "id", None) == "PAGES")
    return {key: title for key, (_section, title, _icon) in ast.literal_eval(node).items()}


def readme_pages() -> dict[str, set[str]]:
    """role -> the page titles the README's role table lists for it."""
    text_ = (PROJECT_ROOT / "README.md").read_text()
    section = text_.split("## Users and roles", 1)[1].split("\n\n", 2)[1]
    out = {}
    for line in section.splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        out[cells[0]] = {t.strip() for t in cells[2].split(",")}
    return out


@pytest.fixture(scope="module")
def url(demo_sqlite_url):
    return demo_sqlite_url


def allowed_crns(url: str, username: str) -> set[str] | None:
    """The CRNs username may see, by plain SQL over the raw rows (None: every person)."""
    eng = create_engine(url)
    with eng.connect() as conn:
        role, area_id = conn.execute(text("SELECT role, area_id FROM app_user WHERE "
                                          "username = :u"), {"u": username}).one()
        if role in ("chief_executive", "quality_lead"):
            found = None
        elif role == "area_manager":
            found = set(conn.execute(text(
                "SELECT p.crn FROM person_on_probation p JOIN office o ON o.id = p.office_id "
                "WHERE o.area_id = :a"), {"a": area_id}).scalars())
        elif role == "auditor":
            found = set(conn.execute(text(
                "SELECT p.crn FROM person_on_probation p JOIN case_audit c ON "
                "c.person_id = p.id WHERE c.auditor = :u"), {"u": username}).scalars())
        else:
            found = set()
    eng.dispose()
    return found


def crns_in(frame: pd.DataFrame) -> set[str]:
    out: set[str] = set()
    for col in frame.columns:
        out |= {m for v in frame[col].tolist() for m in CRN.findall(str(v))}
    return out


def logged_downloads(url: str, username: str) -> int:
    eng = db.make_engine(url)
    with eng.connect() as conn:
        log = audit_log.read_log(conn, username=username, limit=100000)
    eng.dispose()
    return int(log["action"].isin(["download", "export"]).sum())


@pytest.mark.parametrize("role", list(ROLE_USERS))
def test_each_role_reaches_what_the_readme_says_and_no_other_person(url, role, monkeypatch):
    username = ROLE_USERS[role]
    titles = page_titles()
    assert set(titles) == PAGE_KEYS
    spy = MediaSpy(monkeypatch)  # builds every download offered, as a click would
    downloads_before = logged_downloads(url, username)
    at = open_app(url, user=username)
    reached, seen = set(), set()
    for key in sorted(PAGE_KEYS):
        try:
            at.switch_page(f"pages/{key}.py")
        except ValueError:  # not in this role's navigation: unreachable by URL too
            continue
        at.run()
        assert not at.exception, (key, at.exception)
        assert "You do not have access to this page." not in [e.value for e in at.error]
        reached.add(titles[key])
        for frame in at.dataframe:
            seen |= crns_in(frame.value)
    for name, payload in spy.files.items():
        if name.endswith(".csv"):
            seen |= crns_in(pd.DataFrame({"text": payload.decode("utf-8").splitlines()}))
    assert reached == readme_pages()[role]
    allowed = allowed_crns(url, username)
    if allowed is not None:
        assert seen <= allowed, sorted(seen - allowed)[:5]
    if role == "Admin":
        assert not seen
        assert not any(n.endswith(".zip") for n in spy.files)
    # each file built is one audit row (the callable logs; nothing else does)
    assert logged_downloads(url, username) - downloads_before == spy.deferred_builds


def test_a_download_is_logged_once_with_user_rows_and_filters(url):
    eng = db.make_engine(url)
    built = []
    data = audit_log.logged_file(eng, "chief.exec", "cases_x.csv",
                                 lambda: built.append(1) or b"crn\nX0010000001\n", rows=1,
                                 filters={"area": "KENT"})
    before = logged_downloads(url, "chief.exec")
    assert logged_downloads(url, "chief.exec") == before  # offering a file logs nothing
    assert data() == b"crn\nX0010000001\n"
    with eng.connect() as conn:
        row = audit_log.read_log(conn, username="chief.exec", action="download").iloc[0]
    eng.dispose()
    assert (row["target"], row["filters"], row["detail"]) == (
        "cases_x.csv", '{"area": "KENT"}', '{"rows": 1}')
    assert logged_downloads(url, "chief.exec") == before + 1 and built == [1]


def views(url: str, username: str, target: str) -> int:
    eng = db.make_engine(url)
    with eng.connect() as conn:
        log = audit_log.read_log(conn, username=username, action="view_person_rows",
                                 limit=100000)
    eng.dispose()
    return int((log["target"] == target).sum())


def test_views_are_logged_per_user_in_one_tab(url):
    """Before: after am.kent signed out and chief.exec signed in in the same tab, chief.exec's
    case view was not logged (the logged-views set was not keyed by user)."""
    at = open_app(url, page="pages/cases.py", user="am.kent")
    assert at.dataframe
    chief_before = views(url, "chief.exec", "cases:caseload")
    at.button(key="sign_out").click().run()
    sign_in_as(at, url, "chief.exec")
    at.run()
    at.switch_page("pages/cases.py").run()
    assert at.dataframe
    assert views(url, "chief.exec", "cases:caseload") == chief_before + 1
    at.run()  # a rerun showing the same rows is not a new view
    assert views(url, "chief.exec", "cases:caseload") == chief_before + 1


def test_auditor_case_opens_are_logged_per_case(demo_sqlite_url, tmp_path):
    """Before: one "audit:assigned" row, and switching between cases logged nothing."""
    url = f"sqlite:///{tmp_path / 'audits.sqlite'}"
    shutil.copy(demo_sqlite_url.removeprefix("sqlite:///"), url.removeprefix("sqlite:///"))
    lead = open_app(url, page="pages/sample.py", user="quality.lead")
    lead.text_input(key="smp_name").set_value("Audit trail sample")
    lead.form_submit_button[0].click().run()
    assert not lead.exception
    eng = create_engine(url)
    with eng.connect() as conn:
        assigned = conn.execute(text(
            "SELECT id FROM case_audit WHERE auditor = :u AND sample_id IS NOT NULL "
            "ORDER BY id"), {"u": "auditor.ken1"}).scalars().all()
    eng.dispose()
    assert len(assigned) >= 2
    first, second = assigned[0], assigned[1]
    at = open_app(url, page="pages/audit.py", user="auditor.ken1")
    for pick in (first, second, first):
        at.selectbox(key="aud_pick_0").set_value(pick).run()  # the picker key of a fresh session
        assert not at.exception
    assert views(url, "auditor.ken1", f"audit:{first}") == 1
    assert views(url, "auditor.ken1", f"audit:{second}") == 1
