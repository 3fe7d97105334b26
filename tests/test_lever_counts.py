"""A lever's intensity read from a count of its events: the value that made a count is found again."""
from __future__ import annotations

import datetime as dt

import pytest

from corridor.batch.lever_counts import CountWindow, solve_steps
from corridor.engine import Simulation
from corridor.errors import InputError
from corridor.scenario import load

MINI = "tests/data/mini.yaml"
LEVER = "policies.mexico_enforcement"
pytestmark = pytest.mark.usefixtures("one_thread")


def detentions(value: float, start: dt.date, end: dt.date) -> float:
    sc = load(MINI, overrides={LEVER: [{"from": "2022-01-01", "value": 1.0}, {"from": start.isoformat(), "value": value}]})
    df = Simulation(sc, scale=2.0).run().to_df()
    return float(df[(df["metric"] == "mexico_detentions") & (df["date"] >= start) & (df["date"] <= end)]["value"].sum())


def test_the_intensity_that_made_a_count_is_found_again():
    start, end = dt.date(2023, 2, 1), dt.date(2023, 3, 31)
    count = detentions(2.0, start, end)
    [s] = solve_steps(MINI, LEVER, "mexico_detentions", [CountWindow(start, end, count, "a run at 2.0")], seed=1,
                      scale=2.0, rel_tol=0.02)
    assert s.value == pytest.approx(2.0, rel=0.1)
    assert s.model == pytest.approx(count, rel=0.02)


def test_a_count_out_of_reach_is_refused_by_name():
    start, end = dt.date(2023, 2, 1), dt.date(2023, 3, 31)
    with pytest.raises(InputError, match="published 1,000,000,000 lies outside"):
        solve_steps(MINI, LEVER, "mexico_detentions", [CountWindow(start, end, 1e9, "x")], seed=1, scale=2.0)
