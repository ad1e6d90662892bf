"""Reference lists: offices and areas, targets, and facts about the loaded dataset."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, select

from dashboard.data.schema import area, dataset_info, office, target
from queries._frames import read_frame


def offices(conn: Connection) -> pd.DataFrame:
    """Every office. Columns: office_id, office_code, office, area_id, area_code, area."""
    stmt = (
        select(
            office.c.id.label("office_id"), office.c.code.label("office_code"),
            office.c.name.label("office"), area.c.id.label("area_id"),
            area.c.code.label("area_code"), area.c.name.label("area"),
        )
        .join(area, office.c.area_id == area.c.id)
        .order_by(area.c.name, office.c.name)
    )
    return read_frame(stmt, conn)


def dataset_facts(conn: Connection) -> dict[str, str]:
    """dataset_info as a dict: data_as_of, history_start, mode, seed, scale."""
    return dict(conn.execute(select(dataset_info.c.key, dataset_info.c.value)).all())


def targets(conn: Connection) -> pd.DataFrame:
    """Targets. Columns: measure, office_id (None = default), green_from, amber_from,
    higher_is_better."""
    stmt = select(target.c.measure, target.c.office_id, target.c.green_from,
                  target.c.amber_from, target.c.higher_is_better).order_by(target.c.measure)
    return read_frame(stmt, conn)
