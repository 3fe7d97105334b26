"""The scenario schema (pydantic v2): places, legs, crossings, sectors, nationalities, levers, behaviour, rules.

The levers' fields (`Policies`, and the per-nationality levers of `Nationality`) are generated from the
lever registry (`corridor.levers`), which also validates their values; the rest is declared here.
"""
from __future__ import annotations

import datetime as dt
import math
from typing import Any, Literal, Optional, Union

from pydantic import ConfigDict, Field, PrivateAttr, create_model, field_validator, model_validator

from .. import levers
from ..codes import CROSSING_KINDS, MODES, PLACE_KINDS, REGIONS
from ..levers import Strict

SEED_LIMIT = 2 ** 63
"""Seeds are 0 <= seed < 2**63 (they key the counter-based random numbers as unsigned 64-bit integers)."""


class Finite(Strict):
    """Numbers must be finite: NaN or infinity in a scenario is refused with the field's name."""
    model_config = ConfigDict(allow_inf_nan=False)


def _weights(v: dict, what: str) -> dict:
    """Weights of a split: finite, 0 or more, summing to more than 0."""
    bad = {k: w for k, w in v.items() if not (math.isfinite(w) and w >= 0)}
    if bad:
        raise ValueError(f"bad {what} weights {bad}; valid: finite numbers >= 0")
    if v and sum(v.values()) <= 0:
        raise ValueError(f"{what} weights must sum to more than 0, got {v}")
    if not v:
        raise ValueError(f"{what} needs at least one weight")
    return v


class Place(Finite):
    id: str
    name: str
    kind: Literal[PLACE_KINDS]
    country: str
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    dwell_days: float = Field(0.0, ge=0, description="mean days people stay here before moving on (waiting for papers, money, a train)")
    shelter_capacity: int | None = Field(None, ge=0, description="shelter places (border cities); reported, not enforced")
    sector: str | None = Field(None, description="for border cities: the Border Patrol sector they face")
    source: str = ""


class Inspection(Finite):
    """An immigration checkpoint on a leg (Mexico): chance to be detected per passage at enforcement 1.0."""
    detection: float = Field(ge=0, le=1)
    name: str = ""


class Leg(Finite):
    id: str
    from_place: str = Field(alias="from")
    to_place: str = Field(alias="to")
    mode: Literal[MODES]
    km: float = Field(ge=0)
    days: float = Field(gt=0)
    cost_usd: float = Field(0.0, ge=0)
    capacity: float | None = Field(None, ge=0, description="people per day who can start this leg")
    inspection: Inspection | None = None
    region: Literal[REGIONS] = "central_america"
    visa_gated: bool = Field(False, description="needs a Mexican visa (air arrivals): closed to nationalities that need one")
    counts_as: str | None = Field(None, description="metric incremented when someone starts the leg, e.g. darien_crossings")
    source: str = ""


class Crossing(Finite):
    """A place where people and goods cross into the US: a port of entry, a rail bridge or a stretch between ports."""
    id: str
    name: str
    kind: Literal[CROSSING_KINDS]
    city: str = Field(description="the Mexican border city (place id) it faces")
    sector: str
    lat: float
    lon: float
    appointment_share: float = Field(0.0, ge=0, le=1, description="share of the daily CBP One slots processed here")
    redeploy_capacity: float = Field(0.0, ge=0, description="people/day of extra processing in the sector when closed (officers shifted)")
    trade_usd_per_day: float = Field(0.0, ge=0)
    source: str = ""


class Sector(Finite):
    name: str
    city: str = Field(description="place id of the sector's processing site")
    processing_capacity: float = Field(gt=0, description="people processed per day")
    holding_capacity: float = Field(gt=0, description="people who can be held at once")
    gotaway_share: float = Field(0.1, ge=0, le=1)
    source: str = ""


