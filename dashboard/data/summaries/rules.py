"""The rules behind the measures (one place; the query modules import them from here)."""

SCREENING_WORKING_DAYS = 5  # Through the Gate screening after reception into prison
CONTACT_DAYS = 84  # resettlement contact 12 weeks before release
START_WORKING_DAYS = 7  # unpaid work: first session within 7 working days of sentence
# Unpaid work start deadline: the 7th working day after sentence falls at most this many
# calendar days later (two weekends plus Christmas and New Year), a bound for date ranges.
DEADLINE_SPAN_DAYS = 21
# Unpaid work completed within 12 months: on or before the calendar anniversary of the
# sentence (29 Feb -> 28 Feb); 367 days bound the sentence dates whose anniversary falls
# in a range.
ANNIVERSARY_SPAN_DAYS = 367
SICKNESS = "sickness"  # the staff_absence reason the sickness-absence measure counts
CASE_HOLDING = ("PO", "PSO")
# Workload points per case by tier (the Workload Measurement Tool's approach); licence
# cases cost a quarter more. An officer's nominal capacity is 700 points per FTE.
TIER_POINTS = {"A": 30, "B": 20, "C": 14, "D": 8}
LICENCE_FACTOR = 1.25
POINTS_PER_FTE = 700.0
