"""Extract files in and out, below the import command (dashboard.commands.imports):
the formats (format_spec, extract_formats, formats_doc) and bounds (limits); reading rows
within them (reading), checking a chunk (chunks) and the whole file (checking), stored
rows by natural key (natural_keys), the staging file (staging), planning and writing the
changes (planning, writing), the import history (import_runs), the report (report); and
the extract exporter (export_extracts).
"""
