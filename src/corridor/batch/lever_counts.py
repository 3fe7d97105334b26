"""A lever's intensity read from a published count of what it does: Mexico's enforcement from its detention
events ('eventos').

A count of events is flow x detection, so a count alone does not give the intensity: here the model supplies
the flow. For each window in turn, the lever's value from the window's first day is the one at which the
model's count over the window equals the published one (bisection on a log scale; each candidate starts from
the saved state of the window's eve, so only the window is simulated). The assumption, to state wherever the
result is used: the model's flow through the checkpoints in that window is right; where it is too low, the
intensity comes out too high, and the other way round.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Callable

from ..errors import InputError


@dataclass(frozen=True)
class CountWindow:
    """A published count of the metric from `start` to `end` (days, inclusive) and its source."""
    start: dt.date
    end: dt.date
    observed: float
    source: str


@dataclass(frozen=True)
class Solved:
    window: CountWindow
    value: float            # the lever's value from the window's first day
    model: float            # the model's count at that value
    runs: int


def solve_steps(scenario: str, lever: str, metric: str, windows: list[CountWindow], *, seed: int, scale: float,
                low: float = 0.3, high: float = 8.0, rel_tol: float = 0.01, max_runs: int = 14,
                log: Callable[[str], None] = lambda s: None) -> list[Solved]:
    """The lever's dated values, one per window (in order), each matching the window's published count."""
    from ..engine import Simulation
    from ..scenario import load, load_raw
    from ..state import run_branched

    raw, _ = load_raw(scenario)
    sc0 = load(scenario)
    current = (raw.get("policies", {}) or {}).get(lever.removeprefix("policies."), [])
    if not isinstance(current, list):      # one value for the whole run: a step on its first day
        first = sc0.start - dt.timedelta(days=sc0.spinup_days)
        current = [{"from": first.isoformat(), "value": current}]
    base_steps = [s for s in current if dt.date.fromisoformat(str(s["from"])) < windows[0].start]
    found: list[Solved] = []
    memory: dict = {}
    for w in windows:
        steps = base_steps + [{"from": s.window.start.isoformat(), "value": s.value} for s in found]

        def count(x: float) -> float:
            over = {lever: steps + [{"from": w.start.isoformat(), "value": round(x, 4)}], "end": w.end.isoformat()}
            sim = Simulation(load(scenario, overrides=over), seed=seed, scale=scale)
            run_branched(sim, w.start, None, memory)
            df = sim.to_df()
            rows = df[(df["metric"] == metric) & (df["date"] >= w.start) & (df["date"] <= w.end)]
            return float(rows["value"].sum())

        lo, hi = math.log(low), math.log(high)
        c_lo, c_hi = count(low), count(high)
        runs = 2
        if not c_lo <= w.observed <= c_hi:
            raise InputError(f"{lever} from {w.start}: the model's {metric} over {w.start}..{w.end} runs from "
                             f"{c_lo:,.0f} (at {low:g}) to {c_hi:,.0f} (at {high:g}); the published {w.observed:,.0f} "
                             "lies outside: widen the range or check the model's flow")
        x, c = math.exp((lo + hi) / 2), None
        while runs < max_runs:
            x = math.exp((lo + hi) / 2)
            c = count(x)
            runs += 1
            log(f"  {lever} = {x:.3f} from {w.start}: {metric} {c:,.0f} against {w.observed:,.0f}")
            if abs(c / w.observed - 1) <= rel_tol:
                break
            lo, hi = (math.log(x), hi) if c < w.observed else (lo, math.log(x))
        found.append(Solved(w, round(x, 3), c, runs))
    return found
