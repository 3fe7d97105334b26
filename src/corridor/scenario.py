"""Scenario files: the schema (pydantic v2), loading with `extends`, `--set` overrides, and clear errors.

A scenario is a YAML file. Every lever is either a constant or a dated series
(`[{from: 2023-12-28, value: 2.0}, ...]`, each value holding until the next `from`).
Errors name the file, the field, the bad value and what would be valid; the CLI prints them
and exits with status 2.
"""
from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import Any, Literal, Optional, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from .errors import InputError

MODES = ("foot", "bus", "train", "truck", "boat", "air")
PLACE_KINDS = ("origin", "transit", "checkpoint", "border_city", "sector", "sink")
CROSSING_KINDS = ("port", "rail_bridge", "between_ports")
REGIMES = ("title42", "title8", "title8_restricted")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Step(Strict):
    """One step of a dated series: `value` holds from `from` until the next step."""
    start: dt.date = Field(alias="from")
    value: float


class TextStep(Strict):
    start: dt.date = Field(alias="from")
    value: str


Series = Union[float, list[Step]]
"""A lever value: a constant, or dated steps."""


class CitySplit(Strict):
    """One step of a dated split over border cities: `weights` hold for departures from `from` until the next step."""
    start: dt.date = Field(alias="from")
    weights: dict[str, float]


def _check_steps(v: Any) -> Any:
    if isinstance(v, list):
        dates = [s.start for s in v]
        if not v:
            raise ValueError("a dated series needs at least one step")
        if dates != sorted(dates):
            raise ValueError(f"steps must be in date order, got {[str(d) for d in dates]}")
    return v


class Place(Strict):
    id: str
    name: str
    kind: Literal["origin", "transit", "checkpoint", "border_city", "sector", "sink"]
    country: str
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    dwell_days: float = Field(0.0, ge=0, description="mean days people stay here before moving on (waiting for papers, money, a train)")
    shelter_capacity: int | None = Field(None, ge=0, description="shelter places (border cities); reported, not enforced")
    sector: str | None = Field(None, description="for border cities: the Border Patrol sector they face")
    source: str = ""


class Inspection(Strict):
    """An immigration checkpoint on a leg (Mexico): chance to be detected per passage at enforcement 1.0."""
    detection: float = Field(ge=0, le=1)
    name: str = ""


class Leg(Strict):
    id: str
    from_place: str = Field(alias="from")
    to_place: str = Field(alias="to")
    mode: Literal["foot", "bus", "train", "truck", "boat", "air"]
    km: float = Field(ge=0)
    days: float = Field(gt=0)
    cost_usd: float = Field(0.0, ge=0)
    capacity: float | None = Field(None, ge=0, description="people per day who can start this leg")
    inspection: Inspection | None = None
    region: Literal["south_america", "central_america", "guatemala_border", "south_mexico", "north_mexico", "air"] = "central_america"
    visa_gated: bool = Field(False, description="needs a Mexican visa (air arrivals): closed to nationalities that need one")
    counts_as: str | None = Field(None, description="metric incremented when someone starts the leg, e.g. darien_crossings")
    source: str = ""


class Crossing(Strict):
    """A place where people and goods cross into the US: a port of entry, a rail bridge or a stretch between ports."""
    id: str
    name: str
    kind: Literal["port", "rail_bridge", "between_ports"]
    city: str = Field(description="the Mexican border city (place id) it faces")
    sector: str
    lat: float
    lon: float
    appointment_share: float = Field(0.0, ge=0, le=1, description="share of the daily CBP One slots processed here")
    redeploy_capacity: float = Field(0.0, ge=0, description="people/day of extra processing in the sector when closed (officers shifted)")
    trade_usd_per_day: float = Field(0.0, ge=0)
    source: str = ""


class Sector(Strict):
    name: str
    city: str = Field(description="place id of the sector's processing site")
    processing_capacity: float = Field(gt=0, description="people processed per day")
    holding_capacity: float = Field(gt=0, description="people who can be held at once")
    gotaway_share: float = Field(0.1, ge=0, le=1)
    source: str = ""


class Departures(Strict):
    """Departures per day from the origins of one nationality, before push and pull factors."""
    base_per_day: float = Field(ge=0, description="people/day at a perceived chance of entry equal to `reference_chance`")
    trend_per_year: float = Field(0.0, ge=-1, le=5, description="relative change per year (0.1 = +10%/yr)")
    seasonal_amplitude: float = Field(0.0, ge=0, le=1)
    seasonal_peak_month: int = Field(7, ge=1, le=12)
    elasticity: float = Field(1.0, ge=0, le=5, description="response of departures to the perceived chance of getting in")
    reference_chance: float = Field(0.6, gt=0, le=1)


