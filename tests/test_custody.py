"""Border Patrol custody as a queue: its stock follows arrivals x time in custody, swells when processing falls
short, empties when it recovers; over-capacity releases happen only above holding capacity; the books balance."""
from __future__ import annotations

import pandas as pd
import pytest

from corridor.codes import STATUS_NAMES
from corridor.engine import Simulation

# us-mexico to the end of Sep 2023, each agent 100 people: a couple of seconds a run
SHORT = {"end": "2023-09-30"}
SECTORS = ("Big Bend", "Del Rio", "El Centro", "El Paso", "Laredo", "Rio Grande Valley", "San Diego", "Tucson", "Yuma")

pytestmark = pytest.mark.usefixtures("one_thread")


def run(overrides: dict | None = None) -> pd.DataFrame:
    sim = Simulation.from_scenario("us-mexico", seed=3, scale=100.0, overrides={**SHORT, **(overrides or {})})
    return sim.run().to_df().pivot(index="date", columns="metric", values="value")


def every_sector(lever: str, steps: list[dict]) -> dict:
    return {f"policies.{lever}.{s}": steps for s in SECTORS}


def mean(w: pd.DataFrame, start: str, end: str, metric: str) -> float:
    return float(w.loc[pd.Timestamp(start).date(): pd.Timestamp(end).date(), metric].mean())


@pytest.fixture(scope="module")
def base():
    return run()


@pytest.fixture(scope="module")
def slow():
    """Processing at a third of capacity from June, back to normal from August."""
    return run(every_sector("processing_capacity_factor", [{"from": "2023-06-01", "value": 0.33},
                                                           {"from": "2023-08-01", "value": 1.0}]))


def test_custody_swells_when_processing_falls_short_and_empties_when_it_recovers(base, slow):
    assert mean(slow, "2023-07-01", "2023-07-31", "us_custody_population") > \
        1.3 * mean(base, "2023-07-01", "2023-07-31", "us_custody_population")
    assert mean(slow, "2023-07-01", "2023-07-31", "processing_capacity:Tucson") < \
        0.4 * mean(base, "2023-07-01", "2023-07-31", "processing_capacity:Tucson")
    # capacity back: the backlog is worked off within weeks
    assert mean(slow, "2023-09-01", "2023-09-30", "us_custody_population") < \
        0.85 * mean(slow, "2023-07-01", "2023-07-31", "us_custody_population")
    assert mean(slow, "2023-09-01", "2023-09-30", "us_custody_population") == \
        pytest.approx(mean(base, "2023-09-01", "2023-09-30", "us_custody_population"), rel=0.15)


def test_books_balance_with_a_backlog(slow):
    statuses = slow[[f"population:{s}" for s in STATUS_NAMES]].sum(axis=1)
    assert (statuses == slow["agents_created"]).all()
    sectors = slow[[f"custody_population:{s}" for s in SECTORS]].sum(axis=1)
    assert (sectors == slow["us_custody_population"]).all()
    assert (slow["us_custody_population"] == slow["population:us_custody"] * 100.0).all()   # agents x scale


def test_over_capacity_releases_only_above_holding_capacity(slow):
    roomy = run({**every_sector("processing_capacity_factor", [{"from": "2023-06-01", "value": 0.33}]),
                 **every_sector("holding_capacity_factor", [{"from": "2022-01-01", "value": 100.0}])})
    assert roomy["overflow_releases"].sum() == 0 and roomy["custody_over_capacity"].max() == 0
    assert slow["overflow_releases"].sum() > 0
    # a day with over-capacity releases follows a day with someone above holding capacity
    over_yesterday = slow["custody_over_capacity"].shift(1).fillna(0)
    released = slow["overflow_releases"] > 0
    assert (over_yesterday[released] > 0).mean() > 0.9


def test_time_in_custody_follows_the_outcome_path(base):
    """A longer stay after processing for those released, or ICE short of beds, keeps more people in custody after
    Title 42 (when most are processed under Title 8)."""
    longer = run({"behaviour.custody_days_release": 4.0})
    assert mean(longer, "2023-07-01", "2023-09-30", "us_custody_population") > \
        1.15 * mean(base, "2023-07-01", "2023-09-30", "us_custody_population")
    full = run({"policies.ice_beds": [{"from": "2023-06-01", "value": 0.0}]})
    assert mean(full, "2023-08-01", "2023-09-30", "custody_awaiting_ice") > \
        3 * mean(base, "2023-08-01", "2023-09-30", "custody_awaiting_ice")
    assert mean(base, "2023-01-01", "2023-04-30", "us_custody_population") < \
        mean(base, "2023-07-01", "2023-09-30", "us_custody_population")
