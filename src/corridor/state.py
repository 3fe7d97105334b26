"""Saved run states: a run stopped at the end of a day, to branch what-ifs from.

Scenarios that differ only from a branch date on (a lever set from 2023-12-28, a deal) share everything
before it. A run saves its whole state on the eve of the branch date — the agents still on their way (the
finished ones are counts), each phase's memory (news, queues, capacities), the rules' state and the metrics
so far — and each variant starts from it. The random numbers are counter-based (seed, day, agent), so the
day is their position and a branched run is bit-identical to a full one.

A state is keyed by the scenario's *prefix*: everything that is not a dated lever, and every dated lever's
daily values before the branch date (`prefix_key`), with the seed, the scale and the engine fingerprint. A
state that does not match is refused with a message that says what differs. States are cached under
``~/.cache/corridor/states/`` (or ``$CORRIDOR_STATE_DIR``), one ``.npz`` file each (no pickle).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import InputError
from .fingerprint import engine_fingerprint
from .levers import LEVERS
from .results import atomic_write

__all__ = ["RunState", "StateCache", "prefix_key", "state_dir"]

_IDENTITY = ("name", "description", "notes", "extends", "end", "seed", "scale")  # change nothing before a day


def prefix_key(scenario, dates, timelines, day: int) -> str:
    """A digest of what a run's days before `day` depend on: the scenario less its name, end, seed and
    scale, less its dated levers and less the rules that start on `day` or later, plus those levers' daily
    values on days [0, day) (as compiled, before any conditional rule rewrote them)."""
    dump = scenario.model_dump(mode="json", by_alias=True)
    for k in _IDENTITY:
        dump.pop(k, None)
    dump["rules"] = [r for r, rule in zip(dump.get("rules", []), scenario.rules)
                     if not starts_on_or_after(rule, dates[day])]
    for lv in LEVERS:
        if not lv.dated:
            continue
        if lv.per_nationality:
            for nat in dump.get("nationalities", []):
                nat.pop(lv.field, None)
        else:
            dump.get("policies", {}).pop(lv.field, None)
    h = hashlib.sha256(json.dumps(dump, sort_keys=True, default=str).encode())
    for name, arr in zip(timelines._fields, timelines):
        h.update(name.encode())
        h.update(np.ascontiguousarray(np.asarray(arr)[:day]).tobytes())
    return h.hexdigest()[:32]


def starts_on_or_after(rule, date) -> bool:
    """A rule that starts on `date` or later: nothing before it depends on the rule."""
    return rule.active_from is not None and rule.active_from >= date


def state_dir() -> Path:
    given = os.environ.get("CORRIDOR_STATE_DIR")
    if given:
        return Path(given)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "corridor" / "states"


@dataclass
class RunState:
    """Everything a run needs to go on from the end of day `day` (its index; `date` its date)."""

    day: int
    date: str
    prefix: str                       # prefix_key at day + 1
    seed: int
    scale: float
    fingerprint: str
    agents: dict[str, np.ndarray]     # the store's live rows, by column
    books: dict[str, np.ndarray]      # created, retired, bounds, the metrics so far, agent-days
    phases: dict[str, dict[str, np.ndarray]]
    rules: dict = field(default_factory=dict)

    @property
    def nbytes(self) -> int:
        arrays = list(self.agents.values()) + list(self.books.values())
        arrays += [a for p in self.phases.values() for a in p.values()]
        return int(sum(np.asarray(a).nbytes for a in arrays))

    def describe(self) -> str:
        return (f"state of {self.date} (seed {self.seed}, scale {self.scale:g}): "
                f"{len(next(iter(self.agents.values())))} agents on their way, {self.nbytes / 2**20:.1f} MiB")

    def check(self, *, prefix: str, seed: int, scale: float, day: int, where: str = "state") -> None:
        """Refuse a state that is not this run's past, naming what differs."""
        wrong = []
        if self.fingerprint != engine_fingerprint():
            wrong.append(f"engine {self.fingerprint} (this engine is {engine_fingerprint()})")
        if self.seed != seed:
            wrong.append(f"seed {self.seed} (this run's is {seed})")
        if float(self.scale) != float(scale):
            wrong.append(f"scale {self.scale:g} (this run's is {scale:g})")
        if self.day != day:
            wrong.append(f"day {self.date} (the branch needs the eve of the branch date)")
        if self.prefix != prefix:
            wrong.append("scenario: it differs from this one before the branch date")
        if wrong:
            raise InputError(f"{where}: cannot branch from this saved state: " + "; ".join(wrong))

    # -- files
    def save(self, path: str | Path) -> Path:
        meta = {k: getattr(self, k) for k in ("day", "date", "prefix", "seed", "scale", "fingerprint", "rules")}
        arrays = {"meta": np.array(json.dumps(meta))}
        arrays |= {f"agents.{k}": v for k, v in self.agents.items()}
        arrays |= {f"books.{k}": np.asarray(v) for k, v in self.books.items()}
        arrays |= {f"phase.{p}.{k}": np.asarray(v) for p, d in self.phases.items() for k, v in d.items()}
        def write(tmp: Path) -> None:
            with open(tmp, "wb") as f:       # a file object: np.savez would add ".npz" to a path
                np.savez(f, **arrays)
        atomic_write(path, write)
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> "RunState":
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                agents, books, phases = {}, {}, {}
                for k in z.files:
                    head, _, rest = k.partition(".")
                    if head == "agents":
                        agents[rest] = z[k]
                    elif head == "books":
                        books[rest] = z[k]
                    elif head == "phase":
                        p, _, attr = rest.partition(".")
                        phases.setdefault(p, {})[attr] = z[k]
        except (OSError, ValueError, KeyError) as e:
            raise InputError(f"{path}: not a readable corridor state ({e})") from None
        return cls(agents=agents, books=books, phases=phases, **meta)


