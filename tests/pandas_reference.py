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


def completion_rows(done: pd.DataFrame, due: pd.DataFrame, anniversary: pd.Series,
                    keep: pd.Series) -> pd.DataFrame:
    """One row per unpaid work order counted by the completion measure: done (completed
    in the period) with orders_completed 1, and the due orders whose anniversary (a Series
    of dates, same index) is kept (keep, a boolean Series) with due_12_months 1 and
    completed_in_12_months 1 when completed_date is on or before the anniversary."""
    due, anniversary = due[keep], anniversary[keep]
    in_time = due["completed_date"].notna() & (due["completed_date"] <= anniversary)
    return pd.concat([
        done.assign(orders_completed=1, due_12_months=0, completed_in_12_months=0),
        due.assign(orders_completed=0, due_12_months=1,
                   completed_in_12_months=in_time.astype(int))], ignore_index=True)


def with_gaps(rows: pd.DataFrame) -> pd.DataFrame:
    """rows (establishment rows with in_post_fte) with establishment_fte (the budgeted FTE)
    and vacancy_fte (budgeted less in post, never below 0)."""
    rows["establishment_fte"] = rows["budgeted_fte"]
    rows["vacancy_fte"] = (rows["budgeted_fte"] - rows["in_post_fte"]).clip(lower=0.0)
    return rows
