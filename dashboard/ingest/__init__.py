"""Extract files in and out: formats, limits, the importer, the background import worker, the
extract exporter.
"""
