"""Pandas computations over raw table rows shared by the independent query tests
(tests/queries/test_independent.py) and the naive benchmark approach (scripts/bench_naive.py).
"""

from __future__ import annotations

import pandas as pd


def in_post(staff_member: pd.DataFrame, est: pd.DataFrame) -> pd.DataFrame:
    """est (establishment rows) with in_post_fte (FTE) and staff_in_post (head count) of
    the staff of its office and grade in post on the row's month (its first day)."""
    staff = staff_member.rename(columns={"id": "staff_id"})
    pairs = est[["id", "office_id", "grade", "month"]].merge(
        staff[["staff_id", "office_id", "grade", "fte", "start_date", "end_date"]],
        on=["office_id", "grade"])
    there = (pairs["start_date"] <= pairs["month"]) & (
        pairs["end_date"].isna() | (pairs["end_date"] >= pairs["month"]))
    per_row = pairs[there].groupby("id").agg(in_post_fte=("fte", "sum"),
                                             staff_in_post=("staff_id", "count"))
    out = est.set_index("id").join(per_row)
    out["in_post_fte"] = out["in_post_fte"].fillna(0.0)
    out["staff_in_post"] = out["staff_in_post"].fillna(0).astype(int)
    return out.reset_index()
