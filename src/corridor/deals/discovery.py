"""Where a deal fails: scenario discovery over the uncertain parameters (PRIM).

The headline deal (the front's deal better than the status quo for both governments whose objectives are
closest to the ideal, or the front's closest deal if none is) and the status quo are run over `draws` further
draws of the uncertain parameters, both with the same seed and values in each draw (common random numbers).
In each draw the deal either beats the status quo for both governments (no objective of either worse, one of
each better) or it does not. PRIM (Friedman and Fisher 1999: peel a small share of the points off one side
of one parameter at a time, keeping the peel that most raises the share of failures inside the box, until
the box holds too few points) then finds the ranges of the parameters where the deal fails most often.

A small PRIM of our own rather than ema-workbench's: it is a few lines, deterministic, and adds no
dependency tree to the package.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd

from ..batch.runs import RunsFailed, dask_client, execute
from ..results import atomic_write, write_json
from .draws import draw
from .evaluate import evaluate_run

FIRST_DRAW = 1000      # discovery draws are numbered after the search's runs, so they never coincide
PEEL = 0.1             # share of the box's points peeled a step
MIN_MASS = 0.1         # the box keeps at least this share of all points


def prim(X: np.ndarray, y: np.ndarray, peel: float = PEEL, min_mass: float = MIN_MASS) -> dict:
    """The box (per column low, high) where the mean of y (0/1) is highest, with its coverage and density."""
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    n, p = X.shape
    lo, hi = X.min(axis=0).copy(), X.max(axis=0).copy()
    inside = np.ones(n, dtype=bool)
    steps = [(lo.copy(), hi.copy(), float(y.mean()) if n else 0.0, 1.0)]
    while True:
        best = None
        idx = np.flatnonzero(inside)
        for j in range(p):
            xj = X[idx, j]
            for side, cut in (("low", np.quantile(xj, peel)), ("high", np.quantile(xj, 1 - peel))):
                keep = xj > cut if side == "low" else xj < cut
                if keep.sum() < max(1, int(np.ceil(min_mass * n))) or keep.all():
                    continue
                density = float(y[idx[keep]].mean())
                if best is None or density > best[0] + 1e-12:
                    best = (density, j, side, cut, idx[keep])
        if best is None or best[0] <= steps[-1][2] + 1e-12:
            break
        density, j, side, cut, kept = best
        if side == "low":
            lo[j] = cut
        else:
            hi[j] = cut
        inside = np.zeros(n, dtype=bool)
        inside[kept] = True
        steps.append((lo.copy(), hi.copy(), density, float(inside.mean())))
    lo_b, hi_b, density, mass = steps[-1]
    total = float(y.sum())
    coverage = float(y[inside].sum() / total) if total else 0.0
    return {"low": lo_b, "high": hi_b, "density": density, "mass": mass, "coverage": coverage,
            "steps": len(steps) - 1}


def headline(search) -> str | None:
    front = search.front()
    deals = front[front["deal"] != "status-quo"]
    if not len(deals):
        return None
    both = deals[deals["better_for_US"] & deals["better_for_Mexico"]]
    pool = both if len(both) else deals
    sq = search.status_quo["scores"]
    gov = [o.name for o in search.objectives if o.side in ("US", "Mexico")]
    ratio = np.mean([pool[f"objective:{n}"] / (sq[n] or 1.0) for n in gov], axis=0)
    return str(pool.iloc[int(np.argmin(ratio))]["deal"])


def discover(search, draws: int = 24, client: Any = None, workers: int | None = None,
             log: Callable[[str], None] = lambda s: None, deal: str | None = None) -> dict:
    """Run the headline deal and the status quo over `draws` draws, find the failure box, write
    DIR/discovery.parquet and DIR/discovery.json, and rewrite the report."""
    deal = deal or headline(search)
    if deal is None:
        return {}
    rec = search.deals[deal]
    extra = [draw(search.seed, FIRST_DRAW + j, search.uncertain) for j in range(draws)]
    specs = search.tasks(deal, rec["levers"], 0, extra) + search.tasks("status-quo", None, draws, extra)
    log(f"scenario discovery: {deal} and the status quo over {draws} draws ({len(specs)} runs)")
    with dask_client(client, workers or 1) as c:
        results, failures = execute(specs, c, None, search.retries, search.runner or evaluate_run)
    if failures:
        raise RunsFailed(failures, len(specs), search.out)
    personnel = {deal: search._personnel(rec["levers"]),
                 "status-quo": search._personnel(search.status_quo["levers"])}
    rows = []
    sides = {s: [o.name for o in search.objectives if o.side == s] for s in ("US", "Mexico")}
    for j, (seed, params) in enumerate(extra):
        d = {**results[j]["figures"], "mexico_personnel": personnel[deal]}
        q = {**results[draws + j]["figures"], "mexico_personnel": personnel["status-quo"]}
        beats = {s: all(d[n] <= q[n] for n in ns) and any(d[n] < q[n] for n in ns) for s, ns in sides.items()}
        rows.append({"draw": FIRST_DRAW + j, "seed": seed, **{f"param:{k}": v for k, v in params.items()},
                     **{f"deal:{n}": d[n] for n in search.names}, **{f"status-quo:{n}": q[n] for n in search.names},
                     "beats_US": beats["US"], "beats_Mexico": beats["Mexico"],
                     "fails": not (beats["US"] and beats["Mexico"])})
    table = pd.DataFrame(rows)
    atomic_write(search.out / "discovery.parquet", lambda p: table.to_parquet(p, index=False))
    names = [u.path for u in search.uncertain]
    X = table[[f"param:{n}" for n in names]].to_numpy(dtype=float)
    fails = int(table["fails"].sum())
    out = {"deal": deal, "draws": draws, "fails": fails, "box": [], "boxes": {},
           "why_fails": {s: int((~table[f"beats_{s}"]).sum()) for s in ("US", "Mexico")}}
    targets = {"both": table["fails"].to_numpy(dtype=float),
               **{s: (~table[f"beats_{s}"]).to_numpy(dtype=float) for s in ("US", "Mexico")}}
    texts = []
    for target, y in targets.items():
        if not 0 < y.sum() < draws:
            continue
        box = prim(X, y)
        limits = [{"parameter": n, "low": float(box["low"][j]), "high": float(box["high"][j]),
                   "range": [search.uncertain[j].low, search.uncertain[j].high]}
                  for j, n in enumerate(names) if box["low"][j] > X[:, j].min() or box["high"][j] < X[:, j].max()]
        out["boxes"][target] = {"box": limits, "density": box["density"], "coverage": box["coverage"],
                                "mass": box["mass"]}
        where = "; ".join(f"{b['parameter']} in {b['low']:.4g}..{b['high']:.4g}" for b in limits)
        who = "for both governments" if target == "both" else f"for {target}"
        texts.append(f"PRIM's box where it fails {who}: {where or 'no parameter narrows it'} ({box['density'] * 100:.0f}% "
                     f"of the draws inside fail; it holds {box['coverage'] * 100:.0f}% of those failures and "
                     f"{box['mass'] * 100:.0f}% of the draws).")
    out["box"] = out["boxes"].get("both", {}).get("box", [])
    verdict = ("never beats" if fails == draws else "always beats" if fails == 0 else
               f"fails to beat in {fails} of {draws} draws of the uncertain parameters:")
    out["summary"] = (f"{deal} {verdict} the status quo for both governments"
                      + (f" over {draws} draws" if fails in (0, draws) else "")
                      + f" (it is not better for the US in {out['why_fails']['US']} draws, for Mexico in "
                      f"{out['why_fails']['Mexico']}). " + (" ".join(texts) or "There is no boundary to find."))
    write_json(search.out / "discovery.json", out)
    search.write_outputs()
    log(out["summary"])
    return out