class Departures(Finite):
    """Departures per day from the origins of one nationality, before push and pull factors."""
    base_per_day: float = Field(ge=0, description="people/day at a perceived chance of entry equal to `reference_chance`")
    trend_per_year: float = Field(0.0, ge=-1, le=5, description="relative change per year (0.1 = +10%/yr)")
    seasonal_amplitude: float = Field(0.0, ge=0, le=1)
    seasonal_peak_month: int = Field(7, ge=1, le=12)
    elasticity: float = Field(1.0, ge=0, le=5, description="response of departures to the perceived chance of getting in")
    reference_chance: float = Field(0.6, gt=0, le=1)


class _NationalityBase(Strict):
    name: str = Field(description="CBP citizenship label, as in monthly.csv")
    origins: dict[str, float] = Field(description="departure place id -> weight")
    departures: Departures
    returnable_to_mexico: bool = Field(False, description="Mexico takes them back (Mexicans, Central Americans; others by agreement)")
    transit_mexico: bool = Field(True, description="False for Mexicans: not inspected by Mexico's migration authority")
    source: str = ""

    @field_validator("origins")
    @classmethod
    def _origin_weights(cls, v):
        return _weights(v, "origin")

    def city_splits(self) -> list[tuple[dt.date | None, dict[str, float]]]:
        """The split over border cities as dated steps; a constant split is one step from the start (None)."""
        if isinstance(self.border_cities, dict):
            return [(None, self.border_cities)]
        return [(s.start, s.weights) for s in self.border_cities]


Nationality = create_model("Nationality", __base__=_NationalityBase, __module__=__name__,
                           **levers.pydantic_fields("nationalities"))
Nationality.__doc__ = "One nationality: its origins, departures, and the levers that act on it (from the lever registry)."


class Caravan(Finite):
    """A group that leaves together and is harder to stop at inspection points."""
    id: str | None = Field(None, description="optional; a variant (`extends`) that lists caravans with ids adds them to the parent's")
    date: dt.date
    origin: str
    size: int = Field(gt=0)
    cohesion: float = Field(0.9, ge=0, le=1, description="daily chance a member stays with the group")
    nationalities: dict[str, float]
    target: str | None = Field(None, description="border city id; default: each member's own")

    @field_validator("nationalities")
    @classmethod
    def _nationality_weights(cls, v):
        return _weights(v, "nationality")


Policies = create_model("Policies", __base__=Strict, __module__=__name__, **levers.pydantic_fields("policies"))
Policies.__doc__ = ("The levers of the talks, declared in corridor.levers. 1.0 means the calibrated 2023 level wherever "
                    "a lever is a multiplier; every lever is a constant or dated steps [{from: DATE, value: V}, ...].")


