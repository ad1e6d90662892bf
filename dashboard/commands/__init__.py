"""Every write as a command: validate() raises typed domain errors, run() writes in one
transaction with its audit-log row.
"""
