"""The inspection readiness summary and its evidence pack (an .xlsx workbook and a PDF).

Pure: DataFrames in, bytes out; no Streamlit, no database, no browser.

- ``contents``: the summary tables, the one rule for showing a value, the ``EvidencePack``;
- ``workbook``: the workbook, written with xlsxwriter (a sheet per standard with its key
  questions and every answer, the sample and its strata, the method);
- ``pdf``: the PDF, written with reportlab (ratings table, a chart drawn with reportlab's
  own graphics, the strata, the method note).

Both files carry the same figures as the readiness page, rounded the same way
(dashboard.core.display: one decimal place, more where one would round a % sufficient
across the band it is rated in). The public names below are used as ``evidence.pdf_bytes``
etc. by the readiness page and the tests.
"""

from __future__ import annotations

from dashboard.hmip.evidence.contents import (
    RATING_TABLE,
    SMALL_SAMPLE,
    EvidencePack,
    chance_text,
    key_question_table,
    overall_from,
    overall_text,
    pack_file_stem,
    rating_rows,
    small_samples,
    summary_ratings,
    unrated_standards,
)
from dashboard.hmip.evidence.pdf import pdf_bytes
from dashboard.hmip.evidence.workbook import workbook_bytes

__all__ = [
    "RATING_TABLE",
    "SMALL_SAMPLE",
    "EvidencePack",
    "chance_text",
    "key_question_table",
    "overall_from",
    "overall_text",
    "pack_file_stem",
    "pdf_bytes",
    "rating_rows",
    "small_samples",
    "summary_ratings",
    "unrated_standards",
    "workbook_bytes",
]