class Behaviour(Finite):
    """How people decide. Values are assumed or fitted; each says which in the scenario file."""
    perceived_chance_days: float = Field(21.0, gt=0, description="mean delay for news of outcomes to reach origins")
    route_time_weight: float = Field(1.0, ge=0)
    route_cost_weight: float = Field(0.002, ge=0, description="per USD")
    route_risk_weight: float = Field(8.0, ge=0, description="per unit detection probability")
    appointment_seekers: float = Field(0.5, ge=0, le=1, description="share of arrivals at the border who wait for a CBP One slot when slots exist")
    crossing_hazard: float = Field(0.15, ge=0, le=1, description="daily chance a waiting irregular crosser crosses")
    appointment_patience_days: float = Field(60.0, gt=0)
    port_presentation_share: float = Field(0.03, ge=0, le=1, description="irregular crossers who present at a port instead")
    give_up_hazard: float = Field(0.002, ge=0, le=1, description="daily chance someone waiting at the border settles or leaves")
    retry_after_return: float = Field(0.6, ge=0, le=1, description="chance someone returned to Mexico other than by a Title 42 expulsion tries again (also after expulsions when retry_after_expulsion is unset)")
    retry_after_expulsion: Optional[float] = Field(None, ge=0, le=1, description="chance someone expelled to Mexico under Title 42 (quick, no penalty) tries again; unset: retry_after_return")
    trend_until: Optional[dt.date] = Field(None, description="departure trends stop compounding after this date (a forecast holds each trend's level from the last observed month on); unset: no end")
    news_quit_rate: float = Field(0.0, ge=0, le=1, description="daily chance that someone en route or waiting at the border stops, at the worst news (scaled by how far the perceived chance of getting in has fallen below its long-run memory)")
    network_elasticity: float = Field(0.0, ge=0, le=2, description="response of departures to momentum in the news through migrant networks: departures scale by (recent good outcomes of the nationality / their long-run level) to this power (0: no network effect)")
    mexico_news_weight: float = Field(0.0, ge=0, le=5, description="weight of a detention in Mexico in the news that reaches origins: each counts as this many bad outcomes in the perceived chance of getting in (0: only deportations by Mexico count)")
    news_memory_days: float = Field(120.0, gt=0, description="mean memory (days) of the long-run perceived chance that news is measured against (at least perceived_chance_days)")
    retry_after_removal: float = Field(0.2, ge=0, le=1, description="chance someone removed home sets out again")
    retry_delay_days: float = Field(60.0, gt=0)
    mexico_detention_days: float = Field(5.0, gt=0)
    processing_days: float = Field(1.0, ge=0, description="days in Border Patrol custody before processing can finish, on any path (assumed: a Title 42 expulsion took hours; the rest of a Title 8 stay is in custody_days_*)")
    custody_days_release: float = Field(2.0, ge=0, description="mean further days in custody after processing for those released with a notice to appear or paroled (initial guess, to be fitted: with processing_days ~3 days in all, facts_us.csv row 14 'nearly three days', May 2023; TEDS 72 h, row 7)")
    custody_days_removal: float = Field(1.0, ge=0, description="mean further days in custody after processing for a Title 8 removal of a Mexican over land or a return to Mexico (assumed; a Title 42 expulsion leaves when processed)")
    ice_transfer_days: float = Field(2.0, ge=0, description="mean days waiting for an ICE transfer when ICE has beds (initial guess, to be fitted; with policies.ice_beds full they wait longer: facts_us.csv row 27, held beyond 72 h for want of ICE bed space)")
    overflow_release: float = Field(0.5, ge=0, le=1, description="daily chance those above holding capacity are released unprocessed")
    max_ice_detention_days: float = Field(30.0, gt=0)
    detection_scale: float = Field(1.0, gt=0, le=10, description="multiplier on every checkpoint's detection rate (fitted to Mexico's detentions)")
    caravan_leakage: float = Field(0.9, ge=0, le=1, description="detection avoided by a cohesive group at full size")
    caravan_full_size: float = Field(2000.0, gt=0)
    aid_effect: float = Field(0.25, ge=0, le=1, description="departures cut at full development aid (assumed)")
    sanctions_relief_effect: float = Field(0.3, ge=0, le=1, description="departures cut at full sanctions relief (assumed)")
    parole_substitution: float = Field(0.6, ge=0, le=1, description="share of parolees who would otherwise have come by land (assumed)")
    restricted_release_factor: float = Field(0.5, ge=0, le=1, description="release chance under title8_restricted relative to title8")


COMPARISONS = (">=", "<=", ">", "<")
STATISTICS = ("mean", "sum", "last", "min", "max")


class Condition(Finite):
    """A test on a metric the run records, over the days already simulated (today excluded)."""
    metric: str = Field(description="a recorded metric, e.g. usbp_encounters, stranded_mexico, mexico_enforcement, "
                                    "waiting_population:Ciudad Juárez (`corridor metrics SCENARIO` lists them)")
    window_days: int = Field(1, ge=1, description="days looked back: the window is the `window_days` days before today")
    statistic: Literal["mean", "sum", "last", "min", "max"] = Field("mean", description="how the window is summarised")
    comparison: Literal[">=", "<=", ">", "<"] = ">="
    threshold: float
    for_days: int = Field(1, ge=1, description="consecutive days the test must hold before it counts")


