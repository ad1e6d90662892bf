"""Admin: targets and their RAG bands, per measure and optionally per office. Every page
reads the same target table through dashboard.core.targets, so a change here shows everywhere."""

import pandas as pd
import streamlit as st

from dashboard.app import ui
from dashboard.commands import targets
from dashboard.core.glossary import MEASURES
from dashboard.core.plain_text import plain
from dashboard.core.targets import RAG_LABEL, Target
from queries import reference

scope = ui.require_page("admin_targets")
st.title("Targets")
st.caption(
    "Each measure has a default target for every office; an office may have its own. "
    "**Green from** and **Amber from** set the bands: where higher is better, a value at or "
    "above green-from is Green, at or above amber-from Amber, else Red; where lower is "
    "better the comparisons are at or below. Statuses are shown on every page as "
    + ", ".join(RAG_LABEL[s] for s in ("Green", "Amber", "Red")) + ". Edit the table, add "
    "a row for an office's own target, or delete an office row; then save. Every change "
    "is written to the audit log.")

eng = ui.engine()
with eng.connect() as conn:
    current = reference.targets(conn)
    offices = reference.offices(conn)

ALL = "All offices (default)"
MEASURE_LABEL = {k: f"{MEASURES[k].name} ({MEASURES[k].unit})"
                 for k in targets.TARGET_MEASURES}
OFFICE_LABEL = {int(r.office_id): f"{r.office} ({r.office_code})"
                for r in offices.itertuples()}
office_names = {int(r.office_id): str(r.office) for r in offices.itertuples()}
by_label = {v: k for k, v in MEASURE_LABEL.items()}
office_by_label = {v: k for k, v in OFFICE_LABEL.items()}


def shown(table: pd.DataFrame) -> pd.DataFrame:
    """The targets as the editor shows them: labels, not keys; defaults first."""
    rows = table.assign(
        _order=table["measure"].map({k: i for i, k in enumerate(MEASURE_LABEL)}),
        _office=table["office_id"].notna())
    rows = rows.sort_values(["_order", "_office", "office_id"]).reset_index(drop=True)
    return pd.DataFrame({
        "measure": rows["measure"].map(MEASURE_LABEL),
        "office": [ALL if pd.isna(o) else OFFICE_LABEL.get(int(o), str(o))
                   for o in rows["office_id"]],
        "green_from": rows["green_from"].astype(float),
        "amber_from": rows["amber_from"].astype(float),
        "bands": [Target(m, g, a, bool(h)).describe() for m, g, a, h in zip(
            rows["measure"], rows["green_from"], rows["amber_from"], rows["higher_is_better"],
            strict=True)],
    })


def as_targets(edited: pd.DataFrame) -> pd.DataFrame:
    """The editor's rows back in the target table's terms (measure key, office_id)."""
    return pd.DataFrame({
        "measure": [by_label.get(m) for m in edited["measure"]],
        "office_id": [None if o in (None, ALL) or pd.isna(o) else office_by_label.get(o, -1)
                      for o in edited["office"]],
        "green_from": edited["green_from"], "amber_from": edited["amber_from"]},
        columns=targets.EDIT_COLUMNS)


if message := st.session_state.pop("_targets_saved", None):
    st.success(message, icon=":material/check_circle:")
edited = st.data_editor(
    shown(current), key="targets_editor", num_rows="dynamic", hide_index=True,
    width="stretch", column_config={
        "measure": st.column_config.SelectboxColumn(
            "Measure", options=list(MEASURE_LABEL.values()), required=True, width="large"),
        "office": st.column_config.SelectboxColumn(
            "Office", options=[ALL, *OFFICE_LABEL.values()], required=True, default=ALL),
        "green_from": st.column_config.NumberColumn("Green from", required=True,
                                                    format="%.1f", min_value=0.0),
        "amber_from": st.column_config.NumberColumn("Amber from", required=True,
                                                    format="%.1f", min_value=0.0),
        "bands": st.column_config.TextColumn("Bands now (saved)", disabled=True),
    })
proposed = as_targets(edited)
problems = [str(p) for p in targets.problems(proposed, office_names)]
changes = [] if problems else targets.diff(current, proposed)
if problems:
    st.error("Cannot save yet:\n" + "\n".join(f"- {p}" for p in problems),
             icon=":material/error:")
elif changes:
    st.info(f"{len(changes)} change(s) not saved yet:\n" + "\n".join(
        f"- {c.kind}: {MEASURES[c.measure].name}, {plain(office_names.get(c.office_id, ALL))}"
        + (f" ({c.before['green_from']:g}/{c.before['amber_from']:g} → " if c.before else " (")
        + (f"{c.after['green_from']:g}/{c.after['amber_from']:g})" if c.after else "removed)")
        for c in changes), icon=":material/edit:")
if st.button("Save targets", type="primary", disabled=bool(problems) or not changes,
             icon=":material/save:"):
    try:
        with eng.begin() as conn:
            saved = targets.ChangeTargets(conn, scope.username, current, proposed,
                                          office_names).run()
    except targets.TargetError as exc:
        st.error("Nothing was saved:\n" + "\n".join(f"- {p}" for p in exc.problems),
                 icon=":material/error:")
    else:
        st.cache_data.clear()  # every page's cached targets are now stale
        del st.session_state["targets_editor"]
        st.session_state["_targets_saved"] = f"Saved {len(saved)} change(s)."
        st.rerun()
