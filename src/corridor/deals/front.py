"""The Pareto front of deals, its hypervolume (moocore) and fronts of several searches merged.

All objectives are minimised. A deal dominates another when it is no worse on every objective and better
on at least one; the front is the deals no other deal dominates. Hypervolume is measured on objectives
divided by the status quo's (so every objective weighs alike), against a reference point 10% beyond the worst
deal of the whole search, the same for every generation.
"""
from __future__ import annotations

import numpy as np


def nondominated(values: np.ndarray) -> np.ndarray:
    """Boolean mask of the rows of `values` (deals x objectives, minimised) that no other row dominates."""
    v = np.asarray(values, dtype=float)
    n = len(v)
    keep = np.ones(n, dtype=bool)
    for i in range(n):
        no_worse = np.all(v <= v[i], axis=1)
        better = np.any(v < v[i], axis=1)
        if np.any(no_worse & better):
            keep[i] = False
    return keep


def dominates(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.all(a <= b) and np.any(a < b))


def normalised(values: np.ndarray, status_quo: np.ndarray) -> np.ndarray:
    """Objectives as multiples of the status quo's (an objective the status quo has at 0 is divided by the
    largest value any deal has, or 1)."""
    scale = np.where(np.abs(status_quo) > 0, np.abs(status_quo),
                     np.maximum(np.nanmax(np.abs(values), axis=0, initial=0.0), 1.0))
    return np.asarray(values, dtype=float) / scale


def hypervolume_curve(values: np.ndarray, generations: np.ndarray, status_quo: np.ndarray) -> list[dict]:
    """Hypervolume of the front of the deals evaluated up to each generation (one reference for all)."""
    import moocore
    z = normalised(values, status_quo)
    # objectives constant over every deal add nothing and would make the volume zero: leave them out
    live = np.ptp(z, axis=0) > 0 if len(z) else np.zeros(0, dtype=bool)
    out = []
    if not live.any():
        return [{"generation": int(g), "deals": int((generations <= g).sum()), "hypervolume": 0.0}
                for g in np.unique(generations)]
    z = z[:, live]
    ref = np.max(z, axis=0) + 0.1 * np.maximum(np.ptp(z, axis=0), 1e-12)
    for g in np.unique(generations):
        sel = z[generations <= g]
        front = sel[nondominated(sel)]
        out.append({"generation": int(g), "deals": int(len(sel)),
                    "hypervolume": float(moocore.hypervolume(front, ref=ref))})
    return out


def merge(tables: list, objective_cols: list[str]):
    """Fronts of several searches (front.csv tables, status-quo rows left out) as one front: the deals none of
    the others dominates, each keeping a `search` column naming where it came from."""
    import pandas as pd
    rows = pd.concat(tables, ignore_index=True)
    rows = rows[rows["deal"] != "status-quo"].reset_index(drop=True)
    mask = nondominated(rows[objective_cols].to_numpy(dtype=float))
    return rows[mask].reset_index(drop=True)


def merge_dirs(dirs: list, out):
    """Merge the fronts of several searches (e.g. one per --seed) into OUT/front.csv, and write
    OUT/hypervolume.csv: the hypervolume of each search's front and of the merged one, on objectives divided by
    the first search's status quo, against one reference point 10% beyond the worst deal of all fronts. Each
    search scored its deals on its own seeds and draws, so the merged front mixes scores with different noise."""
    from pathlib import Path

    import moocore
    import pandas as pd

    from ..errors import InputError
    from ..results import atomic_write
    out = Path(out)
    tables = []
    for d in dirs:
        f = Path(d) / "front.csv"
        if not f.is_file():
            raise InputError(f"{d}: no front.csv here; give the --out folders of finished `corridor deals` searches")
        t = pd.read_csv(f)
        t.insert(0, "search", Path(d).name)
        tables.append(t)
    cols = [c for c in tables[0].columns if c.startswith("objective:")]
    for d, t in zip(dirs, tables):
        if [c for c in t.columns if c.startswith("objective:")] != cols:
            raise InputError(f"{d}/front.csv has other objectives than {dirs[0]}/front.csv; merge searches of one kind")
    merged = merge(tables, cols)
    sq = tables[0][tables[0]["deal"] == "status-quo"][cols].to_numpy(dtype=float)[0]
    fronts = [t[t["deal"] != "status-quo"][cols].to_numpy(dtype=float) for t in tables]
    z_all = normalised(np.vstack(fronts), sq)
    live = np.ptp(z_all, axis=0) > 0
    ref = np.max(z_all[:, live], axis=0) + 0.1 * np.maximum(np.ptp(z_all[:, live], axis=0), 1e-12)
    rows = [{"front": t["search"].iloc[0], "deals": len(f),
             "hypervolume": float(moocore.hypervolume(normalised(f, sq)[:, live], ref=ref))}
            for t, f in zip(tables, fronts)]
    m = merged[cols].to_numpy(dtype=float)
    rows.append({"front": "merged", "deals": len(m), "hypervolume": float(moocore.hypervolume(normalised(m, sq)[:, live], ref=ref))})
    hv = pd.DataFrame(rows)
    atomic_write(out / "front.csv", merged.to_csv(index=False))
    atomic_write(out / "hypervolume.csv", hv.to_csv(index=False))
    return hv
