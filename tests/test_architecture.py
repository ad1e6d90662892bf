"""The architecture contracts of docs/ARCHITECTURE.md, checked on every import statement
(module level and inside functions) of dashboard/, queries/, pages/ and streamlit_app.py.

- Layers, lowest first: a package imports only its own package and lower layers; packages
  on the same layer do not import each other.
- Only dashboard/app/, pages/ and streamlit_app.py import streamlit.
- Module size: no module of dashboard/ or queries/ over 500 lines, no page over 200.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Lowest first. Each entry is one layer; a tuple holds peers that must not import each other.
LAYERS: list[tuple[str, ...]] = [
    ("dashboard.core",),
    ("dashboard.stats",),
    ("dashboard.data", "dashboard.hmip"),
    ("dashboard.access",),
    ("dashboard.ingest",),
    ("queries",),
    # statistics stored when the data change: need queries' monthly figures, and every
    # write (commands, demo, import front ends, audit page) calls them
    ("dashboard.precompute",),
    ("dashboard.commands",),
    ("dashboard.demo",),
    ("dashboard.app", "dashboard.cli"),
    ("dashboard.__main__", "pages", "streamlit_app"),
]
RANK = {unit: i for i, layer in enumerate(LAYERS) for unit in layer}
STREAMLIT_ALLOWED = ("dashboard.app", "pages", "streamlit_app")
MAX_MODULE_LINES = 500
MAX_PAGE_LINES = 200


def _source_files() -> list[Path]:
    files = [*ROOT.glob("dashboard/**/*.py"), *ROOT.glob("queries/**/*.py")]
    files += [*ROOT.glob("pages/*.py"), ROOT / "streamlit_app.py"]
    return sorted(files)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def unit_of(module: str) -> str | None:
    """The layer unit a dotted module belongs to (None: outside the project)."""
    best = None
    for unit in RANK:
        if module == unit or module.startswith(unit + "."):
            if best is None or len(unit) > len(best):
                best = unit
    return best


def _imports(path: Path, name: str | None = None) -> list[tuple[int, str]]:
    """(line, absolute module) for every import in the file, relative ones resolved."""
    tree = ast.parse(path.read_text(), filename=str(path))
    name = name or _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            # "from dashboard import app" names a package too
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


def _layer_violations(files: list[tuple[Path, str]] | None = None) -> list[str]:
    problems = []
    for path, name in files or [(p, _module_name(p)) for p in _source_files()]:
        here = unit_of(name)
        if here is None:
            continue
        for line, module in _imports(path, name):
            there = unit_of(module)
            if there is None or there == here:
                continue
            if RANK[there] >= RANK[here]:
                problems.append(f"{path.name}:{line} ({here}) imports {module} ({there})")
    return problems


def test_no_package_imports_a_higher_or_peer_layer():
    assert _layer_violations() == []


def test_only_the_app_and_pages_import_streamlit():
    problems = []
    for path in _source_files():
        name = _module_name(path)
        if any(name == a or name.startswith(a + ".") for a in STREAMLIT_ALLOWED):
            continue
        for line, module in _imports(path):
            if module == "streamlit" or module.startswith("streamlit."):
                problems.append(f"{path.relative_to(ROOT)}:{line}")
    assert problems == []


def test_queries_never_import_the_app():
    problems = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in ROOT.glob("queries/**/*.py")
        for line, module in _imports(path)
        if module.startswith("dashboard.app")
    ]
    assert problems == []


def test_every_package_of_dashboard_is_in_a_layer():
    packages = {
        f"dashboard.{p.name}" for p in (ROOT / "dashboard").iterdir()
        if p.is_dir() and (p / "__init__.py").exists()
    }
    assert packages <= set(RANK), sorted(packages - set(RANK))
    flat = sorted(p.name for p in (ROOT / "dashboard").glob("*.py"))
    assert flat == ["__init__.py", "__main__.py"]


def test_modules_stay_small():
    too_big = []
    for path in _source_files():
        limit = MAX_PAGE_LINES if path.parent.name == "pages" else MAX_MODULE_LINES
        if path.name == "streamlit_app.py":
            limit = MAX_PAGE_LINES
        lines = len(path.read_text().splitlines())
        if lines > limit:
            too_big.append(f"{path.relative_to(ROOT)} ({lines} > {limit})")
    assert too_big == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from dashboard.app import ui\n", "dashboard.app"),
        ("import streamlit as st\n", "streamlit"),
        ("def f():\n    from dashboard.demo import demo_data\n", "dashboard.demo"),
    ],
)
def test_the_checker_sees_imports_anywhere(tmp_path, source, expected):
    """The checker is not blind: a query module importing the app or the demo (at module
    level or inside a function) is a violation."""
    path = tmp_path / "probe.py"
    path.write_text(source)
    assert any(m.startswith(expected) for _, m in _imports(path, "queries.probe"))
    if expected.startswith("dashboard"):
        violations = _layer_violations([(path, "queries.probe")])
        assert violations and expected in violations[0]
