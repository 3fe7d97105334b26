"""Evaluating a deal: one run of the scenario with the deal's overrides, one seed and one draw of the uncertain
parameters, measured on the objectives.

This is the one place a deal meets the engine. Deals differ only from the branch date on, so each run starts
from the saved state of the eve of that date (`corridor.state`): one state per (seed, draw of the uncertain
parameters), made by the first run that needs it and kept in the state cache, so every later deal with that
draw simulates only the days after the branch date — bit-identical to a full run.
"""
from __future__ import annotations

import datetime as dt
import pickle
import zlib
from dataclasses import dataclass

from .. import __version__
from ..results import engine_fingerprint
from .objectives import measure


@dataclass(frozen=True)
class DealRun:
    """One (deal, run) task: small and picklable; `index` and `identity` as corridor.batch.runs.execute wants."""
    index: int
    deal: str
    run: int
    seed: int
    overrides: dict           # the deal's lever series and the run's uncertain parameters
    scenario_blob: bytes      # the base scenario's raw mapping (with --set), compressed
    scale: float | None
    period: tuple[str, str]
    places: dict
    identity: str
    version: str = __version__
    code: str = ""
    branch: str = ""          # YYYY-MM-DD: start from the saved state of its eve ("" : a whole run)


_STATES: dict = {}            # this worker's states in memory (the cache on disk is shared between workers)


def simulate_deal(raw: dict, overrides: dict, seed: int, scale: float | None, branch: str = ""):
    """The simulation of a deal from its overrides, branched from the eve of `branch` when given."""
    import numba

    from ..batch.runs import scenario_from_raw
    from ..engine import Simulation
    from ..state import StateCache, run_branched
    numba.set_num_threads(1)
    sc = scenario_from_raw(raw, overrides, source="deal")
    sim = Simulation(sc, seed=seed, scale=scale)
    if not branch:
        return sim.run()
    if len(_STATES) > 8:      # a worker keeps a few states in memory (each draw has its own)
        _STATES.clear()
    run_branched(sim, dt.date.fromisoformat(branch), StateCache(), _STATES)
    return sim


def evaluate_run(task: DealRun) -> dict:
    """Run one task on a worker and return its objectives (no files: the search writes each deal whole)."""
    if task.version != __version__ or (task.code and task.code != engine_fingerprint()):
        raise RuntimeError(f"this worker runs corridor {__version__} (engine {engine_fingerprint()}); the search "
                           f"needs {task.version} (engine {task.code}); install the same corridor there")
    raw = pickle.loads(zlib.decompress(task.scenario_blob))
    sim = simulate_deal(raw, task.overrides, task.seed, task.scale, task.branch)
    period = tuple(dt.date.fromisoformat(p) for p in task.period)
    figures = measure(sim.to_df(), period, task.places)
    return {"index": task.index, "deal": task.deal, "run": task.run, "seed": task.seed, "figures": figures,
            "wall_seconds": float(sim.info.get("wall_seconds", 0.0))}