class StateCache:
    """Saved states on disk, one file per (scenario prefix, seed, scale, branch date, engine)."""

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root is not None else state_dir()

    def path(self, prefix: str, seed: int, scale: float, eve: dt.date | str) -> Path:
        """The file of the state at the end of day `eve` (the branch date's eve)."""
        return self.root / engine_fingerprint() / f"{prefix}-seed{seed}-scale{scale:g}-{eve}.npz"

    def get(self, prefix: str, seed: int, scale: float, eve) -> RunState | None:
        p = self.path(prefix, seed, scale, eve)
        return RunState.load(p) if p.exists() else None

    def put(self, state: RunState) -> Path:
        return state.save(self.path(state.prefix, state.seed, state.scale, state.date))


def run_branched(sim, branch: dt.date, cache: StateCache | None, memory: dict, progress=None) -> str:
    """Run `sim` from a saved state on the eve of `branch` when one matches (in `memory`, then in `cache`),
    else in full, keeping its state there for the next. Returns how it ran, in words."""
    eve = branch - dt.timedelta(days=1)
    prefix = sim.prefix_at(branch)
    sc = sim.scenario
    key = (prefix, sc.seed, float(sc.scale), str(eve))
    state = memory.get(key) or (cache.get(*key) if cache is not None else None)
    if state is not None:
        sim.run(progress=progress, branch_from=state)
        return f"branched from the {state.describe()}"
    sim.run(progress=progress, save_at=branch)
    memory[key] = sim.state
    if cache is not None:
        cache.put(sim.state)
    return f"ran in full, keeping its {sim.state.describe()}"


def rule_state(rules) -> dict:
    """The rules' memory (on/off, counters, pending switches), by rule name, and their log, as JSON data."""
    return {"state": {r.name: dataclasses.asdict(s) for r, s in zip(rules.rules, rules.state)}, "log": list(rules.log)}


def restore_rules(rules, saved: dict) -> None:
    """Each rule's memory by name; a rule the saved run did not have starts after the branch (the prefix
    check made sure), so it starts fresh."""
    by_name = saved.get("state", {})
    for r, st in zip(rules.rules, rules.state):
        for k, v in by_name.get(r.name, {}).items():
            setattr(st, k, tuple(v) if isinstance(v, list) else v)
    rules.log = list(saved.get("log", []))