class Nationality(Strict):
    name: str = Field(description="CBP citizenship label, as in monthly.csv")
    origins: dict[str, float] = Field(description="departure place id -> weight")
    border_cities: Union[dict[str, float], list[CitySplit]] = Field(
        description="target border city id -> weight (where people head for), or dated splits "
                    "`[{from: DATE, weights: {city: weight, ...}}, ...]` applied by departure date")
    departures: Departures
    title42_expulsion: Series = Field(0.0, description="share of Border Patrol encounters expelled under Title 42")
    title8_removal: Series = Field(0.1, description="share of processed Title 8 encounters put in removal (flight or return)")
    returnable_to_mexico: bool = Field(False, description="Mexico takes them back (Mexicans, Central Americans; others by agreement)")
    mexico_detention_deport: Series = Field(0.3, description="share of those detained in Mexico who are deported home")
    transit_mexico: bool = Field(True, description="False for Mexicans: not inspected by Mexico's migration authority")
    source: str = ""

    @field_validator("title42_expulsion", "title8_removal", "mexico_detention_deport")
    @classmethod
    def _shares(cls, v):
        _check_steps(v)
        values = [s.value for s in v] if isinstance(v, list) else [v]
        bad = [x for x in values if not 0 <= x <= 1]
        if bad:
            raise ValueError(f"a share must be between 0 and 1, got {bad[0]}")
        return v

    @field_validator("border_cities")
    @classmethod
    def _splits(cls, v):
        _check_steps(v)
        for weights in [v] if isinstance(v, dict) else [s.weights for s in v]:
            bad = {k: w for k, w in weights.items() if not w >= 0}
            if bad:
                raise ValueError(f"weights must be >= 0, got {bad}")
            if sum(weights.values()) <= 0:
                raise ValueError(f"weights must sum to more than 0, got {weights}")
        return v

    def city_splits(self) -> list[tuple[dt.date | None, dict[str, float]]]:
        """The split over border cities as dated steps; a constant split is one step from the start (None)."""
        if isinstance(self.border_cities, dict):
            return [(None, self.border_cities)]
        return [(s.start, s.weights) for s in self.border_cities]


class Caravan(Strict):
    """A group that leaves together and is harder to stop at inspection points."""
    id: str | None = Field(None, description="optional; a variant (`extends`) that lists caravans with ids adds them to the parent's")
    date: dt.date
    origin: str
    size: int = Field(gt=0)
    cohesion: float = Field(0.9, ge=0, le=1, description="daily chance a member stays with the group")
    nationalities: dict[str, float]
    target: str | None = Field(None, description="border city id; default: each member's own")


class Policies(Strict):
    """The levers. 1.0 means the calibrated 2023 level wherever a lever is a multiplier."""
    mexico_enforcement: Series = Field(1.0, description="intensity at inspection points (1.0 = 2023 level)")
    mexico_personnel: Series = Field(32000.0, description="military and National Guard deployed (documentation and cost output)")
    contention: dict[Literal["train", "bus", "truck", "foot"], Series] = Field(default_factory=dict,
        description="0..1 per mode: share of capacity cut, and detection raised by the same factor")
    guatemala_border_block: Series = Field(0.0, description="0..1: capacity cut and detection raised at the Guatemala border")
    darien_return: Series = Field(0.0, description="share of those who have just crossed the Darién whom Panama sends home "
                                                   "(repatriation flights); they decide like anyone removed home whether to set out again")
    return_south: Series = Field(0.3, description="share of those detained in Mexico (and not deported) bused back to the south")
    return_south_to: str = Field("tapachula", description="place id where people moved south are left")
    mexico_visa_required: dict[str, Series] = Field(default_factory=dict, description="nationality -> 1 if a visa is needed to fly in")
    mexico_accepts_returns: dict[str, Series] = Field(default_factory=dict, description="nationality -> 1 if Mexico takes them back from the US")
    returns_to_mexico_cap: Series = Field(1.0e9, description="people/day of non-Mexicans Mexico accepts from the US")
    crossings_closed: dict[str, Series] = Field(default_factory=dict, description="crossing id -> 1 closed / 0 open")
    processing_capacity_factor: dict[str, Series] = Field(default_factory=dict, description="sector -> multiplier")
    holding_capacity_factor: dict[str, Series] = Field(default_factory=dict, description="sector -> multiplier")
    removal_flights_per_day: dict[str, Series] = Field(default_factory=dict, description="nationality -> flights per day")
    seats_per_flight: float = Field(135.0, gt=0)
    appointments_per_day: Series = Field(0.0, description="CBP One slots per day at ports")
    parole_per_month: dict[str, Series] = Field(default_factory=dict, description="nationality -> travel authorisations per month")
    regime: Union[str, list[TextStep]] = Field("title8")
    development_aid: dict[str, Series] = Field(default_factory=dict, description="origin nationality -> 0..1 aid intensity")
    sanctions_relief: dict[str, Series] = Field(default_factory=dict, description="nationality -> 0..1 relief")
    push_delay_days: int = Field(120, ge=0, description="delay before aid or sanctions relief acts on departures")

    @field_validator("regime")
    @classmethod
    def _regime(cls, v):
        vals = [v] if isinstance(v, str) else [s.value for s in v]
        for x in vals:
            if x not in REGIMES:
                raise ValueError(f"unknown regime {x!r}; valid: {', '.join(REGIMES)}")
        return v


