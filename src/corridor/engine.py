"""The Simulation: the day loop, walking the phases in the order of the brief.

    sim = Simulation.from_scenario("us-mexico", seed=1)
    sim.run()
    df = sim.to_df()          # date, metric, value

Each day: levers for the day (dated, then conditional rules) -> departures -> movement and route
choice -> inspections in Mexico -> waiting and crossing -> US encounter -> custody and processing ->
removal flights -> repeat attempts -> census, books check, record. The phases are `corridor.phases`;
the time each takes is written to run.json (`phase_seconds`).
"""
from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from . import __version__
from . import rng as R
from .errors import InputError
from .fingerprint import engine_fingerprint
from .metrics import RULE_PREFIX, MetricBook
from .packed import pack
from .phases import PHASES, SHARED, all_blocks, declared_metrics
from .phases.common import N_CHUNKS
from .population import BYTES_PER_AGENT, Population
from .results import summarise, write_run
from .rules import RuleBook
from .scenario import Scenario, load, scenario_hash, with_run_settings
from .state import RunState, prefix_key, restore_rules, rule_state, starts_on_or_after
from .tally import Layout, domain_sizes
from .timelines import LeverBook
from .world import World, compile_world


class Day:
    """Today, as the phases see it: the day's number, date and random key, the agents and the row ranges
    of the store's parts, the per-chunk tally (`tal`) and, once the census has run, its sum (`tally`) and stocks
    (`census`); phases publish what later phases read (`quit_nat`, `p_accept`, ...)."""

    def __init__(self, d: int, date, key, tal: np.ndarray, layout: Layout, scale: float):
        self.d, self.date, self.key, self.tal, self.layout, self.scale = d, date, key, tal, layout, scale
        self.tally = None
        self.census = None

    def block(self, name: str) -> np.ndarray:
        """A block of today's summed tally (after the census)."""
        return self.layout.read(self.tally, name)

    def one(self, name: str):
        return self.layout.one(self.tally, name)

    def chunk_block(self, name: str) -> np.ndarray:
        """A block summed over chunks so far today (for a phase that reads what an earlier one counted)."""
        s = self.layout.start[name]
        return self.tal[:, s: s + self.layout.size[name]].sum(axis=0)


class Run:
    """What the phases of one run share: the scenario, the world, its lever timelines (this run's copy, which
    rules rewrite), the agents, the tally layout and each phase's offsets into it."""

    def __init__(self, scenario: Scenario, world: World, levers: LeverBook):
        self.scenario, self.world, self.net, self.levers = scenario, world, world.net, levers
        self.timelines = levers.timelines
        # what the kernels take: the same arrays behind one pointer each (see corridor.packed)
        self.kernel_net, self.kernel_levers = pack(world.net), pack(levers.timelines)
        sizes = domain_sizes(len(world.sector_names), len(world.nat_names), len(world.leg_ids), len(world.place_ids))
        self.layout = Layout(all_blocks(), sizes)
        self.offsets = {ph.name: self.layout.offsets(SHARED + ph.BLOCKS) for ph in PHASES}
        self.pop: Population | None = None


