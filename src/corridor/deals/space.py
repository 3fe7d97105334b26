"""The search space of a deal: which levers a deal sets, over which ranges, and the scenario overrides a deal is.

A dimension is one number a deal chooses. It sets one lever for one key (`policies.contention.train`),
or one lever for a group of keys at once (`policies.development_aid` over the Northern Triangle; the
crossings closed in December 2023 as one switch). Every dimension comes from the lever registry
(`corridor.levers`): its bounds, plausible range, kind, side and mechanism.

A deal sets each of its dimensions from the branch date on: the lever keeps the base scenario's dated
steps before that date, and the deal's value replaces every later step.
"""
from __future__ import annotations

import datetime as dt
import difflib
import math
from dataclasses import dataclass
from typing import Any

from .. import levers as L
from ..errors import InputError

BRANCH_DEFAULT = "2023-12-28"     # the day after the 2023-12-27 Mexico City talks (observed/events.csv row)
CROSSINGS = "crossings-closed-dec-2023"   # the switch: 1 keeps closed the crossings closed in December 2023
EARLY = dt.date(2000, 1, 1)       # the first step of a series made from a constant (before any run starts)

# Keyed levers a deal sets for a group of keys by default, and why that group.
GROUPS: dict[str, tuple[tuple[str, ...], str]] = {
    "policies.development_aid": (("Guatemala", "Honduras", "El Salvador"),
                                 "the Northern Triangle, as the bundled root-causes option"),
    "policies.sanctions_relief": (("Cuba", "Venezuela"), "Cuba and Venezuela, as Mexico asked (sanctions-relief option)"),
}

# The talks' levers (README 'The levers'): Mexican enforcement, contention per mode, the Guatemala border, the
# crossings closed in December 2023, returns accepted and their cap, appointments, parole, aid, sanctions relief.
TALKS = ("policies.mexico_enforcement", "policies.contention.train", "policies.contention.bus",
         "policies.contention.truck", "policies.contention.foot", "policies.guatemala_border_block", CROSSINGS,
         "policies.mexico_accepts_returns", "policies.returns_to_mexico_cap", "policies.appointments_per_day",
         "policies.parole_per_month", "policies.development_aid", "policies.sanctions_relief")


@dataclass(frozen=True)
class Dimension:
    """One number of a deal: `name` as --lever gives it; it sets `paths` (full lever paths) to the same value."""
    name: str
    lever: L.Lever
    paths: tuple[str, ...]
    low: float
    high: float
    integer: bool
    meaning: str

    @property
    def column(self) -> str:
        return f"lever:{self.name}"


def parse_lever_option(text: str) -> tuple[str, tuple[float, float] | None]:
    """`PATH` or `PATH=LOW:HIGH` → (path, range or None)."""
    if "=" not in text:
        return text.strip(), None
    path, rng = (s.strip() for s in text.split("=", 1))
    parts = rng.split(":")
    try:
        lo, hi = (float(p) for p in parts)
    except ValueError:
        raise InputError(f"--lever {text!r}: expected PATH or PATH=LOW:HIGH with numbers, "
                         f"e.g. --lever policies.mexico_enforcement=1:2") from None
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
        raise InputError(f"--lever {text!r}: need finite LOW <= HIGH")
    return path, (lo, hi)


def closed_in_december(sc, branch: dt.date) -> list[str]:
    """The crossings the scenario has closed on the branch date after closing them in December 2023 or before
    (those the talks were about: Lukeville, Eagle Pass bridge 1, San Ysidro PedWest, the Nogales Morley Gate)."""
    out = []
    for key, value in sorted(sc.policies.crossings_closed.items()):
        if value_on(value, branch, 0.0) >= 1:
            out.append(key)
    return out


def value_on(value: Any, day: dt.date, neutral: float) -> float:
    """A lever's value (constant or dated steps) on a day."""
    if not isinstance(value, list):
        return float(value)
    v = neutral
    for s in value:
        if s.start <= day:
            v = float(s.value)
    return v


def build_space(sc, chosen: list[str] | None, branch: dt.date) -> list[Dimension]:
    """The dimensions of `--lever` options (default: the talks' levers), checked against the registry and the
    scenario. Unknown levers, keys, ranges outside the lever's bounds: InputError naming what is valid."""
    specs = [parse_lever_option(t) for t in (chosen or TALKS)]
    dims, seen = [], set()
    for path, rng in specs:
        d = _dimension(sc, path, rng, branch)
        if d.name in seen:
            raise InputError(f"--lever {path}: given twice")
        seen.add(d.name)
        dims.append(d)
    return dims


def _dimension(sc, path: str, rng: tuple[float, float] | None, branch: dt.date) -> Dimension:
    if path in (CROSSINGS, "crossings"):
        keys = closed_in_december(sc, branch)
        if not keys:
            raise InputError(f"--lever {path}: the scenario has no crossing closed on {branch} to reopen")
        lv = L.BY_PATH["policies.crossings_closed"]
        return _checked(CROSSINGS, lv, tuple(f"{lv.path}.{k}" for k in keys), rng,
                        f"the crossings closed in December 2023 ({', '.join(keys)}) kept closed (1) or reopened (0)")
    lv, keys = _resolve(sc, path)
    if not (lv.numeric and lv.dated):
        raise InputError(f"--lever {path}: a deal sets dated numeric levers from the branch date; {lv.path} is "
                         f"{'fixed for a run' if not lv.dated else 'a ' + lv.kind}")
    paths = tuple(L.full_path(lv, k) for k in keys) if keys is not None else (lv.path,)
    what = lv.description + (f" (for {', '.join(keys)})" if keys is not None and len(keys) > 1 else "")
    return _checked(path, lv, paths, rng, what)


