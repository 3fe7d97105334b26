"""Levers as daily timelines, compiled from the registry (`corridor.levers`).

For each dated lever two arrays, one row per simulated day: its values as set (the file's unit, before
any delay: what a rule rewrites and what `lever:<path>` records), and the timeline the kernels read
(`Timelines.<name>`: flags as booleans, choices as codes, monthly values per day, delayed levers shifted).
Before a series' first step, and for keys a scenario leaves out, a lever holds its neutral value.
"""
from __future__ import annotations

import calendar
import datetime as dt
from collections import namedtuple

import numpy as np

from .levers import BY_PATH, LEVERS, Lever, Setting, full_path, key_names, lever_keys

DATED = tuple(lv for lv in LEVERS if lv.dated)
COMPILED = tuple(lv for lv in DATED if lv.kind != "weights")   # weights are compiled by the world (target_cum)
Timelines = namedtuple("Timelines", [lv.timeline_name for lv in DATED])
"""What the kernels read: one array per dated lever, day first (numba takes the namedtuple as one argument)."""

LEVER_PREFIX = "lever:"


def series(value, ords: np.ndarray, neutral: float) -> np.ndarray:
    """A constant or dated steps -> one value per day; before the first step the lever is neutral."""
    out = np.full(len(ords), float(neutral))
    if value is None:
        return out
    if not isinstance(value, list):
        out[:] = float(value)
        return out
    for step in value:
        out[ords >= step.start.toordinal()] = float(step.value)
    return out


_CodeStep = namedtuple("_CodeStep", "start value")


def _code(lv: Lever, value):
    """A choice (or dated choices) as its index, for the numeric timeline."""
    if isinstance(value, list):
        return [_CodeStep(s.start, lv.choices.index(s.value)) for s in value]
    return float(lv.choices.index(value))


def set_values(lv: Lever, sc, ords: np.ndarray) -> np.ndarray:
    """The lever as set, day by day: 1-D for an unkeyed lever, days x keys otherwise."""
    neutral = float(lv.choices.index(lv.neutral)) if lv.kind == "choice" else float(lv.neutral)
    convert = (lambda v: _code(lv, v)) if lv.kind == "choice" else (lambda v: v)
    if lv.per_nationality:
        out = np.full((len(ords), len(sc.nationalities)), neutral)
        for j, n in enumerate(sc.nationalities):
            out[:, j] = series(convert(getattr(n, lv.field)), ords, neutral)
        return out
    value = getattr(sc.policies, lv.field)
    if lv.key is None:
        return series(convert(value), ords, neutral)
    keys = key_names(sc, lv.key)
    out = np.full((len(ords), len(keys)), neutral)
    for j, k in enumerate(keys):
        if k in value:
            out[:, j] = series(value[k], ords, neutral)
    return out


def days_in_month(dates: list[dt.date]) -> np.ndarray:
    return np.array([calendar.monthrange(d.year, d.month)[1] for d in dates], float)


def delayed(a: np.ndarray, days: int) -> np.ndarray:
    """A lever that acts `days` later: the timeline shifted forward, holding its first value."""
    if days <= 0:
        return a.copy()
    out = np.empty_like(a)
    out[days:] = a[:-days] if days < len(a) else a[:0]
    out[: min(days, len(a))] = a[0]
    return out


def derive(lv: Lever, values: np.ndarray, dim: np.ndarray, push_delay: int) -> np.ndarray:
    """The kernels' timeline of a lever from its values as set."""
    if lv.kind == "flag":
        return values > 0.5
    if lv.kind == "choice":
        return values.astype(np.int64)
    out = values / dim[:, None] if lv.monthly else values.copy()
    return delayed(out, push_delay) if lv.delayed else out


def _recorded(sc) -> list[tuple[Lever, int | None]]:
    """(lever, column) of every recorded lever value: each numeric dated lever and each of its keys."""
    out = []
    for lv in COMPILED:
        if not lv.numeric:
            continue
        keys = lever_keys(lv, sc)
        if keys is None:
            out.append((lv, None))
            continue
        columns = key_names(sc, "nationality" if lv.per_nationality else lv.key)
        out += [(lv, columns.index(k)) for k in keys]
    return out


def recorded_lever_names(sc) -> list[str]:
    """The `lever:<path>` metrics a run of `sc` records, in order."""
    names = []
    for lv, col in _recorded(sc):
        keys = lever_keys(lv, sc)
        names.append(LEVER_PREFIX + full_path(lv, None if keys is None else key_names(
            sc, "nationality" if lv.per_nationality else lv.key)[col]))
    return names


class LeverBook:
    """A run's levers: the values as set and the kernels' timelines, rewritten by conditional rules.

    `timelines` is what the kernels read; `rewrite(d, settings)` restores the scenario's own values from
    day d on and applies the active rules' settings over them; `recorded_names` and `recorded(d)` give the
    `lever:<path>` metrics (every numeric lever and key, in the file's unit, before any delay).
    """

    def __init__(self, sc, dates: list[dt.date], target_cum: np.ndarray):
        self.ords = np.array([d.toordinal() for d in dates])
        self.dim = days_in_month(dates)
        self.push_delay = int(sc.policies.push_delay_days)
        self.values = {lv.path: set_values(lv, sc, self.ords) for lv in COMPILED}
        self.original = {path: v.copy() for path, v in self.values.items()}
        arrays = {lv.timeline_name: derive(lv, self.values[lv.path], self.dim, self.push_delay) for lv in COMPILED}
        self.timelines = Timelines(target_cum=target_cum, **arrays)
        self.recorded_names = recorded_lever_names(sc)
        self._views: list[np.ndarray] = []
        for lv, col in _recorded(sc):
            v = self.values[lv.path]
            self._views.append(v if col is None else v[:, col])

    def recorded(self, d: int) -> np.ndarray:
        return np.array([v[d] for v in self._views])

    def rewrite(self, d: int, touched: set[str], active: list[Setting]) -> None:
        """From day d on: the scenario's own values of every lever in `touched`, then `active` in order."""
        for path in touched:
            self.values[path][d:] = self.original[path][d:]
        for s in active:
            v = self.values[s.lever.path]
            if s.cols is None:
                v[d:] = s.value
            else:
                v[d:, list(s.cols)] = s.value
        for path in touched:
            lv = BY_PATH[path]
            lag = self.push_delay if lv.delayed else 0
            new = derive(lv, self.values[path], self.dim, self.push_delay)
            getattr(self.timelines, lv.timeline_name)[d + lag:] = new[d + lag:]