class Simulation:
    """One run of a scenario. `run()` returns the simulation; results via `to_df()` or `save()`."""

    def __init__(self, scenario: Scenario, seed: int | None = None, scale: float | None = None):
        scenario = with_run_settings(scenario, seed, scale)   # checked: InputError naming seed or scale
        self.scenario = scenario
        self.world: World = compile_world(scenario)
        self.metrics: pd.DataFrame | None = None
        self.info: dict = {}
        self.rules: RuleBook | None = None

    @classmethod
    def from_scenario(cls, name_or_path: str | Path = "us-mexico", seed: int | None = None,
                      scale: float | None = None, overrides: list[str] | dict | None = None) -> "Simulation":
        return cls(load(name_or_path, overrides), seed=seed, scale=scale)

    # ------------------------------------------------------------------ the run
    def run(self, progress: Callable[[int, int], None] | None = None, *, save_at: dt.date | None = None,
            branch_from: RunState | None = None) -> "Simulation":
        """Run every day; or, from `branch_from` (a `RunState` of this scenario's past), the days after it.
        save_at: a date of the run; its eve's state is kept in `self.state` (to branch from that date)."""
        t0 = time.perf_counter()
        sc, w = self.scenario, self.world
        levers = LeverBook(sc, w.dates, w.levers.target_cum)   # this run's own copy: rules rewrite it
        save_day = self.day_before(save_at) if save_at is not None else None
        if branch_from is not None:
            branch_from.check(prefix=prefix_key(sc, w.dates, levers.timelines, branch_from.day + 1), seed=sc.seed,
                              scale=sc.scale, day=branch_from.day)
        prefix = prefix_key(sc, w.dates, levers.timelines, save_day + 1) if save_day is not None else None
        run = Run(sc, w, levers)
        phases = [ph(run) for ph in PHASES]
        by_class = {type(p): p for p in phases}
        rules = self.rules = RuleBook(sc, w.dates, levers)
        book = MetricBook(sc, w.n_days, w.first_day, w.dates,
                          [(by_class.get(cls), m) for cls, m in declared_metrics()],
                          extra=levers.recorded_names + rules.metric_names)
        run.pop = Population(phases[0].store_rows() + 10_000)
        seconds = {p.name: 0.0 for p in phases} | {"levers": 0.0, "record": 0.0}
        agent_days, first = 0, 0
        if branch_from is not None:
            first, agent_days = self._restore(branch_from, run, phases, rules, book, levers)
        self.state = None
        for d in range(first, w.n_days):
            t = time.perf_counter()
            rules.apply(d, book)                         # conditional levers may rewrite today's row
            book.set_extra(d, 0, levers.recorded(d))
            book.set_extra(d, len(levers.recorded_names), rules.active())
            day = Day(d, w.dates[d], np.uint64(R.day_key(np.uint64(sc.seed), np.uint64(d))),
                      np.zeros((N_CHUNKS, run.layout.width), np.int64), run.layout, sc.scale)
            seconds["levers"] += time.perf_counter() - t
            for p in phases:
                t = time.perf_counter()
                p.step(day)
                seconds[p.name] += time.perf_counter() - t
            agent_days += day.n_active
            t = time.perf_counter()
            for p in phases:
                p.end_day(day)
            book.record(d, day)
            seconds["record"] += time.perf_counter() - t
            if d == save_day:
                self.state = self._capture(d, prefix, run, phases, rules, book, agent_days)
            if progress is not None:
                progress(d + 1, w.n_days)

        self.metrics = book.to_frame()
        pop = run.pop
        self.info = {
            "scenario": sc.name, "scenario_hash": scenario_hash(sc), "seed": sc.seed, "scale": sc.scale,
            "version": __version__, "start": str(sc.start), "end": str(sc.end), "spinup_days": sc.spinup_days,
            "agents_created": int(pop.created), "agent_days": int(agent_days),
            "bytes_per_agent": BYTES_PER_AGENT, "agent_store_bytes": int(pop.nbytes),
            "wall_seconds": round(time.perf_counter() - t0, 3),
            "phase_seconds": {k: round(v, 3) for k, v in seconds.items()},
            "rule_switches": rules.log,
        }
        if branch_from is not None:
            self.info["branched_from"] = {"date": str(w.dates[branch_from.day + 1]), "state_bytes": branch_from.nbytes}
        self._pop = pop
        return self

    # ------------------------------------------------------------------ branching
    def prefix_at(self, date) -> str:
        """The digest a saved state on the eve of `date` must match to start this run (state.prefix_key)."""
        w = self.world
        return prefix_key(self.scenario, w.dates, LeverBook(self.scenario, w.dates, w.levers.target_cum).timelines,
                          self.day_before(date) + 1)

    def day_before(self, date) -> int:
        """The index of the eve of `date`, which must be a day of the run after its first (else InputError)."""
        dates = self.world.dates
        if date not in dates or date == dates[0]:
            raise InputError(f"branch date {date}: not a day of the run after its first ({dates[1]} .. {dates[-1]})")
        return dates.index(date) - 1

    def _capture(self, d, prefix, run, phases, rules, book, agent_days) -> RunState:
        pop = run.pop
        return RunState(
            day=d, date=str(self.world.dates[d]), prefix=prefix, seed=self.scenario.seed, scale=self.scenario.scale,
            fingerprint=engine_fingerprint(),
            agents={k: v[: pop.n].copy() for k, v in pop.cols.items()},
            books={"created": np.int64(pop.created), "retired": pop.retired.copy(), "bounds": np.array(pop.bounds),
                   "metrics": book.full[: d + 1].copy(), "metric_names": np.array(book.names),
                   "agent_days": np.int64(agent_days)},
            phases={p.name: {a: np.array(getattr(p, a), copy=True) for a in p.STATE} for p in phases},
            rules=rule_state(rules))

    @staticmethod
    def _restore(state: RunState, run, phases, rules, book, levers) -> tuple[int, int]:
        """This run's objects as they stood at the end of `state.day`; returns the next day and the agent-days
        so far."""
        n = len(state.agents["uid"])
        pop = run.pop
        pop.reserve(n)
        for k, v in state.agents.items():
            pop.cols[k][:n] = v
        pop.n, pop.created = n, int(state.books["created"])
        pop.retired = state.books["retired"].astype(np.int64)
        pop.bounds = tuple(int(x) for x in state.books["bounds"])
        for p in phases:
            for a in p.STATE:
                setattr(p, a, state.phases[p.name][a].copy())
        restore_rules(rules, state.rules)
        first = state.day + 1
        if rules.rules and any(st.on for st in rules.state):
            levers.rewrite(first, rules.touched, rules.active_settings())
        saved = {str(n): k for k, n in enumerate(state.books["metric_names"])}
        later = {RULE_PREFIX + r.name for r in rules.rules if starts_on_or_after(r, run.world.dates[first])}
        missing = [n for n in book.names if n not in saved and n not in later]
        if missing:
            raise InputError(f"state of {state.date}: cannot branch: it lacks the metrics {', '.join(missing[:5])}")
        cols = [book.index[n] for n in saved if n in book.index]
        book.full[:first, cols] = state.books["metrics"][:, [saved[n] for n in saved if n in book.index]]
        return first, int(state.books["agent_days"])

    # ------------------------------------------------------------------ results
    def to_df(self) -> pd.DataFrame:
        if self.metrics is None:
            raise RuntimeError("run() the simulation first")
        return self.metrics

    def save(self, out_dir: str | Path) -> Path:
        return write_run(out_dir, self.to_df(), self.info)

    def summary(self) -> dict:
        return summarise(self.to_df(), self.info)


__all__ = ["Simulation", "Day", "Run"]
