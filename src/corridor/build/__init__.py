"""The scenario builder: turns the bundled observed data, facts tables and fitted values into the bundled
scenarios us-mexico.yaml and us-mexico-2019.yaml, every value with its source beside it (`python -m corridor.build`),
and the observed table observed/monthly.csv (`python -m corridor.build.monthly`).

A tool layer on top of the engine: it imports `corridor.scenario` to validate what it writes; the engine never
imports it. Modules, one job each:

    inputs          paths, the scenario's period, the observed tables
    facts           facts rows by file and line, checked number extraction and citations
    fit             the calibration's fitted values, merged and marked `# fitted:`
    places          places and geography
    legs            legs, modes, costs and checkpoints
    crossings       ports, trade, CBP One shares, rail bridges, between-ports stretches
    sectors         Border Patrol sectors' capacities and gotaways
    border_splits   nationalities' dated splits over border cities
    deportation     Mexico's deportation shares and the December 2023 pause
    nationalities   nationalities, origins, departures, Title 42 shares
    policies        the policy levers as dated series
    behaviour       behaviour (schema defaults, fitted values) and caravans
    emit            the ruamel.yaml tree and its text
    us_mexico       the scenario assembled from its parts
    period_2019     the figures of the 2019 scenario (base rates, splits, enforcement, MPP, metering, deportation)
    us_mexico_2019  the 2019 scenario (a variant of us-mexico) assembled
    monthly         observed/monthly.csv from the observed files it summarises
    checks          what a built scenario must satisfy; the derivations `--explain` prints
"""
from .us_mexico import Built, build

__all__ = ["Built", "build"]