def _resolve(sc, path: str) -> tuple[L.Lever, list[str] | None]:
    """A lever path with or without a key → (lever, keys it sets); a keyed lever without key → its group."""
    try:
        setting = L.resolve_setting(sc, path, 0)  # parses the path; the range is checked in _checked
    except L.LeverError:
        lv = L.BY_PATH.get(path) or L.BY_PATH.get(path.rsplit(".", 1)[0])
        if lv is not None:       # a registry lever a deal cannot date (a choice, or fixed for a run)
            return lv, None
        valid = L.rule_paths()
        close = difflib.get_close_matches(path, [lv.path for lv in L.LEVERS], n=1)
        raise InputError(f"--lever {path}: unknown lever{f' (did you mean {close[0]!r}?)' if close else ''}; valid: "
                         f"{CROSSINGS}, {', '.join(valid)}") from None
    lv = setting.lever
    if lv.per_nationality:
        return lv, [path.split(".")[1]]
    if lv.key is None:
        return lv, None
    if path != lv.path:
        return lv, [path.rsplit(".", 1)[1]]
    if lv.path in GROUPS:
        valid = L.lever_keys(lv, sc)
        return lv, [k for k in GROUPS[lv.path][0] if k in valid]
    current = [k for k, v in L.settings(lv, sc) if value_on(v, dt.date.max, lv.neutral) != lv.neutral]
    return lv, current or L.lever_keys(lv, sc)


def _checked(name: str, lv: L.Lever, paths: tuple[str, ...], rng, what: str) -> Dimension:
    lo, hi = rng if rng is not None else (lv.range if lv.range else (lv.min, lv.max))
    if lo is None or hi is None:
        raise InputError(f"--lever {name}: the registry gives no range for {lv.path}; give one as {name}=LOW:HIGH")
    for v in (lo, hi):
        try:
            L.check_value(lv, v, name)
        except L.LeverError as e:
            raise InputError(f"--lever {name}={lo:g}:{hi:g}: {e.msg}") from None
    return Dimension(name, lv, paths, float(lo), float(hi), lv.kind == "flag" or lv.integer, what)


def narrow(dims: list[Dimension], name: str, op: str, value: float) -> list[Dimension]:
    """A constraint on a lever: its dimension's range cut to `<= value` or `>= value`; InputError if empty."""
    out = []
    for d in dims:
        if d.name != name and d.column != name:
            out.append(d)
            continue
        lo, hi = (d.low, min(d.high, value)) if op == "<=" else (max(d.low, value), d.high)
        if d.integer:
            lo, hi = math.ceil(lo), math.floor(hi)
        if lo > hi:
            raise InputError(f"--constraint {name}{op}{value:g}: infeasible, the lever's range is "
                             f"{d.low:g}..{d.high:g}")
        out.append(Dimension(d.name, d.lever, d.paths, float(lo), float(hi), d.integer, d.meaning))
    return out


def deal_overrides(sc, dims: list[Dimension], values: dict[str, float], branch: dt.date) -> dict[str, list[dict]]:
    """The `--set` overrides a deal is: each path's steps before the branch date, then the deal's value."""
    out: dict[str, list[dict]] = {}
    for d in dims:
        v = int(round(values[d.name])) if d.integer else float(values[d.name])
        for path in d.paths:
            out[path] = series_from(current_value(sc, d.lever, path), d.lever, branch, v)
    return out


def current_value(sc, lv: L.Lever, path: str) -> Any:
    """The scenario's value of one full lever path (a constant or dated steps; the neutral value if unset)."""
    if lv.per_nationality:
        nat = next(n for n in sc.nationalities if n.name == path.split(".")[1])
        return getattr(nat, lv.field)
    value = getattr(sc.policies, lv.field)
    if lv.key is None:
        return value
    return value.get(path.rsplit(".", 1)[1], lv.neutral)


def series_from(value: Any, lv: L.Lever, branch: dt.date, new: float) -> list[dict]:
    if isinstance(value, list):
        kept = [{"from": s.start.isoformat(), "value": s.value} for s in value if s.start < branch]
    else:
        kept = [{"from": EARLY.isoformat(), "value": value}]
    if not kept:
        kept = [{"from": EARLY.isoformat(), "value": lv.neutral}]
    return kept + [{"from": branch.isoformat(), "value": new}]


def parse_branch(text: str, sc) -> dt.date:
    try:
        day = dt.date.fromisoformat(str(text))
    except ValueError:
        raise InputError(f"--branch {text!r}: expected a date YYYY-MM-DD, e.g. 2023-12-28") from None
    if not (sc.start <= day <= sc.end):
        raise InputError(f"--branch {day}: outside the scenario's period {sc.start}..{sc.end}")
    return day
