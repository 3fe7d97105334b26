"""Evaluating a deal: one run of the scenario with the deal's overrides, one seed and one draw of the uncertain
parameters, measured on the objectives.

This is the one place a deal meets the engine. Today each run simulates the whole period; once the engine can
branch from a saved state, `simulate_deal` can restore the base run's state on the branch date and simulate
only the days after it (deals differ only from then on), without anything else changing.
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


def simulate_deal(raw: dict, overrides: dict, seed: int, scale: float | None):
    """The simulation of a deal from its overrides (whole runs today; the branching hook later)."""
    import numba

    from ..batch.runs import scenario_from_raw
    from ..engine import Simulation
    numba.set_num_threads(1)
    sc = scenario_from_raw(raw, overrides, source="deal")
    return Simulation(sc, seed=seed, scale=scale).run()


def evaluate_run(task: DealRun) -> dict:
    """Run one task on a worker and return its objectives (no files: the search writes each deal whole)."""
    if task.version != __version__ or (task.code and task.code != engine_fingerprint()):
        raise RuntimeError(f"this worker runs corridor {__version__} (engine {engine_fingerprint()}); the search "
                           f"needs {task.version} (engine {task.code}); install the same corridor there")
    raw = pickle.loads(zlib.decompress(task.scenario_blob))
    sim = simulate_deal(raw, task.overrides, task.seed, task.scale)
    period = tuple(dt.date.fromisoformat(p) for p in task.period)
    figures = measure(sim.to_df(), period, task.places)
    return {"index": task.index, "deal": task.deal, "run": task.run, "seed": task.seed, "figures": figures,
            "wall_seconds": float(sim.info.get("wall_seconds", 0.0))}
