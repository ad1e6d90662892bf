"""The data layer: schema, engine, SQL helpers, reference data, case allocation history and the
monthly summaries.
"""