class Behaviour(Strict):
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
    news_memory_days: float = Field(120.0, gt=0, description="mean memory (days) of the long-run perceived chance that news is measured against (at least perceived_chance_days)")
    retry_after_removal: float = Field(0.2, ge=0, le=1, description="chance someone removed home sets out again")
    retry_delay_days: float = Field(60.0, gt=0)
    mexico_detention_days: float = Field(5.0, gt=0)
    processing_days: float = Field(2.0, ge=0, description="days in Border Patrol custody before processing can finish (facts_us.csv USBP custody: 'nearly three days' on average, May 2023)")
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


class Condition(Strict):
    """A test on a metric the run records, over the days already simulated (today excluded)."""
    metric: str = Field(description="a recorded metric, e.g. usbp_encounters, stranded_mexico, mexico_enforcement, "
                                    "waiting_population:Ciudad Juárez (`corridor metrics SCENARIO` lists them)")
    window_days: int = Field(1, ge=1, description="days looked back: the window is the `window_days` days before today")
    statistic: Literal["mean", "sum", "last", "min", "max"] = Field("mean", description="how the window is summarised")
    comparison: Literal[">=", "<=", ">", "<"] = ">="
    threshold: float
    for_days: int = Field(1, ge=1, description="consecutive days the test must hold before it counts")


class RuleAction(Strict):
    """What an active rule does: set one lever to a value from the day it switches on."""
    lever: str = Field(description="policies.<lever>[.<key>] or nationalities.<name>.<title42_expulsion|title8_removal|mexico_detention_deport>, "
                                   "e.g. policies.regime, policies.crossings_closed.lukeville, policies.contention.train; "
                                   "a keyed lever without a key (policies.crossings_closed) sets every key")
    value: Union[float, str] = Field(description="the lever's value while the rule is active (a regime name for policies.regime)")


class Rule(Strict):
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
    seed: int = Field(1, ge=0)
    scale: float = Field(1.0, ge=1.0, description="people per agent")
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
        crossings = {c.id for c in self.crossings}
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
            for _, weights in n.city_splits():
                for pid in weights:
                    _member(f"nationalities[{i}] ({n.name}).border_cities", pid, border, "border city ids")
        pol = self.policies
        for field, keys, valid, what in (
            ("mexico_visa_required", pol.mexico_visa_required, nats, "nationalities"),
            ("mexico_accepts_returns", pol.mexico_accepts_returns, nats, "nationalities"),
            ("removal_flights_per_day", pol.removal_flights_per_day, nats, "nationalities"),
            ("parole_per_month", pol.parole_per_month, nats, "nationalities"),
            ("development_aid", pol.development_aid, nats, "nationalities"),
            ("sanctions_relief", pol.sanctions_relief, nats, "nationalities"),
            ("crossings_closed", pol.crossings_closed, crossings, "crossing ids"),
            ("processing_capacity_factor", pol.processing_capacity_factor, sectors, "sector names"),
            ("holding_capacity_factor", pol.holding_capacity_factor, sectors, "sector names"),
        ):
            for k in keys:
                _member(f"policies.{field}", k, valid, what)
        _member("policies.return_south_to", pol.return_south_to, place_ids, "place ids")
        for i, c in enumerate(self.caravans):
            _member(f"caravans[{i}].origin", c.origin, place_ids, "place ids")
            for k in c.nationalities:
                _member(f"caravans[{i}].nationalities", k, nats, "nationalities")
            if c.target is not None:
                _member(f"caravans[{i}].target", c.target, border, "border city ids")
            _in_period(f"caravans[{i}].date", c.date, self)
        # Dated lever steps may lie outside the period (history before it, plans after it): they are
        # timelines, and a shortened run (`--set end=...`) must still load. Dated events may not.
        return self


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


