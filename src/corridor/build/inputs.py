"""Where the builder's inputs live, the scenario's period, and the observed tables it reads.

Every path is a constant; the tables are read only when `read_observed` is called, so importing the package
reads nothing.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from corridor.errors import InputError

DATA = Path(__file__).resolve().parents[1] / "data"
OBSERVED = DATA / "observed"
FACTS = DATA / "facts"
SCENARIO = DATA / "scenarios" / "us-mexico.yaml"      # the bundled scenario the builder writes
FIT_FILE = DATA / "calibration" / "us-mexico.fit.yaml"
# Mexico's 2024 enforcement read from the UPM events of 2024 through the fitted model's flow (written by
# tools/derive_mexico_enforcement_2024.py)
ENFORCEMENT_2024 = DATA / "calibration" / "us-mexico.enforcement-2024.yaml"

START, END, SPINUP = dt.date(2022, 10, 1), dt.date(2024, 12, 31), 120
EARLY = dt.date(2022, 1, 1)          # first step of dated series that start before the run (spin-up included)


class BuildError(InputError):
    """The inputs no longer say what the builder expects (a facts row moved, a pattern stopped matching)."""


def shown(path: Path) -> str:
    """A data path as the scenario cites it: `src/corridor/data/...` for bundled files, whatever the install."""
    try:
        return "src/corridor/data/" + path.resolve().relative_to(DATA).as_posix()
    except ValueError:
        return str(path)


@dataclass(frozen=True)
class Observed:
    """The observed tables (src/corridor/data/observed/) the builder reads, each once per build."""
    nodes: pd.DataFrame            # route_nodes_geonames.csv
    more_nodes: pd.DataFrame       # route_nodes_more_geonames.csv
    sectors: pd.DataFrame          # usbp_sw_sectors.csv
    ports: pd.DataFrame            # us_mexico_ports_of_entry.csv
    by_citizenship: pd.DataFrame   # cbp_sw_encounters_monthly_by_citizenship.csv
    state_citizenship: pd.DataFrame  # cbp_sw_encounters_monthly_state_citizenship_detail.csv
    sector_monthly: pd.DataFrame   # usbp_sw_sector_monthly_ohss.csv
    components: pd.DataFrame       # cbp_sw_encounters_monthly_component_detail.csv
    monthly: pd.DataFrame          # monthly.csv


def read_observed() -> Observed:
    def csv(name: str, **kw) -> pd.DataFrame:
        return pd.read_csv(OBSERVED / name, **kw)

    return Observed(
        nodes=csv("route_nodes_geonames.csv", dtype={"admin1code": str}),
        more_nodes=csv("route_nodes_more_geonames.csv"),
        sectors=csv("usbp_sw_sectors.csv"),
        ports=csv("us_mexico_ports_of_entry.csv"),
        by_citizenship=csv("cbp_sw_encounters_monthly_by_citizenship.csv"),
        state_citizenship=csv("cbp_sw_encounters_monthly_state_citizenship_detail.csv"),
        sector_monthly=csv("usbp_sw_sector_monthly_ohss.csv"),
        components=csv("cbp_sw_encounters_monthly_component_detail.csv"),
        monthly=csv("monthly.csv"),
    )
