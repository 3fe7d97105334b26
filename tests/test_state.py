"""Branching from a saved state: a variant started from the eve of its branch date gives the same numbers as
its full run; a state that is not the run's past is refused, saying why."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from corridor.engine import Simulation
from corridor.errors import InputError
from corridor.state import RunState, StateCache, run_branched

MINI = str(Path(__file__).parent / "data" / "mini.yaml")
BRANCH = dt.date(2023, 2, 15)
LATER = ["policies.mexico_enforcement=[{from: 2022-12-01, value: 1.0}, {from: 2023-02-15, value: 2.5}]"]


@pytest.fixture(scope="module")
def saved(one_thread):
    sim = Simulation.from_scenario(MINI, seed=3).run(save_at=BRANCH)
    return sim, sim.state


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a["metric"]) == list(b["metric"]) and list(a["date"]) == list(b["date"])
    np.testing.assert_array_equal(a["value"].to_numpy(), b["value"].to_numpy())


def test_a_branched_run_equals_the_full_run(saved):
    full, state = saved
    again = Simulation.from_scenario(MINI, seed=3).run(branch_from=state)
    _same(full.to_df(), again.to_df())
    assert again.info["branched_from"]["date"] == str(BRANCH)
    assert again.info["agent_days"] == full.info["agent_days"]


def test_a_variant_after_the_branch_date_branches_and_matches_its_full_run(saved, tmp_path):
    _, state = saved
    path = state.save(tmp_path / "state.npz")             # through the file, as the cache keeps it
    variant_full = Simulation.from_scenario(MINI, seed=3, overrides=LATER).run()
    variant = Simulation.from_scenario(MINI, seed=3, overrides=LATER).run(branch_from=RunState.load(path))
    _same(variant_full.to_df(), variant.to_df())
    enc = variant.to_df().query("metric == 'mexico_detentions'")["value"].sum()
    base = saved[0].to_df().query("metric == 'mexico_detentions'")["value"].sum()
    assert enc > base                                     # the lever did act after the branch


@pytest.mark.parametrize("how, words", [
    ({"seed": 4}, "seed 3"),
    ({"overrides": ["policies.mexico_enforcement=[{from: 2022-12-01, value: 1.0}, {from: 2023-02-01, value: 2.5}]"]}, "differs from this one before"),
    ({"scale": 2.0}, "scale"),
])
def test_a_state_that_is_not_the_runs_past_is_refused(saved, how, words):
    _, state = saved
    sim = Simulation.from_scenario(MINI, **{"seed": 3, **how})
    with pytest.raises(InputError, match=words):
        sim.run(branch_from=state)


def test_a_branch_date_outside_the_run_is_refused():
    sim = Simulation.from_scenario(MINI, seed=3)
    with pytest.raises(InputError, match="not a day of the run"):
        sim.run(save_at=dt.date(2024, 6, 1))


def test_the_state_holds_only_the_live_agents(saved):
    full, state = saved
    assert len(state.agents["uid"]) < full.info["agents_created"]
    assert state.nbytes > 0 and "agents on their way" in state.describe()


def test_run_branched_reuses_a_cached_state(tmp_path, one_thread):
    cache, memory = StateCache(tmp_path), {}
    first = run_branched(Simulation.from_scenario(MINI, seed=5), BRANCH, cache, memory)
    assert first.startswith("ran in full")
    assert len(list(tmp_path.rglob("*.npz"))) == 1
    again = run_branched(Simulation.from_scenario(MINI, seed=5, overrides=LATER), BRANCH, cache, {})
    assert again.startswith("branched from")            # from the file: a later comparison reuses it
