"""The dependency audit (scripts/audit_deps.py; issue 20 item 7, issue 19 item 7): it fails
on a known vulnerability and, unlike pip-audit against this package index, fails when it
could not check a package. No network here: the index is replaced by recorded answers."""

from __future__ import annotations

import importlib.util
import io
import json
import sys
from datetime import date, timedelta

import pytest

from dashboard.core.config import PROJECT_ROOT

spec = importlib.util.spec_from_file_location("audit_deps", PROJECT_ROOT / "scripts" /
                                              "audit_deps.py")
audit_deps = importlib.util.module_from_spec(spec)
sys.modules["audit_deps"] = audit_deps  # dataclasses look their module up there
spec.loader.exec_module(audit_deps)

TODAY = date(2026, 12, 1)
# PyPI's project JSON for pycrypto (latest 2.6.1), as the index here serves it
PYCRYPTO = {"info": {"version": "2.6.1"}, "vulnerabilities": [
    {"id": "PYSEC-2018-97", "aliases": ["CVE-2018-6594"], "fixed_in": [],
     "summary": "ElGamal key generation", "withdrawn": None}]}


def project(version: str, vulns=()) -> dict:
    return {"info": {"version": version}, "vulnerabilities": list(vulns)}


def run(packages, answers, snapshot=None):
    def fetch(name):
        answer = answers[name]
        if isinstance(answer, Exception):
            raise answer
        return answer
    findings = audit_deps.audit(packages, snapshot or {}, fetch=fetch, today=TODAY)
    out = io.StringIO()
    return audit_deps.report(findings, out), out.getvalue()


def test_a_known_vulnerability_fails_the_audit():
    status, text = run({"pycrypto": "2.6.1"}, {"pycrypto": PYCRYPTO})
    assert status == 1
    assert "VULNERABLE pycrypto==2.6.1: PYSEC-2018-97 (fixed in no release)" in text


def test_withdrawn_advisories_do_not_count():
    withdrawn = {**PYCRYPTO["vulnerabilities"][0], "withdrawn": "2026-01-01"}
    status, _ = run({"pycrypto": "2.6.1"}, {"pycrypto": project("2.6.1", [withdrawn])})
    assert status == 0


def test_an_unreachable_index_fails_loudly_instead_of_passing():
    """pip-audit here: "not found on PyPI and could not be audited" for all 62 packages,
    then "No known vulnerabilities found" and exit 0."""
    status, text = run({"jinja2": "3.1.6"}, {"jinja2": OSError("no route")})
    assert status == 1
    assert "NOT CHECKED jinja2==3.1.6: index unreachable (OSError)" in text
    assert "1 not checked" in text


def test_data_for_another_release_is_not_a_check():
    status, text = run({"pyyaml": "6.0.3"}, {"pyyaml": project("6.0.4")})
    assert status == 1 and "data is for 6.0.4, not 6.0.3" in text


def test_a_fresh_snapshot_entry_counts_and_a_stale_one_does_not():
    entry = {"version": "6.0.3", "advisories": [], "checked_at": TODAY.isoformat()}
    snap = {"packages": {"pyyaml": entry}}
    assert run({"pyyaml": "6.0.3"}, {"pyyaml": OSError("down")}, snap)[0] == 0
    old = TODAY - timedelta(days=audit_deps.MAX_AGE_DAYS + 1)
    snap = {"packages": {"pyyaml": {**entry, "checked_at": old.isoformat()}}}
    status, text = run({"pyyaml": "6.0.3"}, {"pyyaml": OSError("down")}, snap)
    assert status == 1 and "days old" in text
    other = {"packages": {"pyyaml": {**entry, "version": "6.0.2"}}}
    assert run({"pyyaml": "6.0.3"}, {"pyyaml": OSError("down")}, other)[0] == 1


def test_a_snapshot_entry_with_an_advisory_fails():
    snap = {"packages": {"numpy": {"version": "2.4.6", "checked_at": TODAY.isoformat(),
                                   "advisories": [{"id": "PYSEC-X", "fixed_in": ["2.4.7"]}]}}}
    status, text = run({"numpy": "2.4.6"}, {"numpy": project("2.5.5")}, snap)
    assert status == 1 and "PYSEC-X (fixed in 2.4.7)" in text


def test_every_pinned_and_transitive_package_is_audited():
    closure = audit_deps.installed_closure(audit_deps.pinned())
    for direct in ("streamlit", "sqlalchemy", "argon2-cffi", "pytest", "playwright"):
        assert direct in closure
    # transitive, and through an extra (psycopg[binary])
    for indirect in ("jinja2", "tornado" if "tornado" in closure else "starlette",
                     "argon2-cffi-bindings", "psycopg-binary"):
        assert indirect in closure
    assert "not installed" not in closure.values()


def test_the_vendored_snapshot_is_well_formed_and_dated():
    snap = json.loads(audit_deps.SNAPSHOT.read_text())["packages"]
    assert len(snap) >= 60
    for name, entry in snap.items():
        assert set(entry) >= {"version", "advisories", "checked_at"}, name
        date.fromisoformat(entry["checked_at"])
        assert isinstance(entry["advisories"], list)


@pytest.mark.parametrize("line", ["-r requirements.txt", "pytest==9.2.0"])
def test_requirement_files_are_read(line):
    assert line in (PROJECT_ROOT / "requirements-dev.txt").read_text()
