"""The scenario builder: turns the bundled observed data, facts tables and fitted values into the bundled
scenario us-mexico.yaml, every value with its source beside it (`python -m corridor.build`).

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
    checks          what a built scenario must satisfy; the derivations `--explain` prints
"""
from .us_mexico import Built, build

__all__ = ["Built", "build"]
