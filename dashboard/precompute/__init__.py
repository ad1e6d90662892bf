"""Statistics computed when the data change, not when a page is viewed: funnels, control
charts and special-cause flags (statistics.py), stored in the stat_* tables."""
