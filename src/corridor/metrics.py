"""Declared metrics and the book that records them each day.

Each phase declares the metrics it produces (`Metric`): a name, what it is keyed by (one series per
sector, nationality, ...), its unit, whether it is a flow (per day: months add up), a stock (at the end
of the day: months average) or a level (a setting), whether it scales with `scale` (people: agents x
scale) and how today's value is read from the phase. The book lays the metrics out in a daily row and
becomes the tidy (date, metric, value) table.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd

from .codes import STATUS_NAMES
from .levers import key_names

KEYS = ("sector", "nationality", "border_city", "place", "leg", "crossing", "status")
KINDS = ("flow", "stock", "level")
RULE_PREFIX = "rule_active:"


@dataclass(frozen=True)
class Metric:
    """A recorded series (or one series per key). `value(phase, day)` gives today's value(s)."""
    name: str
    keys: str | None
    unit: str
    kind: str
    scales: bool
    meaning: str
    value: Callable[[Any, Any], Any]

    def __post_init__(self):
        if self.keys is not None and self.keys not in KEYS:
            raise ValueError(f"metric {self.name!r}: keys {self.keys!r} is not one of {KEYS}")
        if self.kind not in KINDS:
            raise ValueError(f"metric {self.name!r}: kind {self.kind!r} is not one of {KINDS}")

    def names(self, sc) -> list[str]:
        if self.keys is None:
            return [self.name]
        return [f"{self.name}:{k}" for k in key_labels(sc, self.keys)]


def key_labels(sc, keys: str) -> list[str]:
    """The labels a keyed metric's names carry, from the scenario (no compiled world needed)."""
    if keys == "border_city":
        return [p.name for p in sc.places if p.kind == "border_city"]   # a city's name, as people read it
    if keys == "place":
        return [p.id for p in sc.places]
    if keys == "leg":
        return [leg.id for leg in sc.legs]
    if keys == "status":
        return list(STATUS_NAMES)
    return key_names(sc, keys)                                            # as the levers name them


class MetricBook:
    """Collects one row of named values per day; `full` keeps every day (spin-up included) for rules.

    `declared` pairs each phase with its metrics; `extra` names values set from outside each day
    (`set_extra`: the levers as set, the rules' switches)."""

    def __init__(self, sc, n_days: int, first_day: int, dates, declared: list[tuple[Any, Metric]],
                 extra: list[str] = ()):
        self.declared = declared
        self.names: list[str] = []
        self.spans: list[tuple[int, int]] = []
        for _, m in declared:
            names = m.names(sc)
            self.spans.append((len(self.names), len(names)))
            self.names += names
        self.extra_start = len(self.names)
        self.names += list(extra)
        self.index = {n: i for i, n in enumerate(self.names)}
        if len(self.index) != len(self.names):
            dup = sorted({n for n in self.names if self.names.count(n) > 1})
            raise ValueError(f"metrics declared twice: {', '.join(dup)}")
        self.first_day = first_day
        self.dates = dates
        self.full = np.zeros((n_days, len(self.names)))

    def set_extra(self, d: int, start: int, values) -> None:
        """Values of the `extra` names from position `start` for day d (before or after `record`)."""
        n = len(values)
        if n:
            self.full[d, self.extra_start + start: self.extra_start + start + n] = values

    def record(self, d: int, day) -> None:
        row = self.full[d]
        for (phase, m), (start, n) in zip(self.declared, self.spans):
            v = m.value(phase, day)
            if n == 1 and m.keys is None:
                row[start] = v
            else:
                row[start: start + n] = v

    def to_frame(self) -> pd.DataFrame:
        rows = self.full[self.first_day:]
        dates = pd.to_datetime(pd.Series(self.dates[self.first_day:])).dt.date
        n_rec, n_m = rows.shape
        return pd.DataFrame({
            "date": np.repeat(dates.to_numpy(), n_m),
            "metric": np.tile(np.array(self.names, dtype=object), n_rec),
            "value": rows.reshape(-1),
        }).astype({"metric": "string"})

    def catalogue(self) -> list[dict]:
        """Each declared metric with its unit, kind and scaling (for `corridor metrics --json`)."""
        return [{"name": m.name, "keys": m.keys, "unit": m.unit, "kind": m.kind, "scales": m.scales,
                 "meaning": m.meaning} for _, m in self.declared]