class RuleAction(Finite):
    """What an active rule does: set one lever to a value from the day it switches on."""
    lever: str = Field(description="policies.<lever>[.<key>] or nationalities.<name>.<title42_expulsion|title8_removal|mexico_detention_deport>, "
                                   "e.g. policies.regime, policies.crossings_closed.lukeville, policies.contention.train; "
                                   "a keyed lever without a key (policies.crossings_closed) sets every key")
    value: Union[float, str] = Field(description="the lever's value while the rule is active (a regime name for policies.regime)")


class Rule(Finite):
    """A conditional lever: switches on when `condition` holds, off when `release` holds (hysteresis).

    Evaluated once a day before anything else, on metrics of earlier days only. While active, each
    action overwrites its lever from that day on; switching off restores the scenario's own timeline.
    """
    name: str = Field(min_length=1, description="unique; recorded as the daily metric rule_active:<name> (0/1)")
    description: str = ""
    condition: Condition
    action: list[RuleAction] = Field(min_length=1, description="one action or a list of them")
    delay_days: int = Field(0, ge=0, description="days from the condition being met to the action taking effect (not cancelled)")
    release: Condition | None = Field(None, description="switch-off test; default: the condition no longer holds")
    release_after_days: int = Field(0, ge=0, description="days from the release test being met to switching off; "
                                                         "cancelled if the condition holds again meanwhile")
    active_from: dt.date | None = Field(None, description="first date the rule is evaluated")
    active_to: dt.date | None = Field(None, description="last date the rule may be active; it is released the day after")

    @field_validator("action", mode="before")
    @classmethod
    def _one_or_many(cls, v):
        return [v] if isinstance(v, dict) else v

    @model_validator(mode="after")
    def _dates(self):
        if self.active_from and self.active_to and self.active_to < self.active_from:
            raise ValueError(f"active_to {self.active_to} is before active_from {self.active_from}")
        return self


