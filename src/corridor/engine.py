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

import time
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from . import __version__
from . import rng as R
from .metrics import MetricBook
from .phases import PHASES, SHARED, all_blocks, declared_metrics
from .phases.common import N_CHUNKS
from .population import BYTES_PER_AGENT, Population
from .results import summarise, write_run
from .rules import RuleBook
from .scenario import Scenario, load, scenario_hash, with_run_settings
from .tally import Layout, domain_sizes
from .timelines import LeverBook
from .world import World, compile_world


class Day:
    """Today, as the phases see it: the day's number, date and random key, the agents and their parts of the
    active list, the per-chunk tally (`tal`) and, once the census has run, its sum (`tally`) and stocks
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
    def run(self, progress: Callable[[int, int], None] | None = None) -> "Simulation":
        t0 = time.perf_counter()
        sc, w = self.scenario, self.world
        levers = LeverBook(sc, w.dates, w.levers.target_cum)   # this run's own copy: rules rewrite it
        run = Run(sc, w, levers)
        phases = [ph(run) for ph in PHASES]
        by_class = {type(p): p for p in phases}
        rules = self.rules = RuleBook(sc, w.dates, levers)
        book = MetricBook(sc, w.n_days, w.first_day, w.dates,
                          [(by_class.get(cls), m) for cls, m in declared_metrics()],
                          extra=levers.recorded_names + rules.metric_names)
        run.pop = Population(int(phases[0].expected_agents()) + 10_000)
        seconds = {p.name: 0.0 for p in phases} | {"levers": 0.0, "record": 0.0}
        agent_days = 0
        for d in range(w.n_days):
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
            agent_days += day.active.shape[0]
            t = time.perf_counter()
            for p in phases:
                p.end_day(day)
            book.record(d, day)
            seconds["record"] += time.perf_counter() - t
            if progress is not None:
                progress(d + 1, w.n_days)

        self.metrics = book.to_frame()
        pop = run.pop
        self.info = {
            "scenario": sc.name, "scenario_hash": scenario_hash(sc), "seed": sc.seed, "scale": sc.scale,
            "version": __version__, "start": str(sc.start), "end": str(sc.end), "spinup_days": sc.spinup_days,
            "agents_created": int(pop.n), "agent_days": int(agent_days),
            "bytes_per_agent": BYTES_PER_AGENT, "agent_store_bytes": int(pop.nbytes),
            "wall_seconds": round(time.perf_counter() - t0, 3),
            "phase_seconds": {k: round(v, 3) for k, v in seconds.items()},
            "rule_switches": rules.log,
        }
        self._pop = pop
        return self

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
