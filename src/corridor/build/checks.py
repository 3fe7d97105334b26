"""What a built scenario must satisfy before it is written (it validates, every fitted value landed, every item
cites a source, shares sum to 1, every origin reaches its border cities), and the derivations `--explain` prints."""
from __future__ import annotations

import heapq
import math
from collections import defaultdict, deque

import yaml

from corridor.scenario import Scenario

from .inputs import BuildError
from .places import BORDER_IDS
from .us_mexico import Built

SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)   # libyaml's, when built with it: ten times faster


def value_at(raw: dict, dotted: str):
    """The value at a dotted path of a raw scenario (list items by name or id); KeyError if absent."""
    node = raw
    for part in dotted.split("."):
        if isinstance(node, list):
            node = next(x for x in node if x.get("name", x.get("id")) == part)
        else:
            node = node[part]
    return node


def reachable(legs: list[dict], origin: str) -> set[str]:
    adj = defaultdict(set)
    for leg in legs:
        adj[leg["from"]].add(leg["to"])
    seen, q = {origin}, deque([origin])
    while q:
        for v in adj[q.popleft()]:
            if v not in seen:
                seen.add(v)
                q.append(v)
    return seen


def check(b: Built) -> None:
    """Raise BuildError (or the schema's validation error) if the built scenario is not one the engine can run
    as intended."""
    raw = yaml.load(b.text, Loader=SAFE_LOADER)
    Scenario.model_validate(raw)
    unused = b.fit.unused()
    if unused:
        raise BuildError(f"{b.fit.shown_path}: the builder has no place for fitted value(s) {', '.join(unused)}")
    for key, (value, _) in b.fit.values.items():
        got = value_at(raw, key)
        if got != value:
            raise BuildError(f"fitted {key}: {value!r} in {b.fit.shown_path}, {got!r} in the YAML")
    for it in b.legs + b.crossings.items + b.sectors.items + b.nationalities:
        if not it.get("source"):
            raise BuildError(f"an item cites no source: {it.get('id', it.get('name'))}")
    tot = sum(c["appointment_share"] for c in b.crossings.items)
    if abs(tot - 1) >= 1e-9:
        raise BuildError(f"appointment shares sum to {tot}, not 1")
    between = defaultdict(int)
    for c in b.crossings.items:
        if c["kind"] == "between_ports":
            between[c["city"]] += 1
    if any(between[city] != 1 for city in BORDER_IDS):
        raise BuildError(f"each border city needs exactly one between-ports crossing: {dict(between)}")
    for n in b.nationalities:
        targets = {city for split in n["border_cities"] for city in split["weights"]}
        for origin in n["origins"]:
            missing = sorted(targets - reachable(b.legs, origin))
            if missing:
                raise BuildError(f"{n['name']}: {origin} cannot reach {missing}")


def detection_paths(legs: list[dict]) -> list[str]:
    """Cumulative detection on the least-detection path Tapachula -> some border cities, by set of modes."""
    out = []
    for modes in (("bus",), ("train", "foot"), ("truck", "bus"), ("bus", "train", "truck", "foot")):
        row = []
        for city in ("ciudad-juarez", "reynosa", "tijuana", "piedras-negras"):
            dist = {"tapachula": 0.0}
            pq = [(0.0, "tapachula")]
            while pq:
                d, u = heapq.heappop(pq)
                if d > dist.get(u, 9e9):
                    continue
                for leg in legs:
                    if leg["from"] == u and leg["mode"] in modes:
                        p = leg["inspection"]["detection"] if "inspection" in leg else 0.0
                        nd = d - math.log(1 - p)
                        if nd < dist.get(leg["to"], 9e9):
                            dist[leg["to"]] = nd
                            heapq.heappush(pq, (nd, leg["to"]))
            row.append(f"{city} {1 - math.exp(-dist[city]):.2f}" if city in dist else f"{city} -")
        out.append(f"min cumulative detection from Tapachula, {'/'.join(modes)} : {', '.join(row)}")
    return out


def explain(b: Built) -> list[str]:
    """The derived figures the scenario relies on, for a reader checking the builder's arithmetic."""
    c, s, lv = b.crossings, b.sectors, b.levers
    sp, dep = b.splits, b.deportation
    weights = {n["name"]: float(b.encounters.by_cit[key]) for n, key in zip(b.nationalities, b.nationality_keys)}
    t42 = sum(weights[n["name"]] * n["title42_expulsion"][0]["value"] for n in b.nationalities) / sum(weights.values())
    return [
        f"places {len(b.places.specs)}, legs {len(b.legs)}, crossings {len(c.items)}",
        f"appointment shares {c.appointment_shares}",
        f"holding { {x['name']: x['holding_capacity'] for x in s.items} }",
        f"processing { {x['name']: x['processing_capacity'] for x in s.items} }",
        f"gotaway {s.gotaway_oct22:.3f} {s.gotaway_q1fy24:.3f}; PN share {sp.pn_share}; Reynosa share {sp.rey_share}",
        f"deport ratio 2022 {dep.ratios[0]:.2f}, 2023 {dep.ratios[1]:.2f}; appointments pre-May "
        f"{lv.appointments['pre_may']}",
        f"parole {lv.parole['per_month']} venezuela phase 1 {lv.parole['ven_phase1']} flights "
        f"{lv.flights['by_nationality']} {lv.flights['ven_per_day']}",
        f"USD per truck {c.derived['usd_per_truck']:,.0f}; Eagle rail share {c.derived['eagle_rail_share']:.3f}",
        f"encounter-weighted Title 42 share before May 2023: {t42:.2f} (Jan 2023 observed 0.413)",
        *detection_paths(b.legs),
    ]

