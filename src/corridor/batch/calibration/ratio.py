"""Running a scenario for the fit, and ratio scaling of the base departure rates.

Base departure rates (`nationalities.<n>.departures.base_per_day`, one per nationality) are fitted by ratio
scaling: run, divide each nationality's observed encounters over the training months by the model's,
multiply its base rate by that ratio, repeat. Rates set a level; they cannot shape a month. Inside every
trial of the study the base rates are re-scaled once for the trial's behaviour (a second run), so the study
compares shapes at matched levels rather than levels.

Trials stop each run at the end of the training window (the simulation is causal, so those months are
exactly those of a full run), which roughly halves their cost.
"""
from __future__ import annotations

import datetime as dt
import math
import time
from typing import Any, Callable

import pandas as pd

from ...analysis.observed import shift_month
from ...errors import InputError
from .objective import Setup, Window, monthly, nationality_targets, score
from .params import BASE_RATE


def simulate(setup: Setup, overrides: dict[str, Any], until: str | None = None) -> pd.DataFrame:
    """Run the scenario with overrides; the daily table (date, metric, value) of the scored series.

    `until` ('YYYY-MM') ends the run with that month: the simulation is causal and every draw is keyed
    on (seed, day, agent), so the months before are exactly those of the full run (dated events after
    the end, such as later caravans, are dropped). Trials stop at the end of the training window.
    """
    from ...engine import Simulation
    from ...scenario import Scenario, apply_overrides
    from pydantic import ValidationError

    data = apply_overrides(setup.raw, overrides, source="calibration")
    if until is not None:
        last = month_end(until)
        if dt.date.fromisoformat(str(data["end"])) > last:
            data["end"] = last.isoformat()
            data["caravans"] = [c for c in data.get("caravans", []) if dt.date.fromisoformat(str(c["date"])) <= last]
    try:
        sc = Scenario.model_validate(data)
    except ValidationError as err:
        raise InputError(f"calibration values do not make a valid scenario: {err.errors()[0]}") from None
    sim = Simulation(sc, seed=setup.sim_seed, scale=setup.scale).run()
    df = sim.to_df()
    return df[df["metric"].str.startswith(setup.scored_prefixes())].reset_index(drop=True)


def month_end(month: str) -> dt.date:
    nxt = shift_month(month, 1)
    return dt.date(int(nxt[:4]), int(nxt[5:7]), 1) - dt.timedelta(days=1)


def model_nationality_totals(table: pd.DataFrame, nat_names: list[str], window: Window,
                             observed: pd.DataFrame | None = None) -> dict[str, float]:
    """Model encounters per nationality over the window, from a monthly table: `sw_encounters:<n>`, or, in the
    months where the observed table has no `sw_encounters:<n>` but Border Patrol's `usbp_nationality:<n>` (before
    Oct 2019), the model's `usbp_nationality:<n>`: the series `nationality_targets` takes, like with like."""
    from ...analysis.validate import nationality_families
    rows = table[(table["month"] >= window.start) & (table["month"] <= window.end)]
    fam = {}
    if observed is not None:
        fam = nationality_families(observed[(observed["month"] >= window.start) & (observed["month"] <= window.end)])
    prefix = rows["month"].map(lambda m: fam.get(m, ("sw_encounters:",))[0])
    out = {}
    for n in nat_names:
        out[n] = float(rows.loc[rows["series"] == prefix + n, "value"].sum())
    return out


def rescale_bases(bases: dict[str, float], model: dict[str, float], target: dict[str, float],
                  clip: tuple[float, float] = (0.2, 5.0)) -> dict[str, float]:
    """One ratio-scaling step: base x observed/model per nationality (clipped; unchanged where either is 0)."""
    out = {}
    for n, b in bases.items():
        m, t = model.get(n, 0.0), target.get(n, 0.0)
        r = t / m if m > 0 and t > 0 else 1.0
        out[n] = float(b * min(max(r, clip[0]), clip[1]))
    return out


def round_sig(x: float, digits: int = 4) -> float:
    if x == 0 or not math.isfinite(x):
        return float(x)
    return float(round(x, digits - 1 - int(math.floor(math.log10(abs(x))))))


def evaluate(setup: Setup, overrides: dict[str, Any], bases: dict[str, float], ratio_steps: int) -> dict:
    """One trial: run with the trial's values, re-scale the base rates `ratio_steps` times, score the last run.

    Returns the objective, its terms and their details over the training window and the base rates used in the
    scored run.
    """
    t0 = time.perf_counter()
    nat_names = list(bases)
    target = nationality_targets(setup.observed, nat_names, setup.train)
    cur = {n: round_sig(v) for n, v in bases.items()}
    daily = None
    for step in range(ratio_steps + 1):
        ov = dict(overrides)
        ov.update({f"nationalities.{n}.{BASE_RATE}": v for n, v in cur.items()})
        daily = simulate(setup, ov, until=setup.train.end)
        if step < ratio_steps:
            model = model_nationality_totals(monthly(daily), nat_names, setup.train, setup.observed)
            cur = {n: round_sig(v) for n, v in rescale_bases(cur, model, target).items()}
    s = score(daily, setup, setup.train)
    return {"objective": s["objective"], "terms": s["terms"], "details": s["details"], "bases": cur,
            "seconds": round(time.perf_counter() - t0, 2)}


def in_worker(fn, *args):
    """A dask task: one numba thread per worker process (the workers are the parallelism)."""
    single_thread()
    return fn(*args)


def single_thread() -> None:
    try:
        import numba
        numba.set_num_threads(1)
    except Exception:  # pragma: no cover - numba missing or threads already fixed lower
        pass


def ratio_fit(setup: Setup, overrides: dict[str, Any], bases: dict[str, float], iterations: int,
              log: Callable[[str], None] = lambda s: None) -> tuple[dict[str, float], list[dict]]:
    """Stage 1 (and 3): iterate ratio scaling of the base rates with the other values fixed."""
    nat_names = list(bases)
    target = nationality_targets(setup.observed, nat_names, setup.train)
    cur = {n: round_sig(v) for n, v in bases.items()}
    history = []
    for it in range(iterations):
        ov = dict(overrides)
        ov.update({f"nationalities.{n}.{BASE_RATE}": v for n, v in cur.items()})
        model = model_nationality_totals(monthly(simulate(setup, ov, until=setup.train.end)), nat_names, setup.train,
                                         setup.observed)
        worst = max((abs(model[n] / target[n] - 1) for n in nat_names if target[n] > 0 and model[n] > 0), default=0.0)
        history.append({"iteration": it + 1, "max_abs_ratio_error": round(worst, 4)})
        log(f"ratio scaling {it + 1}/{iterations}: largest nationality total error {100 * worst:.1f}%")
        cur = {n: round_sig(v) for n, v in rescale_bases(cur, model, target).items()}
    return cur, history
