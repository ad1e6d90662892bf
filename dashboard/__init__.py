"""Probation performance and inspection-readiness dashboard: domain and plumbing."""
