"""The bundled December 2023 options placed against the front: each option's levers, run as a deal over the
search's runs (same seeds and draws), and whether any deal of the front dominates it.

An option is read as the value each searched lever has in the option's scenario a week into the period
(READ_AFTER_DAYS), held from the branch date on: the options' steps between the branch date and then (the
crossings reopened on 2024-01-04, aid from 2024-01-01) are moved to the branch date, and later steps are not
seen (none of the bundled options has any before the period ends, except the 2024 events every scenario shares).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd

from ..batch.runs import RunsFailed, dask_client, execute
from ..errors import InputError
from ..results import atomic_write
from .evaluate import evaluate_run
from .front import dominates
import datetime as dt

from .space import current_value, value_on

READ_AFTER_DAYS = 7
DECEMBER_OPTIONS = ("reopen-only", "contention", "contention-and-reopen", "conditional-reopen", "mexico-package",
                    "returns-expanded", "pathways-expanded", "root-causes", "sanctions-relief")


def option_levers(search, name: str) -> dict[str, float]:
    from ..scenario import load
    try:
        plain = load(name)
        if {c.id for c in plain.crossings} != {c.id for c in search.sc.crossings}:
            raise InputError(f"{name} is not a variant of the searched scenario {search.sc.name} (other crossings); "
                             f"the December options are variants of us-mexico")
        sc = load(name, search.overrides) if search.overrides else plain
    except InputError as e:
        raise InputError(f"--options {name}: {e}") from None
    out = {}
    day = search.period[0] + dt.timedelta(days=READ_AFTER_DAYS)
    for d in search.dims:
        vals = [value_on(current_value(sc, d.lever, p), day, d.lever.neutral) for p in d.paths]
        v = float(min(vals)) if d.integer else float(np.mean(vals))
        out[d.name] = min(max(v, d.low), d.high)
    return out


def place_options(search, names: tuple[str, ...] = DECEMBER_OPTIONS, client: Any = None,
                  workers: int | None = None, log: Callable[[str], None] = lambda s: None) -> pd.DataFrame:
    """Evaluate each option as a deal; write DIR/options.csv (levers, objectives, the front deals dominating
    it, whether it is better than the status quo for each side) and rewrite the report."""
    values = {f"option:{n}": option_levers(search, n) for n in names}
    specs, index = [], {}
    for i, (name, v) in enumerate(values.items()):
        index[name] = i * search.runs
        specs += search.tasks(name, v, i * search.runs)
    log(f"the December options as deals: {len(values)} options, {len(specs)} runs")
    with dask_client(client, workers or 1) as c:
        results, failures = execute(specs, c, None, search.retries, search.runner or evaluate_run)
    if failures:
        raise RunsFailed(failures, len(specs), search.out)
    front = search.front()
    deals = front[front["deal"] != "status-quo"]
    cols = [f"objective:{n}" for n in search.names]
    rows = []
    for name, v in values.items():
        rec = search.record(name, v, [results[index[name] + k] for k in range(search.runs)])
        mine = np.array([rec["scores"][n] for n in search.names])
        by = [r["deal"] for _, r in deals.iterrows() if dominates(r[cols].to_numpy(dtype=float), mine)]
        rows.append({"deal": name, **{d.column: v[d.name] for d in search.dims},
                     **{f"objective:{n}": rec["scores"][n] for n in search.names},
                     **{f"better_for_{s}": search.beats(rec["scores"], s) for s in ("US", "Mexico", "people")},
                     "dominated_by": len(by), "dominated_by_deals": ",".join(by[:20])})
    table = pd.DataFrame(rows)
    atomic_write(search.out / "options.csv", table.to_csv(index=False))
    search.write_outputs()
    return table