def _in_period(field: str, d: dt.date, sc: "Scenario") -> None:
    lo = sc.start - dt.timedelta(days=sc.spinup_days)
    if d < lo or d > sc.end:
        raise ValueError(f"{field}: date {d} is outside the period {sc.start} .. {sc.end}")


# ----------------------------------------------------------------------------- loading

def bundled_dir() -> Path:
    return Path(str(resources.files("corridor") / "data" / "scenarios"))


def bundled_names() -> list[str]:
    return sorted(p.stem for p in bundled_dir().glob("*.yaml"))


def resolve(name_or_path: str | Path) -> Path:
    """A bundled scenario name (`us-mexico`) or a path to a YAML file."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") or p.exists():
        if not p.exists():
            raise InputError(f"{p}: scenario file not found")
        return p
    cand = bundled_dir() / f"{name_or_path}.yaml"
    if cand.exists():
        return cand
    raise InputError(f"scenario {str(name_or_path)!r} not found; bundled scenarios: {', '.join(bundled_names())} (or give a path to a .yaml file)")


_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~10x faster on us-mexico.yaml


def read_yaml(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise InputError(f"{path}: cannot read scenario file ({e.strerror})") from None
    try:
        data = yaml.load(text, Loader=_YAML_LOADER)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise InputError(f"{path}:{where}: YAML syntax error: {problem}") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: a scenario must be a YAML mapping of fields (name, start, end, places, ...), got {type(data).__name__}")
    return data


def deep_merge(base: dict, over: dict) -> dict:
    """`over` wins; mappings merge key by key; lists of items with ids merge by id (so a variant can edit one leg).

    When every item of the variant's list has an id, the parent's items without one are kept and the
    variant's are merged by id or appended (so a variant can add a caravan to its parent's).
    """
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        elif isinstance(v, list) and isinstance(out.get(k), list) and v and all(isinstance(x, dict) and _key(x) for x in v) \
                and all(isinstance(x, dict) for x in out[k]):
            unkeyed = [x for x in out[k] if not _key(x)]
            merged = {_key(x): x for x in out[k] if _key(x)}
            for x in v:
                kk = _key(x)
                merged[kk] = deep_merge(merged[kk], x) if kk in merged else x
            out[k] = unkeyed + list(merged.values())
        else:
            out[k] = copy.deepcopy(v)
    return out


def _key(x: dict) -> str | None:
    return x.get("id") or x.get("name") if isinstance(x, dict) else None


def load_raw(name_or_path: str | Path, _seen: tuple = ()) -> tuple[dict, Path]:
    """The merged raw mapping of a scenario and everything it extends."""
    path = resolve(name_or_path)
    data = read_yaml(path)
    parent = data.pop("extends", None)
    if parent is not None:
        if parent in _seen:
            raise InputError(f"{path}: field 'extends': cycle through {parent!r}")
        ppath = path.parent / f"{parent}.yaml"
        try:
            base, _ = load_raw(ppath if ppath.exists() else parent, _seen + (parent,))
        except InputError as e:
            if "not found" in str(e):
                raise InputError(f"{path}: field 'extends': scenario {parent!r} not found; "
                                 f"bundled scenarios: {', '.join(bundled_names())}") from None
            raise
        data = deep_merge(base, data)
    return data, path


def apply_overrides(data: dict, overrides: list[str] | dict[str, Any], source: str = "--set") -> dict:
    """Apply `dotted.path=value` overrides; list items are addressed by id/name or index."""
    data = copy.deepcopy(data)
    items = overrides.items() if isinstance(overrides, dict) else [_split(o, source) for o in overrides]
    for path, value in items:
        if isinstance(value, str):
            try:
                value = yaml.safe_load(value)
            except yaml.YAMLError:
                pass
        _set_path(data, path, value, source)
    return data


def _split(o: str, source: str) -> tuple[str, str]:
    if "=" not in o:
        raise InputError(f"{source} {o!r}: expected dotted.path=value, e.g. policies.mexico_enforcement=1.5")
    k, v = o.split("=", 1)
    return k.strip(), v


def _set_path(data: dict, path: str, value: Any, source: str) -> None:
    parts = path.split(".")
    node: Any = data
    model: Any = Scenario
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        here = ".".join(parts[: i + 1])
        if isinstance(node, list):
            idx = next((j for j, x in enumerate(node) if isinstance(x, dict) and _key(x) == part), None)
            if idx is None and part.isdigit() and int(part) < len(node):
                idx = int(part)
            if idx is None:
                valid = [str(_key(x)) for x in node if isinstance(x, dict)]
                raise InputError(f"{source} {path}: no item {part!r} in {'.'.join(parts[:i]) or 'scenario'}; "
                                 f"valid: {', '.join(valid[:15])}{' ...' if len(valid) > 15 else ''}")
            if last:
                node[idx] = value
            else:
                node = node[idx]
            continue
        if not isinstance(node, dict):
            raise InputError(f"{source} {path}: {'.'.join(parts[:i])} is a value, not a mapping")
        fields = schema_fields(model)
        if fields is not None and part not in fields and part not in node:
            raise InputError(f"{source} {path}: unknown field {part!r}; valid fields here: {', '.join(sorted(fields))}")
        if last:
            node[part] = value
        else:
            if part not in node or node[part] is None:
                node[part] = {}
            node = node[part]
            model = schema_submodel(model, part)


def schema_fields(model: Any) -> set[str] | None:
    if isinstance(model, type) and issubclass(model, BaseModel):
        return {f.alias or n for n, f in model.model_fields.items()} | set(model.model_fields)
    return None


def schema_submodel(model: Any, part: str) -> Any:
    if not (isinstance(model, type) and issubclass(model, BaseModel)) or part not in model.model_fields:
        return None
    ann = model.model_fields[part].annotation
    for cand in (ann, *getattr(ann, "__args__", ())):
        if isinstance(cand, type) and issubclass(cand, BaseModel):
            return cand
        for inner in getattr(cand, "__args__", ()):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                return inner
    return None


def format_validation(path: Path | str, err: ValidationError, data: dict) -> str:
    e = err.errors()[0]
    loc = e.get("loc", ())
    field = _loc_to_path(loc, data)
    msg = e.get("msg", "invalid").removeprefix("Value error, ")
    value = e.get("input")
    more = f" (and {len(err.errors()) - 1} more problem(s))" if len(err.errors()) > 1 else ""
    if e.get("type") == "missing":
        return f"{path}: field '{field}': required field is missing{more}"
    if e.get("type") == "extra_forbidden":
        return f"{path}: field '{field}': unknown field; check the spelling (corridor schema lists valid fields){more}"
    if isinstance(value, (dict, list)) or field in ("", "scenario"):
        return f"{path}: {('field ' + repr(field) + ': ') if field else ''}{msg}{more}"
    return f"{path}: field '{field}': bad value {value!r}: {msg}{more}"


def _loc_to_path(loc: tuple, data: Any) -> str:
    """Turn pydantic's location into a readable path, naming list items by id where they have one."""
    out, node = [], data
    for part in loc:
        if isinstance(part, int) and isinstance(node, list) and part < len(node):
            item = node[part]
            out.append(f"[{part}]" + (f" ({_key(item)})" if isinstance(item, dict) and _key(item) else ""))
            node = item
        elif isinstance(part, str) and part in ("float", "list[Step]", "str", "list[TextStep]", "function-after[_check_steps(), list[Step]]"):
            continue
        else:
            out.append(("." if out else "") + str(part))
            node = node.get(part) if isinstance(node, dict) else None
    return "".join(out)


def load(name_or_path: str | Path = "us-mexico", overrides: list[str] | dict[str, Any] | None = None) -> Scenario:
    """Load, merge `extends`, apply `--set` overrides, validate. Raises InputError with one clear line."""
    data, path = load_raw(name_or_path)
    if overrides:
        data = apply_overrides(data, overrides)
    try:
        sc = Scenario.model_validate(data)
    except ValidationError as e:
        raise InputError(format_validation(path, e, data)) from None
    sc._source = str(path)  # type: ignore[attr-defined]
    if sc.rules:
        from .policies import check_rules  # late import: rule metrics are named by the engine
        check_rules(sc, path)
    return sc


def scenario_hash(sc: Scenario) -> str:
    blob = json.dumps(sc.model_dump(mode="json", by_alias=True), sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def json_schema() -> dict:
    return Scenario.model_json_schema(by_alias=True)
