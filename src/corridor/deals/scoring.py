"""A deal's robust score: each objective's statistic over the deal's runs, and which differences from the
status quo are within the ensemble noise.

Every deal is run over the same R (seed, uncertain-parameter draw) pairs (common random numbers), so two
deals differ in their levers, not in their dice. The score of an objective is its 90th percentile over the
runs (linear interpolation): a deal is judged on a bad case, not on its average. The noise of an objective
is the standard deviation of the status quo's runs; a deal whose score differs from the status quo's by less
than that is marked as within the noise (with one run there is no noise estimate and nothing is marked).
"""
from __future__ import annotations

import numpy as np

STATISTIC = 0.9
STATISTIC_TEXT = "the 90th percentile over the runs (linear interpolation)"


def robust(values: list[float]) -> float:
    return float(np.quantile(np.asarray(values, dtype=float), STATISTIC, method="linear"))


def score(per_run: list[dict[str, float]], names: list[str]) -> dict[str, float]:
    """{objective: statistic over the runs} from a list of per-run figures (runs in run order)."""
    return {n: robust([r[n] for r in per_run]) for n in names}


def noise(per_run: list[dict[str, float]], names: list[str]) -> dict[str, float]:
    """{objective: standard deviation over the runs} (0 with one run: unknown)."""
    if len(per_run) < 2:
        return {n: 0.0 for n in names}
    return {n: float(np.std([r[n] for r in per_run], ddof=1)) for n in names}


def within_noise(scores: dict[str, float], status_quo: dict[str, float], sq_noise: dict[str, float]) -> list[str]:
    """The objectives whose difference from the status quo is smaller than the status quo's noise."""
    return [n for n, v in scores.items() if sq_noise.get(n, 0.0) > 0 and abs(v - status_quo[n]) < sq_noise[n]]
