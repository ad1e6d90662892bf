"""Reference data of the demo organisation: areas, offices, prisons, calibration knobs.

Office sizes and staffing gaps are calibrated against ../shared/DOMAIN.md: about 8,600
people supervised in the region, ~4,500 in Kent; probation officer staffing near two
thirds of target; outstanding unpaid work hours in the low hundreds of thousands.
"""

from __future__ import annotations

from dashboard.core.glossary import MEASURES

AREAS = (
    ("KENT", "Kent"),
    ("SURREY", "Surrey"),
    ("SUSSEX", "Sussex"),
)

# (code, name, area code, people supervised at steady state, PO vacancy rate)
OFFICES = (
    ("ASH", "Ashford", "KENT", 640, 0.30),
    ("CHA", "Chatham", "KENT", 820, 0.42),
    ("GRA", "Gravesend", "KENT", 560, 0.45),
    ("MAI", "Maidstone", "KENT", 760, 0.38),
    ("RAM", "Ramsgate", "KENT", 620, 0.22),
    ("SIT", "Sittingbourne", "KENT", 480, 0.33),
    ("TUN", "Tunbridge Wells", "KENT", 420, 0.36),
    ("GUI", "Guildford", "SURREY", 400, 0.40),
    ("WOK", "Woking", "SURREY", 330, 0.44),
    ("RED", "Redhill", "SURREY", 360, 0.38),
    ("STA", "Staines", "SURREY", 300, 0.48),
    ("EPS", "Epsom", "SURREY", 230, 0.35),
    ("BRI", "Brighton", "SUSSEX", 560, 0.30),
    ("CRA", "Crawley", "SUSSEX", 420, 0.34),
    ("EAS", "Eastbourne", "SUSSEX", 330, 0.20),
    ("HAS", "Hastings", "SUSSEX", 380, 0.24),
    ("WOR", "Worthing", "SUSSEX", 300, 0.26),
    ("CHI", "Chichester", "SUSSEX", 190, 0.18),
    ("HOR", "Horsham", "SUSSEX", 160, 0.28),
    ("BOG", "Bognor Regis", "SUSSEX", 170, 0.22),
)

# Resettlement prisons releasing into the region (27, as in the seeds).
PRISONS = (
    "HMP Elmley", "HMP Swaleside", "HMP Standford Hill", "HMP Rochester", "HMP Maidstone",
    "HMP Lewes", "HMP Ford", "HMP High Down", "HMP Downview", "HMP Send", "HMP Coldingley",
    "HMP Bronzefield", "HMP East Sutton Park", "HMP Isle of Wight", "HMP Winchester",
    "HMP Wandsworth", "HMP Belmarsh", "HMP Brixton", "HMP Thameside", "HMP Pentonville",
    "HMP Wormwood Scrubs", "HMP Highpoint", "HMP Bullingdon", "HMP Aylesbury",
    "HMP Woodhill", "HMP Chelmsford", "HMP Guys Marsh",
)

# Default targets: measure -> (green from, amber from, higher is better), from the one list
# of measures (dashboard/core/measures.yaml). Units follow the measure: rates in percent,
# caseload in cases per FTE.
DEFAULT_TARGETS = {
    key: (*m.default_target, m.higher_is_better)
    for key, m in MEASURES.items() if m.default_target is not None
}
