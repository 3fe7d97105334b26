"""The daily phases, in the order of the brief. Each module holds its kernel(s) and its glue: what it
reads (its class docstring), the tally blocks (`BLOCKS`) and the metrics (`METRICS`) it declares.

A phase is a class built with the run (`Phase(run)`), whose `step(day)` acts on today's agents and whose
`end_day(day)` keeps what tomorrow needs from today's tally and census. The engine walks `PHASES`.
"""
from __future__ import annotations

from ..timelines import LEVER_PREFIX, recorded_lever_names
from ..metrics import RULE_PREFIX, Metric
from . import outcomes
from .border import Border
from .census import Census
from .common import SHARED
from .custody import Custody
from .departures import Departures
from .encounter import Encounter
from .inspections import Inspections
from .movement import Movement
from .removals import Removals
from .retries import Retries

PHASES = (Departures, Movement, Inspections, Border, Encounter, Custody, Removals, Retries, Census)
SHARED_METRICS = outcomes.METRICS      # counted by several phases (outcomes of US processing)


def all_blocks() -> list:
    """Every tally block: the shared ones, then each phase's own, in phase order."""
    return list(SHARED) + [b for ph in PHASES for b in ph.BLOCKS]


def declared_metrics() -> list[tuple[type | None, Metric]]:
    """(phase class or None for shared, metric) in recording order."""
    return [(None, m) for m in SHARED_METRICS] + [(ph, m) for ph in PHASES for m in ph.METRICS]


def metric_names(sc) -> list[str]:
    """The metrics a run of `sc` records (what a rule's condition may watch), without compiling the world."""
    names = [n for _, m in declared_metrics() for n in m.names(sc)]
    return names + recorded_lever_names(sc) + [RULE_PREFIX + r.name for r in sc.rules]


__all__ = ["PHASES", "SHARED", "SHARED_METRICS", "LEVER_PREFIX", "all_blocks", "declared_metrics", "metric_names"]
