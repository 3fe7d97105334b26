"""The deal explorer: a multi-objective search of US-Mexico lever trades and its Pareto front.

`space` (what a deal sets), `objectives` (what each side counts), `draws` (the uncertain parameters every deal
shares), `evaluate` (one run of a deal: the engine's only entry), `scoring` (robust scores, noise), `search`
(NSGA-II on a journal, on dask), `front` (non-domination, hypervolume, merging), `discovery` (where a deal
stops beating the status quo) and `report` (report.html).
"""
from .search import DealSearch

__all__ = ["DealSearch"]
