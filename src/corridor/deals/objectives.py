"""What each side of the talks cares about, measured on one run over the deal's period.

Every objective is minimised and belongs to one side: the US, Mexico, or the people on the move. All but one
are read from a run's metrics; `mexico_personnel` is computed from the levers a deal sets, because the
simulation records the personnel figure without tying it to enforcement (so, read from a run, enforcement
would cost Mexico nothing).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError


@dataclass(frozen=True)
class Objective:
    name: str
    side: str            # "US" | "Mexico" | "people"
    unit: str
    meaning: str
    direction: str = "min"


OBJECTIVES: tuple[Objective, ...] = (
    Objective("us_encounters", "US", "people", "southwest border encounters over the period (sw_encounters)"),
    Objective("us_peak_custody_over_capacity", "US", "people",
              "peak of the people held in Border Patrol custody above holding capacity (custody_over_capacity)"),
    Objective("us_removals_to_fly", "US", "people",
              "removals the US must carry out itself over the period: by flight, or Mexicans over land (removals; "
              "non-Mexicans returned to Mexico are counted by Mexico instead)"),
    Objective("mexico_crossing_closed_days", "Mexico", "crossing-days",
              "days of the period, summed over crossings, that a port crossing is closed (crossing_open)"),
    Objective("mexico_trade_blocked_usd", "Mexico", "US$", "trade through the closed crossings over the period "
              "(trade_blocked_usd)"),
    Objective("mexico_personnel", "Mexico", "people",
              "military and National Guard the deal's enforcement and contention need (computed from the levers; "
              "see PERSONNEL)"),
    Objective("mexico_people_stranded", "Mexico", "people",
              "mean number of people stopped in Mexico: at transit hubs, checkpoint towns and border cities "
              "(stranded_mexico)"),
    Objective("mexico_returns_accepted", "Mexico", "people", "non-Mexicans the US returns to Mexico over the "
              "period (returns_to_mexico)"),
    Objective("people_custody_days_over_capacity", "people", "person-days",
              "days people spend in Border Patrol custody above holding capacity (custody_over_capacity summed)"),
    Objective("people_in_crowded_cities", "people", "people",
              "mean number of people waiting in a border city that holds more people than its shelter places "
              "(waiting_population; see CROWDED)"),
    Objective("people_repeat_attempts", "people", "people", "encounters of people encountered before "
              "(repeat_encounters)"),
)
BY_NAME = {o.name: o for o in OBJECTIVES}
SIDES = ("US", "Mexico", "people")

# ---------------------------------------------------------------------------------------------- personnel
# mexico_personnel = P * enforcement + sum over modes of contention[mode] * MODE_SHARE * P
#                    + guatemala_border_block * SOUTH_BORDER
# P: the scenario's policies.mexico_personnel on the branch date (us-mexico: ~32,000 federal forces on the
#    migration plan since Oct 2021, facts_transit.csv row 18), taken as what enforcement 1.0 needs; ASSUMED
#    proportional to the enforcement level (no facts row relates personnel to detection).
# SOUTH_BORDER: the 2019 'sealing' of the southern border, 6,300 National Guard in 23 border municipalities
#    (facts_transit.csv row 39), taken as what a full block (1.0) of the Guatemala border needs.
# MODE_SHARE: ASSUMED, a quarter of P for full contention (1.0) on one mode (train, bus, truck, foot): the
#    31,000 National Guard on migration control in Oct 2023 covered borders, bus stations, highway checkpoints
#    and railways together (facts_transit.csv row 20); no row splits them.
SOUTH_BORDER = 6300.0
MODE_SHARE = 0.25
MODES = ("train", "bus", "truck", "foot")


def personnel(levels: dict[str, float], base: float) -> float:
    """Personnel a deal needs from its lever levels on the branch date (keys: enforcement, contention.<mode>,
    guatemala_border_block)."""
    p = base * levels.get("enforcement", 1.0)
    p += sum(levels.get(f"contention.{m}", 0.0) for m in MODES) * MODE_SHARE * base
    p += levels.get("guatemala_border_block", 0.0) * SOUTH_BORDER
    return float(p)


# ---------------------------------------------------------------------------------------------- crowding
# CROWDED: a border city is crowded on a day when more people wait there than its shelter places (the
# scenario's places[].shelter_capacity, e.g. Ciudad Juárez 2,795: facts_transit.csv row 164); for a city
# without a known figure ASSUMED 1,000 places.
CROWDED_DEFAULT_PLACES = 1000.0


def shelter_places(sc) -> dict[str, float]:
    """Shelter places per border city, keyed by name as the waiting_population metric is."""
    return {p.name: float(p.shelter_capacity if p.shelter_capacity is not None else CROWDED_DEFAULT_PLACES)
            for p in sc.places if p.kind == "border_city"}


# ---------------------------------------------------------------------------------------------- one run
def measure(df: pd.DataFrame, period: tuple[dt.date, dt.date], places: dict[str, float]) -> dict[str, float]:
    """Every metric-based objective of one run (tidy date, metric, value) over the period."""
    dates = pd.to_datetime(df["date"]).dt.date
    inside = df[(dates >= period[0]) & (dates <= period[1])]
    if inside.empty:
        raise InputError(f"the runs record no day in the period {period[0]}..{period[1]}")
    wide = inside.pivot_table(index="date", columns="metric", values="value", aggfunc="sum")

    def col(name: str) -> np.ndarray:
        return wide[name].to_numpy(dtype=float) if name in wide else np.zeros(len(wide))

    over = col("custody_over_capacity")
    closed = [c for c in wide.columns if c.startswith("crossing_open:") and not c.startswith("crossing_open:between-")]
    crowded = np.zeros(len(wide))
    for city, cap in places.items():
        w = col(f"waiting_population:{city}")
        crowded += np.where(w > cap, w, 0.0)
    return {
        "us_encounters": float(col("sw_encounters").sum()),
        "us_peak_custody_over_capacity": float(over.max()),
        "us_removals_to_fly": float(col("removals").sum()),
        "mexico_crossing_closed_days": float(sum((1.0 - col(c)).sum() for c in closed)),
        "mexico_trade_blocked_usd": float(col("trade_blocked_usd").sum()),
        "mexico_people_stranded": float(col("stranded_mexico").mean()),
        "mexico_returns_accepted": float(col("returns_to_mexico").sum()),
        "people_custody_days_over_capacity": float(over.sum()),
        "people_in_crowded_cities": float(crowded.mean()),
        "people_repeat_attempts": float(col("repeat_encounters").sum()),
    }


def parse_period(text: str | None, branch: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """FROM:TO of the objectives (default: the six months after the branch month, as the reports' totals,
    clipped to the scenario's end)."""
    if not text:
        lo = (branch.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        hi = (lo.replace(month=((lo.month + 5) % 12) or 12, year=lo.year + (lo.month + 5 > 12))
              + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        if lo > end:
            lo = branch
        return lo, min(hi, end)
    try:
        lo, hi = (dt.date.fromisoformat(p.strip()) for p in text.split(":"))
    except ValueError:
        raise InputError(f"--period {text!r}: expected FROM:TO as YYYY-MM-DD:YYYY-MM-DD") from None
    if lo > hi or lo < branch:
        raise InputError(f"--period {text!r}: FROM must be on or after the branch date {branch} and before TO")
    return lo, hi
