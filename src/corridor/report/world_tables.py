"""The corridor as the report sees it: places and legs for the map, sectors in order, the scenario's labels.

Everything the report knows about a particular corridor comes through here (from a scenario, or built by
hand in a test), so the drawing code holds no place, sector or period of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from .labels import ReportLabels, labels_for

__all__ = ["WorldTables"]


@dataclass
class WorldTables:
    """The corridor's graph for the map, and what the report says about it.

    places: id, name, kind (origin/transit/checkpoint/border_city/crossing/sector/sink), country, lat, lon.
    legs: id, from_place, to_place, mode (foot/bus/train/truck/boat/air).
    sectors: Border Patrol sector names in the order the scenario file lists them (panels follow it;
    sectors found only in the runs come after, in the runs' order).
    labels: baseline, totals period, map window and observed source (`ReportLabels`).
    """

    places: pd.DataFrame
    legs: pd.DataFrame
    sectors: list[str] = field(default_factory=list)
    labels: ReportLabels = field(default_factory=ReportLabels)

    @classmethod
    def from_scenario(cls, sc) -> "WorldTables":
        """Places, legs and sectors of a scenario (`corridor.scenario.Scenario`) and its labels file."""
        places = pd.DataFrame([{"id": p.id, "name": p.name, "kind": p.kind, "country": p.country, "lat": p.lat,
                                "lon": p.lon} for p in sc.places])
        legs = pd.DataFrame([{"id": l.id, "from_place": l.from_place, "to_place": l.to_place, "mode": l.mode}
                             for l in sc.legs])
        return cls(places=places, legs=legs, sectors=[s.name for s in sc.sectors], labels=labels_for(sc.name))
