"""A joint fit: one calibration over several periods, each its own scenario (us-mexico and us-mexico-2019).

How people respond — to news from the border, to enforcement, to custody and closures — is one set of
numbers, fitted to every period at once: a period with one policy shock cannot tell a weak response from a
strong one, two periods with different shocks can. What differs between periods is fitted for each on its
own: the base departure rates (by ratio scaling, as for one scenario) and the fields the targets file's
`joint.period_specific` names (trends, removal shares). The objective is the first period's plus each
other period's times its weight, every one over its own training months.

Keys: a shared parameter sets the same path in every period; a period's own parameter is keyed
`<period>@<path>` (params.PERIOD_SEP); the base rates of the first period are keyed by nationality, those of
another period `<period>@<nationality>`. With no other period every function here is the one-scenario one.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

import pandas as pd

from ...errors import InputError
from .objective import Joined, Setup
from .params import BASE_RATE, PERIOD_SEP, Param, for_period, get_value, overrides_for, parse_param
from .ratio import evaluate as evaluate_one, ratio_fit as ratio_fit_one, simulate


def own_bases(bases: dict[str, float], setup: Setup, period: Joined | None = None) -> dict[str, float]:
    """One period's base rates, keyed by nationality (`period` None: the first period's)."""
    if period is None:
        return {k: v for k, v in bases.items() if PERIOD_SEP not in k}
    own = period.name + PERIOD_SEP
    return {k[len(own):]: v for k, v in bases.items() if k.startswith(own)}


def keyed_bases(bases: dict[str, float], period: Joined | None) -> dict[str, float]:
    return dict(bases) if period is None else {f"{period.name}{PERIOD_SEP}{k}": v for k, v in bases.items()}


def all_periods(setup: Setup) -> list[tuple[Joined | None, Setup]]:
    """(period, its setup) for the first period (None) and every other."""
    return [(None, setup), *[(j, j.setup) for j in setup.periods]]


def evaluate(setup: Setup, overrides: dict[str, Any], bases: dict[str, float], ratio_steps: int) -> dict:
    """One trial over every period: the objectives summed (weighted), each period's terms and details kept."""
    if not setup.periods:
        return evaluate_one(setup, overrides, bases, ratio_steps)
    main = evaluate_one(setup, for_period(overrides, setup.name), own_bases(bases, setup), ratio_steps)
    out = {"objective": main["objective"], "terms": dict(main["terms"]), "details": dict(main["details"]),
           "bases": dict(main["bases"]), "seconds": main["seconds"]}
    for j in setup.periods:
        r = evaluate_one(j.setup, for_period(overrides, j.name), own_bases(bases, setup, j), ratio_steps)
        out["objective"] += j.weight * r["objective"]
        out["terms"].update({f"{j.name}{PERIOD_SEP}{k}": v for k, v in r["terms"].items()})
        out["details"][j.name] = {"objective": r["objective"], "terms": r["terms"], **r["details"]}
        out["bases"].update(keyed_bases(r["bases"], j))
        out["seconds"] = round(out["seconds"] + r["seconds"], 2)
    return out


def ratio_fit(setup: Setup, overrides: dict[str, Any], bases: dict[str, float], iterations: int,
              log: Callable[[str], None] = lambda s: None) -> tuple[dict[str, float], list[dict]]:
    """Ratio scaling of every period's base rates, each to its own training months."""
    out: dict[str, float] = {}
    history: list[dict] = []
    for j, s in all_periods(setup):
        name = s.name if j is not None else (setup.name or "")
        fitted, hist = ratio_fit_one(s, for_period(overrides, name) if setup.periods else overrides,
                                       own_bases(bases, setup, j), iterations, log)
        out.update(keyed_bases(fitted, j))
        history += [{**h, "period": name} for h in hist] if setup.periods else hist
    return out, history


def simulate_all(setup: Setup, overrides: dict[str, Any], bases: dict[str, float]) -> dict[str, pd.DataFrame]:
    """The final runs: every period with the fitted values, through its whole full window."""
    out = {}
    for j, s in all_periods(setup):
        name = s.name if j is not None else setup.name
        ov = for_period(overrides, name) if setup.periods else dict(overrides)
        ov.update({f"nationalities.{n}.{BASE_RATE}": v for n, v in own_bases(bases, setup, j).items()})
        out[name] = simulate(s, ov, until=s.full.end)
    return out


def split_params(params: list[Param], setup: Setup, period_specific: tuple[str, ...]) -> list[Param]:
    """The joint fit's parameters: a shared one must exist in every period; one whose field ends in a
    `period_specific` suffix becomes one parameter per period (where the period's scenario has its fields)."""
    if not setup.periods:
        return params
    out: list[Param] = []
    for p in params:
        if not any(path.endswith(s) for path in p.paths for s in period_specific):
            for j in setup.periods:
                for path in p.paths:
                    get_value(j.setup.raw, path, f"{p.name} (in the joint period {j.name})")
            out.append(p)
            continue
        out.append(replace(p, name=f"{setup.name}{PERIOD_SEP}{p.name}", period=setup.name,
                           label=f"{p.label} [{setup.name}]"))
        kind = ":log" if p.log else ":int" if p.integer else ""
        for j in setup.periods:
            try:
                q = parse_param(f"{p.name}={p.low:g}:{p.high:g}{kind}", j.setup.raw, meaning=p.meaning, label=p.label)
            except InputError:
                continue      # the period's scenario lacks these nationalities: nothing of it to fit there
            out.append(replace(q, name=f"{j.name}{PERIOD_SEP}{p.name}", period=j.name, label=f"{p.label} [{j.name}]"))
    return out


def initial_values(params: list[Param], setup: Setup) -> dict[str, float]:
    """Each parameter's current value in the scenario of its period (shared ones: the first period's)."""
    raws = {j.name: j.setup.raw for j in setup.periods}
    out = {}
    for p in params:
        raw = raws.get(p.period, setup.raw)
        v = get_value(raw, p.paths[0], p.name)
        v = min(max(float(v) if v is not None else p.low, p.low), p.high)
        out[p.name] = int(round(v)) if p.integer else v
    return out


def period_values(params: list[Param], values: dict[str, float], bases: dict[str, float], setup: Setup,
                  period: Joined | None) -> dict[str, Any]:
    """The scenario paths one period's fitted overlay sets: the shared values, its own, its base rates."""
    name = period.name if period is not None else setup.name
    vals = for_period(overrides_for(params, values), name) if setup.periods else overrides_for(params, values)
    vals.update({f"nationalities.{n}.{BASE_RATE}": v for n, v in own_bases(bases, setup, period).items()})
    return vals