class Scenario(Strict):
    name: str
    description: str = ""
    extends: str | None = None
    start: dt.date
    end: dt.date
    spinup_days: int = Field(120, ge=0, le=730)
    seed: int = Field(1, ge=0, lt=SEED_LIMIT, description="random seed, 0 <= seed < 2**63")
    scale: float = Field(1.0, ge=1.0, allow_inf_nan=False,
                         description="people per agent; it must leave at least one agent expected (see expected_agents)")
    places: list[Place]
    legs: list[Leg]
    crossings: list[Crossing]
    sectors: list[Sector]
    nationalities: list[Nationality]
    policies: Policies = Field(default_factory=Policies)
    behaviour: Behaviour = Field(default_factory=Behaviour)
    caravans: list[Caravan] = Field(default_factory=list)
    rules: list[Rule] = Field(default_factory=list, description="conditional levers (see Rule)")
    notes: dict[str, str] = Field(default_factory=dict)
    _source: str = PrivateAttr("")

    @model_validator(mode="after")
    def _references(self):
        """Cross-references: every id a field names must exist; every date must fall in the period."""
        if self.end <= self.start:
            raise ValueError(f"end {self.end} must be after start {self.start}")
        place_ids = {p.id for p in self.places}
        _unique("places", [p.id for p in self.places])
        _unique("legs", [l.id for l in self.legs])
        _unique("crossings", [c.id for c in self.crossings])
        _unique("sectors", [s.name for s in self.sectors])
        _unique("nationalities", [n.name for n in self.nationalities])
        _unique("rules", [r.name for r in self.rules])
        sectors = {s.name for s in self.sectors}
        nats = {n.name for n in self.nationalities}
        border = {p.id for p in self.places if p.kind == "border_city"}
        for i, l in enumerate(self.legs):
            for end_, pid in (("from", l.from_place), ("to", l.to_place)):
                _member(f"legs[{i}] ({l.id}).{end_}", pid, place_ids, "place ids")
        for i, c in enumerate(self.crossings):
            _member(f"crossings[{i}] ({c.id}).city", c.city, border, "border city ids")
            _member(f"crossings[{i}] ({c.id}).sector", c.sector, sectors, "sector names")
        for i, s in enumerate(self.sectors):
            _member(f"sectors[{i}] ({s.name}).city", s.city, place_ids, "place ids")
        for p in self.places:
            if p.kind == "border_city":
                _member(f"places ({p.id}).sector", p.sector, sectors, "sector names")
        for i, n in enumerate(self.nationalities):
            for pid in n.origins:
                _member(f"nationalities[{i}] ({n.name}).origins", pid, place_ids, "place ids")
        for i, c in enumerate(self.caravans):
            _member(f"caravans[{i}].origin", c.origin, place_ids, "place ids")
            for k in c.nationalities:
                _member(f"caravans[{i}].nationalities", k, nats, "nationalities")
            if c.target is not None:
                _member(f"caravans[{i}].target", c.target, border, "border city ids")
        # Dated lever steps and events (caravans) may lie outside the period: history before it, plans after
        # it. A shortened run (`--set end=...`) must still load; what falls outside simply does not happen.
        levers.check(self)  # every lever: keys, bounds, finiteness, steps in date order (raises a ValueError)
        problem = scale_problem(self, self.scale)
        if problem:
            raise ValueError(f"field 'scale': bad value {self.scale:g}: {problem}")
        return self

    def simulated_days(self) -> tuple[dt.date, dt.date]:
        """First and last simulated day: the spin-up's first day and `end`."""
        return self.start - dt.timedelta(days=self.spinup_days), self.end

    def caravans_in_period(self) -> list["Caravan"]:
        """The caravans that set out on a simulated day (the others do not happen)."""
        lo, hi = self.simulated_days()
        return [c for c in self.caravans if lo <= c.date <= hi]

    def expected_agents(self, scale: float | None = None) -> float:
        """Agents a run creates at the nationalities' base departure rates (before trend, season, push and
        pull), plus each caravan in the period (ceil(size / scale), so at least one): what a scale is checked
        against before any run starts."""
        scale = self.scale if scale is None else scale
        lo, hi = self.simulated_days()
        days = (hi - lo).days + 1
        base = sum(n.departures.base_per_day for n in self.nationalities)
        return base * days / scale + sum(math.ceil(c.size / scale) for c in self.caravans_in_period())


def scale_problem(sc: "Scenario", scale: float) -> str | None:
    """Why `scale` leaves no agent expected in `sc` (with the largest scale that would), or None if it leaves one."""
    if sc.expected_agents(scale) >= 1:
        return None
    lo, hi = sc.simulated_days()
    people = sum(n.departures.base_per_day for n in sc.nationalities) * ((hi - lo).days + 1)
    if people <= 0:
        return (f"no agent can be expected: every nationality's departures.base_per_day is 0 and no caravan sets out "
                f"in {lo} .. {hi}; give a departure rate above 0")
    return (f"leaves {people / scale:.3g} agents expected ({people:,.0f} people set out at the base departure rates "
            f"over {lo} .. {hi}, no caravan); valid: a scale from 1 to {math.floor(people):,} people per agent")


def _unique(what: str, ids: list[str]) -> None:
    seen = set()
    for x in ids:
        if x in seen:
            raise ValueError(f"{what}: duplicate id {x!r}")
        seen.add(x)


def _member(field: str, value: Any, valid: set[str], what: str) -> None:
    if value not in valid:
        shown = ", ".join(sorted(valid)[:12]) + (" ..." if len(valid) > 12 else "")
        raise ValueError(f"{field}: unknown {what[:-1] if what.endswith('s') else what} {value!r}; valid {what}: {shown}")




