"""Conditional rules: levers that fire on what the simulation observes, not only on dates.

A rule (scenario `rules:`, schema `scenario.Rule`) watches one recorded metric over the days already
simulated and, when its condition holds, overwrites one or more levers in the compiled per-day
timelines (`world.levers`) from that day on. A release condition (by default: the condition no longer
holds) switches it off again, after `release_after_days`; the scenario's own timeline is then restored
from the day of release. Example (Proclamation 10773, June 2024)::

    rules:
      - name: proclamation
        condition: {metric: usbp_encounters, window_days: 7, statistic: mean, comparison: ">=", threshold: 2500}
        action: {lever: policies.regime, value: title8_restricted}
        release: {metric: usbp_encounters, window_days: 7, statistic: mean, comparison: "<", threshold: 1500}
        release_after_days: 14

Timing, for day d (day 0 = first spin-up day):
- the condition reads days d-window .. d-1 of the metric book (never day d itself, which has not
  happened yet); with fewer than `window_days` days simulated it does not hold;
- `for_days: N` needs the test to hold on N consecutive days (d-N+1 .. d);
- the condition met on day d switches the rule on on day d + delay_days (its levers hold the rule's
  value from that day, which `rule_active:<name>` records as 1);
- the release test met on day d switches it off on day d + release_after_days, unless the condition
  holds again meanwhile; `active_to` releases it the day after that date.
Rules are evaluated in file order each day, so a rule may watch a lever another rule sets
(`mexico_enforcement`) or another rule's `rule_active:<name>`. When two active rules set the same
lever, the later one in the file wins.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import InputError
from .scenario import MODES, REGIMES, Rule, Scenario

RULE_PREFIX = "rule_active:"

# policies.<name> -> (Levers field, what the key names, kind, acts after push_delay_days)
# kind: "num" (>= 0), "any" (any number), "unit" (clipped to 0..1), "flag" (1 on / 0 off), "regime",
#       "monthly" (per month in the file, per day in the timeline)
LEVERS: dict[str, tuple[str, str | None, str, bool]] = {
    "mexico_enforcement": ("enforcement", None, "num", False),
    "mexico_personnel": ("personnel", None, "any", False),
    "contention": ("contention", "mode", "unit", False),
    "guatemala_border_block": ("guat_block", None, "unit", False),
    "darien_return": ("darien_return", None, "unit", False),
    "return_south": ("return_south", None, "unit", False),
    "mexico_visa_required": ("visa", "nationality", "flag", False),
    "mexico_accepts_returns": ("accepts", "nationality", "flag", False),
    "returns_to_mexico_cap": ("returns_cap", None, "num", False),
    "crossings_closed": ("closed", "crossing", "flag", False),
    "processing_capacity_factor": ("proc_factor", "sector", "num", False),
    "holding_capacity_factor": ("hold_factor", "sector", "num", False),
    "removal_flights_per_day": ("flights", "nationality", "num", False),
    "appointments_per_day": ("appointments", None, "num", False),
    "parole_per_month": ("parole_daily", "nationality", "monthly", False),
    "regime": ("regime", None, "regime", False),
    "development_aid": ("aid", "nationality", "unit", True),
    "sanctions_relief": ("sanctions", "nationality", "unit", True),
}
# nationalities.<name>.<field> -> Levers field
NAT_LEVERS = {"title42_expulsion": "title42", "title8_removal": "t8_removal", "mexico_detention_deport": "deport"}
CONTENTION_MODES = ("train", "bus", "truck", "foot")


def lever_paths(sc: Scenario) -> list[str]:
    """Every lever path a rule may set, in the form an error message shows."""
    out = []
    for name, (_, key, _, _) in LEVERS.items():
        out.append(f"policies.{name}" + (f"[.<{key}>]" if key else ""))
    out += [f"nationalities.<nationality>.{f}" for f in NAT_LEVERS]
    return out


@dataclass
class Target:
    """One action resolved against the compiled world: which array, which columns, what value."""
    attr: str
    cols: list[int] | None  # None: the array has one column per day (1-D)
    kind: str
    lag: int
    value: float


def _keys(sc: Scenario, what: str) -> list[str]:
    return {
        "mode": list(MODES),
        "nationality": [n.name for n in sc.nationalities],
        "crossing": [c.id for c in sc.crossings],
        "sector": [s.name for s in sc.sectors],
    }[what]


def _shown(valid: list[str], n: int = 12) -> str:
    return ", ".join(valid[:n]) + (f" ... ({len(valid)} in all)" if len(valid) > n else "")


class BadAction(ValueError):
    """A rule action that does not resolve: `field` is where, the message says what is valid."""

    def __init__(self, field_: str, msg: str):
        super().__init__(f"{field_}: {msg}")
        self.field, self.msg = field_, msg


def resolve_action(sc: Scenario, lever: str, value, where: str) -> Target:
    """Parse a lever path and value; raise BadAction (field, message; no file) if either is bad."""
    t = _resolve(sc, lever, value, where)
    v = t.value
    if t.kind == "flag" and v not in (0.0, 1.0):
        raise BadAction(f"{where}.value", f"bad value {value!r} for {lever}; valid: 1 (on/closed/required) or 0")
    if t.kind == "unit" and not 0.0 <= v <= 1.0:
        raise BadAction(f"{where}.value", f"bad value {value!r} for {lever}; valid: a number from 0 to 1")
    if t.kind in ("num", "monthly") and v < 0:
        raise BadAction(f"{where}.value", f"bad value {value!r} for {lever}; valid: a number >= 0")
    return t


def _resolve(sc: Scenario, lever: str, value, where: str) -> Target:
    parts = lever.split(".", 2)
    if parts[0] == "nationalities":
        body = lever[len("nationalities."):]
        nat, _, fld = body.rpartition(".")
        nats = [n.name for n in sc.nationalities]
        if fld not in NAT_LEVERS:
            raise BadAction(f"{where}.lever", f"unknown lever {lever!r}; valid levers: {_shown(lever_paths(sc), 30)}")
        if nat not in nats:
            raise BadAction(f"{where}.lever", f"unknown nationality {nat!r} in {lever!r}; valid nationalities: {_shown(nats)}")
        return Target(NAT_LEVERS[fld], [nats.index(nat)], "unit", 0, _number(value, where, lever))
    if parts[0] != "policies" or len(parts) < 2 or parts[1] not in LEVERS:
        close = difflib.get_close_matches(lever, [f"policies.{k}" for k in LEVERS], n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise BadAction(f"{where}.lever", f"unknown lever {lever!r}{hint}; valid levers: {_shown(lever_paths(sc), 30)}")
    name = parts[1]
    attr, key, kind, delayed = LEVERS[name]
    lag = sc.policies.push_delay_days if delayed else 0
    if key is None:
        if len(parts) > 2:
            raise BadAction(f"{where}.lever", f"{('policies.' + name)!r} takes no key, got {lever!r}")
        cols = None
    else:
        valid = list(CONTENTION_MODES) if name == "contention" else _keys(sc, key)
        if len(parts) == 2:
            cols = [_keys(sc, key).index(k) for k in valid]
        else:
            k = parts[2]
            if k not in valid:
                raise BadAction(f"{where}.lever", f"unknown {key} {k!r} in {lever!r}; valid {key}s: {_shown(valid)}")
            cols = [_keys(sc, key).index(k)]
    if kind == "regime":
        if value not in REGIMES:
            raise BadAction(f"{where}.value", f"bad value {value!r} for policies.regime; valid: {', '.join(REGIMES)}")
        return Target(attr, cols, kind, lag, float(REGIMES.index(value)))
    return Target(attr, cols, kind, lag, _number(value, where, lever))


def _number(value, where: str, lever: str) -> float:
    if isinstance(value, str):
        raise BadAction(f"{where}.value", f"bad value {value!r} for {lever}; valid: a number")
    return float(value)


def metric_names(sc: Scenario) -> list[str]:
    """The metrics a run of `sc` records (what a rule's condition may watch), without running it."""
    from .engine import _MetricBook  # late import: engine imports this module's users
    from .world import compile_world
    return _MetricBook(compile_world(sc)).names + [RULE_PREFIX + r.name for r in sc.rules]


def _metric_hint(name: str, valid: list[str]) -> str:
    close = difflib.get_close_matches(name, valid, n=3)
    plain = [m for m in valid if ":" not in m]
    families = sorted({m.split(":", 1)[0] + ":<...>" for m in valid if ":" in m})
    return ((f"did you mean {', '.join(repr(c) for c in close)}? " if close else "")
            + f"valid metrics: {', '.join(plain)}; per place/sector/nationality: {', '.join(families)} "
              f"(`corridor metrics SCENARIO` lists all {len(valid)})")


def check_rules(sc: Scenario, source: str | Path | None = None, names: list[str] | None = None) -> None:
    """Raise InputError naming the file, the field, the bad value and what is valid."""
    if not sc.rules:
        return
    src = str(source or getattr(sc, "_source", "") or sc.name)
    valid = names if names is not None else metric_names(sc)
    vset = set(valid)
    for i, r in enumerate(sc.rules):
        where = f"rules[{i}] ({r.name})"
        for part, cond in (("condition", r.condition), ("release", r.release)):
            if cond is not None and cond.metric not in vset:
                raise InputError(f"{src}: field '{where}.{part}.metric': unknown metric {cond.metric!r}; "
                                 + _metric_hint(cond.metric, valid))
        for j, a in enumerate(r.action):
            try:
                resolve_action(sc, a.lever, a.value, f"{where}.action[{j}]")
            except BadAction as e:
                raise InputError(f"{src}: field '{e.field}': {e.msg}") from None


# ----------------------------------------------------------------------------- the day loop's side

@dataclass
class _State:
    on: bool = False
    count_on: int = 0
    count_off: int = 0
    pending_on: int | None = None
    pending_off: int | None = None
    since: int | None = None
    trigger: tuple = ("", float("nan"))
    release_trigger: tuple = ("", float("nan"))


class RuleBook:
    """Evaluates the scenario's rules once a day and rewrites the lever timelines (see `apply`).

    `metric_names` are the extra daily metrics the engine records (`rule_active:<name>`), `log` the
    switches ({rule, date, day, switch: on/off, metric, value}), for run.json.
    """

    def __init__(self, scenario: Scenario, world):
        self.scenario = scenario
        self.world = world
        self.log: list[dict] = []
        self.rules: list[Rule] = list(scenario.rules)
        self.metric_names = [RULE_PREFIX + r.name for r in self.rules]
        self.state = [_State() for _ in self.rules]
        if not self.rules:
            return
        from .engine import _MetricBook
        check_rules(scenario, names=_MetricBook(world).names + self.metric_names)
        lv = world.levers
        # The scenario's own timelines, kept so a release restores them. Kept on the world, so a second
        # run of the same Simulation starts from them rather than from the first run's rewrites.
        orig = world.extra.setdefault("levers_original", {})
        self.targets = [[resolve_action(scenario, a.lever, a.value, r.name) for a in r.action] for r in self.rules]
        for attr in {t.attr for ts in self.targets for t in ts}:
            arr = getattr(lv, attr)
            if attr in orig:
                arr[...] = orig[attr]
            else:
                orig[attr] = arr.copy()
        self.orig = orig
        dates = world.dates
        self.days_in_month = np.array([_days_in_month(d) for d in dates], float)
        self.ord = np.array([d.toordinal() for d in dates])
        self.frm = [r.active_from.toordinal() if r.active_from else None for r in self.rules]
        self.to = [r.active_to.toordinal() if r.active_to else None for r in self.rules]

    # -- evaluation
    @staticmethod
    def _test(cond, d: int, book) -> tuple[bool, float]:
        """Whether `cond` holds on day d, reading days d-window .. d-1 of the book."""
        w = cond.window_days
        full = getattr(book, "full", None)
        if d < w or full is None:
            return False, float("nan")
        x = full[d - w: d, book.index[cond.metric]]
        s = cond.statistic
        v = float(x.mean() if s == "mean" else x.sum() if s == "sum" else x[-1] if s == "last"
                  else x.min() if s == "min" else x.max())
        c = cond.comparison
        ok = v >= cond.threshold if c == ">=" else v <= cond.threshold if c == "<=" else \
            v > cond.threshold if c == ">" else v < cond.threshold
        return bool(ok), v

    def apply(self, d: int, book) -> None:
        """Day d: evaluate every rule on the days before d; switch; rewrite levers from day d on."""
        if not self.rules:
            return
        changed = False
        today = self.ord[d]
        for k, (r, st) in enumerate(zip(self.rules, self.state)):
            if self.to[k] is not None and today > self.to[k]:
                if st.on:
                    self._switch(k, d, False, "active_to passed", float("nan"))
                    changed = True
                st.pending_on = st.pending_off = None
                st.count_on = st.count_off = 0
                continue
            if self.frm[k] is not None and today < self.frm[k]:
                continue
            held, v = self._test(r.condition, d, book)
            st.count_on = st.count_on + 1 if held else 0
            met = st.count_on >= r.condition.for_days
            if not st.on:
                if st.pending_on is None and met:
                    st.pending_on = d + r.delay_days
                    st.trigger = (r.condition.metric, v)
                if st.pending_on is not None and d >= st.pending_on:
                    self._switch(k, d, True, *st.trigger)
                    changed = True
                continue
            if r.release is not None:
                rel, rv = self._test(r.release, d, book)
                need = r.release.for_days
                metric = r.release.metric
            else:
                rel, rv, need, metric = not held, v, 1, r.condition.metric
            st.count_off = st.count_off + 1 if rel else 0
            if st.pending_off is not None and met:
                st.pending_off = None  # the condition holds again: the release is called off
            elif st.pending_off is None and st.count_off >= need:
                st.pending_off = d + r.release_after_days
                st.release_trigger = (metric, rv)
            if st.pending_off is not None and d >= st.pending_off:
                self._switch(k, d, False, *st.release_trigger)
                changed = True
        if changed:
            self._rewrite(d)
        if hasattr(book, "extra_values"):
            book.extra_values[: len(self.rules)] = [1.0 if st.on else 0.0 for st in self.state]

    def _switch(self, k: int, d: int, on: bool, metric: str, value: float) -> None:
        st = self.state[k]
        st.on, st.since = on, d
        st.pending_on = st.pending_off = None
        st.count_off = 0
        self.log.append({"rule": self.rules[k].name, "date": str(self.world.dates[d]), "day": int(d),
                         "switch": "on" if on else "off", "metric": metric,
                         "value": None if value != value else round(float(value), 6)})

    def _rewrite(self, d: int) -> None:
        """Levers from day d on: the scenario's own timeline, then every active rule in file order."""
        lv = self.world.levers
        for attr, orig in self.orig.items():
            arr = getattr(lv, attr)
            lags = {t.lag for ts in self.targets for t in ts if t.attr == attr}
            arr[d + min(lags):] = orig[d + min(lags):]
        for st, ts in zip(self.state, self.targets):
            if not st.on:
                continue
            for t in ts:
                arr = getattr(lv, t.attr)
                a = d + t.lag
                if a >= arr.shape[0]:
                    continue
                val = t.value
                if t.kind == "monthly":
                    val = (t.value / self.days_in_month[a:])[:, None]
                if t.cols is None:
                    arr[a:] = val
                else:
                    arr[a:, t.cols] = val


def _days_in_month(d) -> int:
    import calendar
    return calendar.monthrange(d.year, d.month)[1]


def rule_activity(df, name: str | None = None):
    """From a run's tidy table: the rule_active:<name> series as a wide frame (date x rule)."""
    sub = df[df["metric"].str.startswith(RULE_PREFIX)]
    if name is not None:
        sub = sub[sub["metric"] == RULE_PREFIX + name]
    out = sub.pivot(index="date", columns="metric", values="value")
    out.columns = [re.sub(f"^{RULE_PREFIX}", "", c) for c in out.columns]
    return out
