"""Conditional rules: levers that fire on what the simulation observes, not only on dates."""
from __future__ import annotations


class RuleBook:
    """Evaluates the scenario's rules once a day and rewrites the day's lever rows (see `apply`)."""

    def __init__(self, scenario, world):
        self.scenario = scenario
        self.world = world
        self.log: list[dict] = []

    def apply(self, d: int, book) -> None:
        return None
