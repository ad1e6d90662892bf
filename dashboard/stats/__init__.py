"""Statistics: Wilson intervals, funnel limits, control charts (SPC), rate helpers."""
