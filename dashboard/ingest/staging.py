"""The staging file: a temporary SQLite file holding every problem and every key seen in
the checking pass, and the writes the planning pass prepares, so memory stays bounded
whatever the file's size and the database's write transaction stays short."""

from __future__ import annotations

import os
import pickle
import re
import sqlite3
import tempfile
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dashboard.core.spreadsheet_safe import SafeWriter
from dashboard.ingest.format_spec import ExtractFormat
from dashboard.ingest.report import Problem, show_value

MAX_PROBLEMS_SHOWN = 1_000


@lru_cache(maxsize=8192)  # messages repeat (a flood of one duplicate key): parse once
def problem_kind(message: str) -> str:
    """A problem's message with its particulars (quoted values, numbers) replaced by '…',
    so problems of one kind group together: 'is 5,000 characters long' -> 'is … long'."""
    return re.sub(r"'[^']*'|\d[\d,.]*", "…", message)


class Staging:
    """A temporary SQLite file holding every problem and every key seen in pass 1, and
    the planned writes of pass 2 (so the database's write transaction stays short)."""

    def __init__(self) -> None:
        self.dir = tempfile.TemporaryDirectory(prefix="dashboard-import-")
        self.db = sqlite3.connect(os.path.join(self.dir.name, "staging.sqlite"))
        self.db.create_function("problem_kind", 1, problem_kind, deterministic=True)
        self.db.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
            "CREATE TABLE problem (seq INTEGER PRIMARY KEY, row INTEGER, col TEXT,"
            " value TEXT, message TEXT, kind TEXT);"
            "CREATE TABLE seen (kind TEXT, key TEXT, row INTEGER);"
            "CREATE TABLE plan (seq INTEGER PRIMARY KEY, batch BLOB);")

    def add_problems(self, problems: list[Problem] | pd.DataFrame) -> None:
        if isinstance(problems, pd.DataFrame):
            rows = list(problems[["row", "column", "value", "message"]].itertuples(
                index=False, name=None))
            rows = [(int(r), c, v, m) for r, c, v, m in rows]
        else:
            rows = [(p.row, p.column, p.value, p.message) for p in problems]
        self.db.executemany("INSERT INTO problem (row, col, value, message, kind) VALUES "
                            "(?, ?, ?, ?, problem_kind(?4))", rows)

    def add_keys(self, kind: str, keys: pd.Series, rows: np.ndarray) -> None:
        mask = keys.notna().to_numpy()
        self.db.executemany("INSERT INTO seen VALUES (?, ?, ?)",
                            zip([kind] * int(mask.sum()), keys[mask], rows[mask].tolist(),
                                strict=True))

    def flag_duplicates(self, fmt: ExtractFormat) -> None:
        """One problem per row whose key (or unique value) another row repeats, naming at
        most five of the others: linear in the rows, however many share one key."""
        self.db.execute("CREATE INDEX seen_key ON seen (kind, key, row)")
        dup = self.db.execute(
            "SELECT s.kind, s.key, s.row FROM seen s JOIN (SELECT kind, key FROM seen "
            "GROUP BY kind, key HAVING COUNT(*) > 1) d ON d.kind = s.kind AND d.key = s.key "
            "ORDER BY s.kind, s.key, s.row")
        group: tuple[str, str] | None = None
        rows: list[int] = []
        out: list[Problem] = []

        def emit() -> None:
            kind, key = group
            shown = show_value(key.replace("\x1f", ", "))
            what = "key" if kind == "+".join(fmt.natural_key) else "value"
            head = rows[:6]  # enough to name five others of any row
            for row in rows:
                others = [r for r in head if r != row][:5]
                more = len(rows) - 1 - len(others)
                listed = ", ".join(str(r) for r in others) + (
                    f" and {more:,} more" if more > 0 else "")
                out.append(Problem(row, kind, shown,
                                   f"duplicate {what} in the file: also on row(s) {listed}"))
            if len(out) >= 50_000:
                self.add_problems(out)
                out.clear()

        for kind, key, row in dup:
            if (kind, key) != group:
                if group is not None:
                    emit()
                group, rows = (kind, key), []
            rows.append(row)
        if group is not None:
            emit()
        self.add_problems(out)

    def problem_count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM problem").fetchone()[0]

    def rejected_count(self, header_row: int) -> int:
        return self.db.execute("SELECT COUNT(DISTINCT row) FROM problem WHERE row > ?",
                               (header_row,)).fetchone()[0]

    def first_problems(self, per_kind: int, limit: int = MAX_PROBLEMS_SHOWN
                       ) -> list[Problem]:
        """The first per_kind problems of each kind (by column and kind), at most limit in
        all, whole-file problems first, then by row."""
        self.db.execute("CREATE INDEX IF NOT EXISTS problem_kind ON problem (col, kind, "
                        "row, seq)")
        cur = self.db.execute(
            "SELECT row, col, value, message FROM (SELECT *, ROW_NUMBER() OVER (PARTITION "
            "BY col, kind ORDER BY row IS NOT NULL, row, seq) AS n FROM problem) WHERE n <= ? "
            "ORDER BY row IS NOT NULL, row, seq LIMIT ?", (per_kind, limit))
        return [Problem(*r) for r in cur]

    def kinds(self) -> pd.DataFrame:
        """Columns: column, problem (the kind), count, rows (the first few row numbers)."""
        cur = self.db.execute(
            "SELECT col, kind, COUNT(*), MIN(message) FROM problem GROUP BY col, kind "
            "ORDER BY COUNT(*) DESC, col, kind")
        out = []
        for col, kind, count, example in cur:
            first = [r for (r,) in self.db.execute(
                "SELECT row FROM problem WHERE col = ? AND kind = ? AND row IS NOT NULL "
                "ORDER BY row LIMIT 5", (col, kind))]
            out.append({"column": col, "problem": kind, "example": example, "count": count,
                        "first_rows": ", ".join(str(r) for r in first)})
        return pd.DataFrame(out, columns=["column", "problem", "example", "count",
                                          "first_rows"])

    def write_problems(self, path: Path, file_name: str) -> None:
        """Every problem, streamed to a CSV file (file, row, column, value, problem)."""
        with open(path, "w", newline="", encoding="utf-8-sig") as fh:
            writer = SafeWriter(fh)
            writer.writerow(["file", "row", "column", "value", "problem"])
            cur = self.db.execute("SELECT row, col, value, message FROM problem "
                                  "ORDER BY row IS NOT NULL, row, seq")
            while batch := cur.fetchmany(10_000):
                writer.writerows((file_name, "" if r is None else r, c, v, m)
                                 for r, c, v, m in batch)

    def problems_between(self, first: int, last: int) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        cur = self.db.execute("SELECT row, col, message FROM problem WHERE row BETWEEN ? AND ? "
                              "ORDER BY row, seq", (first, last))
        for row, col, message in cur:
            out.setdefault(row, []).append(f"{col}: {message}" if col else message)
        return out

    def add_plan(self, batch: Any) -> None:
        """Keep one chunk's planned inserts and updates until the write transaction."""
        self.db.execute("INSERT INTO plan (batch) VALUES (?)",
                        (pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL),))

    def plans(self) -> Iterator[Any]:
        """The planned chunks in the order they were made (our own file, not user input)."""
        last = 0
        while True:
            row = self.db.execute("SELECT seq, batch FROM plan WHERE seq > ? ORDER BY seq "
                                  "LIMIT 1", (last,)).fetchone()
            if row is None:
                return
            last = row[0]
            yield pickle.loads(row[1])  # noqa: S301 - written by this process just before

    def close(self) -> None:
        self.db.close()
        self.dir.cleanup()
