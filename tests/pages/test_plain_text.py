"""Nothing user-supplied renders as Markdown (issue 20, item 5): link and image payloads in
URL parameters, a display name, office and area names, a sample name and a file name are
shown as literal text. Each page's Markdown is rendered with an independent CommonMark
parser (markdown-it-py) and must hold no link and no image."""

from __future__ import annotations

import html
import shutil
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from sqlalchemy import create_engine, select, update

from dashboard.core.plain_text import plain
from dashboard.data.schema import app_user, area, case_audit, case_sample, office
from tests.pages.apphelp import open_app

LINK = "[Sign in again](//evil.example/login)"
IMAGE = "![x](https://evil.example/t.png)"
PAYLOADS = [
    LINK,
    IMAGE,
    "<img src=x onerror=alert(1)>",
    "https://evil.example/a",
    "**bold** _em_ `code` :red[red] $x^2$",
    "# heading\n- list item\n> quote",
    "a\\[b](c)",
]
MD = MarkdownIt("commonmark", {"html": False, "linkify": False})


def rendered(markdown_source: str) -> str:
    return MD.render(markdown_source)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_plain_renders_literally(payload):
    out = rendered(plain(payload))
    assert "<a " not in out and "<img" not in out and "<strong" not in out
    assert "<h1" not in out and "<li" not in out and "<code" not in out
    text = html.unescape(out.removeprefix("<p>").removesuffix("</p>\n"))
    assert text == payload.replace("\n", " ")


def test_plain_folds_line_breaks_and_cuts_before_escaping():
    assert plain("ab\ncd", max_chars=3) == "ab "
    assert plain(None) == ""
    assert plain("x" * 50, max_chars=10) == "x" * 10


def markdown_on_page(at) -> list[str]:
    """The Markdown source of every text element Streamlit renders as Markdown."""
    out: list[str] = []
    for kind in ("markdown", "caption", "title", "header", "subheader", "info", "warning",
                 "error", "success"):
        out += [str(e.value) for e in getattr(at, kind)]
    for kind in ("info", "warning", "error", "success"):  # alerts keep text in .body
        out += [str(getattr(e.proto, "body", "")) for e in getattr(at, kind)]
    return out


def assert_inert(at, payload: str) -> None:
    """The payload is on the page as text, and no Markdown on the page links or loads."""
    sources = markdown_on_page(at)
    shown = [s for s in sources if plain(payload) in s]
    assert shown, f"payload not shown; page markdown: {sources}"
    for source in sources:
        out = rendered(source)
        assert "evil.example" not in "".join(
            part for part in out.split('"') if part.startswith(("http", "//"))), out
        assert "<a " not in out and "<img" not in out, out


@pytest.fixture()
def hostile_url(demo_sqlite_url, tmp_path) -> str:
    """A copy of the demo database whose names carry a link payload."""
    src = Path(demo_sqlite_url.removeprefix("sqlite:///"))
    dst = tmp_path / "hostile.sqlite"
    shutil.copy(src, dst)
    url = f"sqlite:///{dst}"
    eng = create_engine(url)
    with eng.begin() as conn:
        conn.execute(update(app_user).where(app_user.c.username == "chief.exec")
                     .values(display_name=LINK))
        conn.execute(update(app_user).where(app_user.c.username == "am.kent")
                     .values(display_name=IMAGE))
        conn.execute(update(office).where(office.c.code == "ASH").values(name=LINK))
        conn.execute(update(area).where(area.c.code == "KENT").values(name=IMAGE))
    eng.dispose()
    return url


def test_display_name_is_plain(hostile_url):
    at = open_app(hostile_url, user="chief.exec")
    assert not at.exception
    sidebar = [str(c.value) for c in at.sidebar.caption]
    assert any(plain(LINK) in c for c in sidebar)
    assert all("<a " not in rendered(c) for c in sidebar)


@pytest.mark.parametrize("payload", [LINK, IMAGE])
def test_view_parameter_is_plain(demo_sqlite_url, payload):
    at = open_app(demo_sqlite_url, page="pages/cases.py", params={"view": payload})
    assert not at.exception
    assert_inert(at, payload[:30])


@pytest.mark.parametrize("payload", [LINK, IMAGE])
def test_measure_parameter_is_plain(demo_sqlite_url, payload):
    at = open_app(demo_sqlite_url, page="pages/compare.py", params={"measure": payload})
    assert not at.exception
    assert_inert(at, payload[:40])


@pytest.mark.parametrize("param, payload", [("area", LINK), ("office", IMAGE)])
def test_filter_parameters_are_plain(demo_sqlite_url, param, payload):
    at = open_app(demo_sqlite_url, params={param: payload})
    assert not at.exception
    for source in markdown_on_page(at):
        assert "<a " not in rendered(source) and "<img" not in rendered(source)


def test_office_and_area_names_are_plain(hostile_url):
    at = open_app(hostile_url, page="pages/cases.py", user="am.kent",
                  params={"area": "KENT", "office": "ASH"})
    assert not at.exception
    assert_inert(at, LINK)  # the office name in the "limited to" line
    at = open_app(hostile_url, page="pages/staffing.py", params={"area": "KENT"})
    assert not at.exception
    assert_inert(at, IMAGE)  # the area name in the page's scope line


def test_sample_name_is_plain(hostile_url):
    at = open_app(hostile_url, page="pages/sample.py", user="quality.lead")
    at.text_input(key="smp_name").set_value(LINK)
    at.form_submit_button[0].click().run()
    assert not at.exception
    eng = create_engine(hostile_url)
    with eng.connect() as conn:
        sample_id = conn.execute(select(case_sample.c.id).where(case_sample.c.name == LINK)
                                 ).scalar_one()
        scheme = conn.execute(select(case_audit.c.scheme).where(
            case_audit.c.sample_id == sample_id).distinct()).scalar_one()
    eng.dispose()
    at = open_app(hostile_url, page="pages/readiness.py", user="quality.lead")
    at.selectbox(key="rdy_scheme").set_value(scheme).run()  # the scheme the sample uses
    at.selectbox(key="rdy_basis").set_value(sample_id).run()
    assert not at.exception
    assert_inert(at, LINK)
