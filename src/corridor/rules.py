"""Conditional rules: levers that fire on what the simulation observes, not only on dates.

A rule (scenario `rules:`, schema `scenario.Rule`) watches one recorded metric over the days already
simulated and, when its condition holds, overwrites one or more levers in the run's per-day
timelines (`timelines.LeverBook`) from that day on. A release condition (by default: the condition no longer
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

import re
from dataclasses import dataclass

import numpy as np

from .levers import resolve_setting
from .metrics import RULE_PREFIX
from .timelines import LeverBook


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

    def __init__(self, scenario, dates: list, levers: LeverBook):
        self.scenario = scenario
        self.dates = dates
        self.levers = levers
        self.log: list[dict] = []
        self.rules = list(scenario.rules)
        self.metric_names = [RULE_PREFIX + r.name for r in self.rules]
        self.state = [_State() for _ in self.rules]
        if not self.rules:
            return
        self.settings = [[resolve_setting(scenario, a.lever, a.value) for a in r.action] for r in self.rules]
        self.touched = {s.lever.path for ss in self.settings for s in ss}
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
            self.levers.rewrite(d, self.touched, self.active_settings())

    def active_settings(self) -> list:
        """The lever settings of the rules that are on, in file order (later rules win)."""
        return [s for st, ss in zip(self.state, self.settings) if st.on for s in ss]

    def _switch(self, k: int, d: int, on: bool, metric: str, value: float) -> None:
        st = self.state[k]
        st.on, st.since = on, d
        st.pending_on = st.pending_off = None
        st.count_off = 0
        self.log.append({"rule": self.rules[k].name, "date": str(self.dates[d]), "day": int(d),
                         "switch": "on" if on else "off", "metric": metric,
                         "value": None if value != value else round(float(value), 6)})

    def active(self) -> list[float]:
        """Today's rule_active:<name> values (1 on, 0 off), in file order."""
        return [1.0 if st.on else 0.0 for st in self.state]


def rule_activity(df, name: str | None = None):
    """From a run's tidy table: the rule_active:<name> series as a wide frame (date x rule)."""
    sub = df[df["metric"].str.startswith(RULE_PREFIX)]
    if name is not None:
        sub = sub[sub["metric"] == RULE_PREFIX + name]
    out = sub.pivot(index="date", columns="metric", values="value")
    out.columns = [re.sub(f"^{RULE_PREFIX}", "", c) for c in out.columns]
    return out
