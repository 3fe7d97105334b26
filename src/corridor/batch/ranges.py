"""Ranges of scenario fields (`PATH=LOW:HIGH`) that a batch varies: parsed, checked against the schema.

Ensembles draw parameters from them and sensitivity analyses sample them; either way a bad path or a
value the schema refuses fails here, before any run, with the path named.
"""
from __future__ import annotations

import math
from typing import Any, Iterable

from ..errors import InputError
from .runs import scenario_from_raw


def parse_range(text: str, source: str = "--vary") -> tuple[str, float, float]:
    """`PATH=LOW:HIGH` → (path, low, high); InputError with an example when it is not that."""
    example = f"e.g. {source} behaviour.crossing_hazard=0.1:0.2"
    if "=" not in text:
        raise InputError(f"{source} {text!r}: expected PARAM=LOW:HIGH, {example}")
    path, rng = (s.strip() for s in text.split("=", 1))
    if not path:
        raise InputError(f"{source} {text!r}: the parameter path is empty; {example}")
    if rng.count(":") != 1:
        raise InputError(f"{source} {text!r}: expected LOW:HIGH after '=', {example}")
    lo_s, hi_s = (s.strip() for s in rng.split(":"))
    try:
        lo, hi = float(lo_s), float(hi_s)
    except ValueError:
        raise InputError(f"{source} {text!r}: LOW and HIGH must be numbers, got {lo_s!r} and {hi_s!r}; {example}") from None
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise InputError(f"{source} {text!r}: LOW and HIGH must be finite numbers")
    if lo > hi:
        raise InputError(f"{source} {text!r}: LOW {lo:g} is above HIGH {hi:g}; write the range as LOW:HIGH")
    return path, lo, hi


def normalise_ranges(ranges: dict[str, tuple[float, float]] | Iterable[str] | None,
                     source: str = "--vary") -> dict[str, tuple[float, float]]:
    """A dict {path: (low, high)} or `PATH=LOW:HIGH` strings → checked {path: (low, high)}."""
    if not ranges:
        return {}
    out: dict[str, tuple[float, float]] = {}
    items = ranges.items() if isinstance(ranges, dict) else [(None, r) for r in ranges]
    for path, r in items:
        if path is None:
            path, lo, hi = parse_range(str(r), source)
        else:
            try:
                lo, hi = (float(x) for x in r)
            except (TypeError, ValueError):
                raise InputError(f"{source} {path}: expected a (low, high) pair of numbers, got {r!r}") from None
            path, lo, hi = parse_range(f"{path}={lo!r}:{hi!r}", source)
        if path in out:
            raise InputError(f"{source} {path}: given twice")
        out[path] = (lo, hi)
    return out


def check_ranges(raw: dict, ranges: dict[str, tuple[float, float]], source: str = "--vary") -> dict[str, str]:
    """Apply each range's ends to the scenario and validate: unknown paths and values the schema refuses
    fail here, with the path named. Returns {path: "int" | "float"} (the field's type)."""
    kinds = {}
    for path, (lo, hi) in ranges.items():
        values = []
        for v in (lo, hi):
            sc = scenario_from_raw(raw, {path: v}, source=source)
            values.append(_get_path(sc.model_dump(by_alias=True), path))
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            raise InputError(f"{source} {path}: not a numeric field (it holds {values[0]!r}); vary numbers only")
        kinds[path] = "int" if all(isinstance(v, int) for v in values) else "float"
    return kinds


def _get_path(data: Any, path: str) -> Any:
    node = data
    for part in path.split("."):
        if isinstance(node, list):
            hit = [x for x in node if isinstance(x, dict) and (x.get("id") or x.get("name")) == part]
            node = hit[0] if hit else node[int(part)] if part.isdigit() and int(part) < len(node) else None
        elif isinstance(node, dict):
            node = node.get(part)
        else:
            return None
    return node
