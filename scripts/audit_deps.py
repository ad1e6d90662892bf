"""Dependency audit that fails when it could not check a package (issue 20 item 7, 19.7).

    python scripts/audit_deps.py            # check; exit 1 on a known vulnerability or an
                                            # unchecked package
    python scripts/audit_deps.py --refresh  # also rewrite the vendored snapshot

What is audited: every distribution installed for the pins in requirements.txt and
requirements-dev.txt, followed through their own requirements (extras and markers
evaluated), at the installed version.

Where vulnerability data comes from: `pip-audit` asks PyPI's per-version JSON
(/pypi/NAME/VERSION/json), which the package index reachable here does not serve (404), and
then prints "No known vulnerabilities found" having audited nothing. The project JSON
(/pypi/NAME/json) is served, with PyPI's "vulnerabilities" list (OSV data: PYSEC, GHSA,
CVE ids) for the project's latest release. So a package is checked live when the pinned
version is the latest release; otherwise the vendored snapshot security/advisories.json
must hold an entry for that exact version (written by --refresh on a run that could check
it). Anything else is "could not check" and fails the run, loudly, by name.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = (ROOT / "requirements.txt", ROOT / "requirements-dev.txt")
SNAPSHOT = ROOT / "security" / "advisories.json"
INDEX = "https://pypi.org/pypi"
TIMEOUT = 20
MAX_AGE_DAYS = 90  # a snapshot entry older than this no longer counts as checked


@dataclass
class Finding:
    """The audit of one package: checked (by which source) and its advisories."""

    name: str
    version: str
    source: str | None = None  # "live", "snapshot" or None (could not check)
    advisories: list[dict] = field(default_factory=list)
    why_unchecked: str = ""


def pinned(files: Iterable[Path] = REQUIREMENTS) -> list[Requirement]:
    """The requirements named in the requirement files (following -r includes)."""
    out: list[Requirement] = []
    for path in files:
        for line in path.read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            if line.startswith("-r"):
                out += pinned([path.parent / line[2:].strip()])
            elif not line.startswith("-"):
                out.append(Requirement(line))
    return out


def installed_closure(roots: Iterable[Requirement]) -> dict[str, str]:
    """{canonical name: installed version} of the roots and everything they require."""
    env = default_environment()
    found: dict[str, str] = {}
    todo = [(r, frozenset(r.extras)) for r in roots]
    seen: set[tuple[str, frozenset]] = set()
    while todo:
        req, extras = todo.pop()
        name = canonicalize_name(req.name)
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            found.setdefault(name, "not installed")
            continue
        found[name] = dist.version
        for text in dist.requires or []:
            sub = Requirement(text)
            wanted = [{**env, "extra": e} for e in extras] or [{**env, "extra": ""}]
            if sub.marker is None or any(sub.marker.evaluate(w) for w in wanted):
                todo.append((sub, frozenset(sub.extras)))
    return dict(sorted(found.items()))


def fetch_project(name: str) -> dict:
    """PyPI's project JSON for name (raises OSError / ValueError when unreachable)."""
    with urllib.request.urlopen(f"{INDEX}/{name}/json", timeout=TIMEOUT) as response:
        return json.load(response)


def _advisories(vulns: list[dict]) -> list[dict]:
    return [{"id": v.get("id"), "aliases": v.get("aliases", []),
             "fixed_in": v.get("fixed_in", []), "summary": (v.get("summary") or
                                                          v.get("details") or "")[:200]}
            for v in vulns if not v.get("withdrawn")]


def audit(packages: dict[str, str], snapshot: dict,
          fetch: Callable[[str], dict] = fetch_project,
          today: date | None = None) -> list[Finding]:
    """One Finding per package: live when the index's data covers the installed version,
    else from the snapshot entry for that exact version, else unchecked."""
    out = []
    today = today or datetime.now(UTC).date()
    stored = snapshot.get("packages", {})
    for name, version in packages.items():
        finding = Finding(name, version)
        if version == "not installed":
            finding.why_unchecked = "not installed in this environment"
            out.append(finding)
            continue
        try:
            project = fetch(name)
            latest = str(project["info"]["version"])
            if latest == version:
                finding.source = "live"
                finding.advisories = _advisories(project.get("vulnerabilities") or [])
            else:
                finding.why_unchecked = (f"the index's vulnerability data is for {latest}, "
                                         f"not {version}")
        except (OSError, ValueError, KeyError) as exc:
            finding.why_unchecked = f"index unreachable ({type(exc).__name__})"
        entry = stored.get(name, {})
        if finding.source is None and entry.get("version") == version:
            age = (today - date.fromisoformat(entry["checked_at"])).days
            if age <= MAX_AGE_DAYS:
                finding.source = "snapshot"
                finding.advisories = entry["advisories"]
            else:  # a snapshot that is never refreshed must stop counting as a check
                finding.why_unchecked += (f"; its snapshot entry is {age} days old "
                                          f"(more than {MAX_AGE_DAYS})")
        out.append(finding)
    return out


def write_snapshot(findings: list[Finding], path: Path = SNAPSHOT) -> None:
    """Keep what was checked live (and earlier snapshot entries still current)."""
    old = json.loads(path.read_text()).get("packages", {}) if path.exists() else {}
    packages = {f.name: {"version": f.version, "advisories": f.advisories,
                         "checked_at": datetime.now(UTC).date().isoformat()}
                for f in findings if f.source == "live"}
    packages |= {f.name: old[f.name] for f in findings
                 if f.source == "snapshot" and f.name in old}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "source": f"{INDEX}/<name>/json 'vulnerabilities' (PyPI advisory data, OSV format)",
        "packages": dict(sorted(packages.items())),
    }, indent=1, sort_keys=True) + "\n")


def report(findings: list[Finding], out=sys.stdout) -> int:
    """Print the outcome; 0 only when every package was checked and none is vulnerable."""
    vulnerable = [f for f in findings if f.advisories]
    unchecked = [f for f in findings if f.source is None]
    for f in vulnerable:
        ids = ", ".join(f"{a['id']} (fixed in {', '.join(a['fixed_in']) or 'no release'})"
                        for a in f.advisories)
        print(f"VULNERABLE {f.name}=={f.version}: {ids}", file=out)
    for f in unchecked:
        print(f"NOT CHECKED {f.name}=={f.version}: {f.why_unchecked}", file=out)
    for f in findings:
        if f.source == "snapshot":
            print(f"from the snapshot: {f.name}=={f.version}", file=out)
    live = sum(f.source == "live" for f in findings)
    print(f"dependency audit: {len(findings)} packages, {live} checked live, "
          f"{len(findings) - live - len(unchecked)} from the snapshot, {len(unchecked)} not "
          f"checked, {len(vulnerable)} with known vulnerabilities", file=out)
    return 1 if vulnerable or unchecked else 0


def main(argv: list[str] | None = None) -> int:
    """Run the audit (see the module docstring); returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--refresh", action="store_true",
                        help="rewrite security/advisories.json from what was checked live")
    args = parser.parse_args(argv)
    snapshot = json.loads(SNAPSHOT.read_text()) if SNAPSHOT.exists() else {}
    findings = audit(installed_closure(pinned()), snapshot)
    if args.refresh:
        write_snapshot(findings)
    return report(findings)


if __name__ == "__main__":
    if not re.match(r"3\.(1[1-9]|[2-9]\d)", sys.version.split()[0]):
        sys.exit("Python 3.11 or newer is needed.")
    raise SystemExit(main())
