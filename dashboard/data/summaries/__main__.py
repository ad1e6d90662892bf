"""``python -m dashboard.data.summaries [DATABASE_URL]``: rebuild every summary."""

from __future__ import annotations

from dashboard.data.summaries import mark_data_changed, refresh_all


def main() -> int:
    """``python -m dashboard.data.summaries [DATABASE_URL]``: rebuild every summary."""
    import sys
    import time

    from dashboard.data import db

    engine = db.make_engine(sys.argv[1] if len(sys.argv) > 1 else None)
    db.upgrade(engine)
    started = time.perf_counter()
    with engine.begin() as conn:
        refresh_all(conn)
        mark_data_changed(conn)
    print(f"Summaries rebuilt in {time.perf_counter() - started:.1f} s.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
