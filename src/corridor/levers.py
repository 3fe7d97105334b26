"""The lever registry: every lever of the talks declared once.

A lever is a field of a scenario that a government (or a transit country) sets: its path, what it is keyed
by, its kind, hard bounds, a plausible range for controls and searches, its neutral value, unit, whether it
may be a dated series, what it means, the side of the talks it belongs to and the phase that reads it.
Everything else comes from this declaration:

- the scenario schema's fields (`schema_fields`) and their validation (`check`): bounds, finiteness,
  dated steps in date order, known keys and choices — one message naming the field, the value and what
  is valid;
- the compiled daily timelines (`corridor.timelines`), the `lever:<path>` metric of every numeric lever;
- what a conditional rule may set (`resolve_setting`);
- `corridor levers [SCENARIO] [--json]` (`describe`), from which the dashboard and the deal explorer
  build their controls and search space.

Adding a lever: declare it here, read its timeline (`lv.<timeline>`) in the phase that acts on it.
"""
from __future__ import annotations

import datetime as dt
import difflib
import math
from dataclasses import dataclass
from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .codes import CONTENTION_MODES, MODES, REGIMES, SIDES

KINDS = ("number", "share", "flag", "choice", "place", "weights")
KEY_DOMAINS = ("mode", "nationality", "crossing", "sector", "border_city")
NUMERIC_KINDS = ("number", "share", "flag")


# ----------------------------------------------------------------------------- the value types of a lever

class Strict(BaseModel):
    """Unknown fields refused; true/false refused where a number is meant (pydantic would read true as 1)."""
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _no_true_false_numbers(cls, data):
        if not isinstance(data, dict):
            return data
        for name, f in cls.model_fields.items():
            key = f.alias if f.alias in data else name
            v = data.get(key)
            bad = isinstance(v, bool) and _numeric(f.annotation)
            if not bad and isinstance(v, dict) and getattr(f.annotation, "__origin__", None) is dict:
                bad = _numeric(f.annotation.__args__[1]) and any(isinstance(x, bool) for x in v.values())
            if bad:
                raise ValueError(f"{key}: bad value {v!r}: true/false is not a number; give a number")
        return data


def _numeric(ann) -> bool:
    """Whether a field's type takes a number (float, int, or a union with one), not a true/false."""
    if ann in (float, int):
        return True
    if getattr(ann, "__origin__", None) is dict:
        return False
    return any(_numeric(a) for a in getattr(ann, "__args__", ()) if a is not bool)


class Step(Strict):
    """One step of a dated series: `value` holds from `from` until the next step."""
    start: dt.date = Field(alias="from")
    value: float


class TextStep(Strict):
    """One step of a dated choice (e.g. the legal regime)."""
    start: dt.date = Field(alias="from")
    value: str


class CitySplit(Strict):
    """One step of a dated split over border cities: `weights` hold for departures from `from` until the next step."""
    start: dt.date = Field(alias="from")
    weights: dict[str, float]


Series = Union[float, list[Step]]
"""A lever value: a constant, or dated steps."""


# ----------------------------------------------------------------------------- the declaration

@dataclass(frozen=True)
class Lever:
    """One lever. `path` is `policies.<field>` or `nationalities.*.<field>` (one value per nationality)."""
    path: str
    kind: str
    description: str
    side: str
    phases: tuple[str, ...]
    unit: str
    neutral: Any                       # before the first dated step; for keys a scenario leaves out
    default: Any = None                # when the scenario omits the field (None: required, or `{}` if keyed)
    min: float | None = None
    max: float | None = None
    range: tuple[float, float] | None = None   # plausible values, for controls and searches
    key: str | None = None             # what the values are keyed by (a KEY_DOMAINS entry)
    key_choices: tuple[str, ...] | None = None  # the keys allowed, where fewer than the domain
    dated: bool = True
    choices: tuple[str, ...] | None = None
    integer: bool = False
    monthly: bool = False              # per month in the file, per day in the timeline
    delayed: bool = False              # acts after policies.push_delay_days
    timeline: str | None = None        # the compiled timeline's name, where it is not the field's

    @property
    def scope(self) -> str:
        return self.path.split(".", 1)[0]

    @property
    def field(self) -> str:
        return self.path.rsplit(".", 1)[1]

    @property
    def timeline_name(self) -> str:
        return self.timeline or self.field

    @property
    def numeric(self) -> bool:
        return self.kind in NUMERIC_KINDS

    @property
    def settable(self) -> bool:
        """Whether a conditional rule may set it: a dated number, share, flag or choice."""
        return self.dated and self.kind in ("number", "share", "flag", "choice")

    @property
    def per_nationality(self) -> bool:
        return self.scope == "nationalities"

    @property
    def phase(self) -> str:
        return self.phases[0]

    def valid_text(self) -> str:
        """What a valid value is, in words (for error messages)."""
        if self.kind == "flag":
            return "1 (on) or 0 (off)"
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices or ())
        if self.kind == "share":
            return "a share from 0 to 1"
        lo = "" if self.min is None else f" >= {self.min:g}"
        hi = "" if self.max is None else f" <= {self.max:g}"
        return f"{'a whole' if self.integer else 'a finite'} number{lo}{' and' if lo and hi else ''}{hi}"


_SHARE = dict(kind="share", min=0.0, max=1.0, range=(0.0, 1.0), unit="share")
_FLAG = dict(kind="flag", min=0.0, max=1.0, range=(0.0, 1.0), unit="1 = on, 0 = off", neutral=0.0)

LEVERS: tuple[Lever, ...] = (
    Lever("policies.mexico_enforcement", kind="number", min=0.0, range=(0.0, 3.0), neutral=1.0, default=1.0,
          unit="x 2023 level", side="Mexico", phases=("inspections", "movement"),
          description="intensity at Mexico's inspection points (1.0 = the calibrated 2023 level): scales detection "
                      "at every checkpoint leg"),
    Lever("policies.mexico_personnel", kind="number", min=0.0, range=(0.0, 100_000.0), neutral=0.0, default=32000.0,
          unit="people", side="Mexico", phases=("census",),
          description="military and National Guard deployed on migration (recorded; documentation and cost output)"),
    Lever("policies.contention", **{**_SHARE, "neutral": 0.0}, default={}, key="mode", key_choices=CONTENTION_MODES,
          side="Mexico", phases=("movement", "inspections"),
          description="'contention' per mode (0..1): the share of seats cut on that mode, and detection raised by "
                      "the same factor"),
    Lever("policies.guatemala_border_block", **_SHARE, neutral=0.0, default=0.0, side="Mexico",
          phases=("movement", "inspections"),
          description="blocking at the Guatemala border (0..1): passage cut, and detection tripled at 1, on the "
                      "Guatemala-Mexico legs"),
    Lever("policies.darien_return", **_SHARE, neutral=0.0, default=0.0, side="transit countries",
          phases=("movement",),
          description="share of those who have just crossed the Darién whom Panama flies home (repatriation "
                      "flights); they decide like anyone removed home whether to set out again"),
    Lever("policies.return_south", **_SHARE, neutral=0.0, default=0.3, side="Mexico", phases=("inspections",),
          description="share of those detained in Mexico (and not deported) bused back to the south"),
    Lever("policies.return_south_to", kind="place", neutral=None, default="tapachula", dated=False, unit="place id",
          side="Mexico", phases=("inspections",),
          description="place id where people moved south by Mexico are left"),
    Lever("policies.mexico_visa_required", **_FLAG, default={}, key="nationality", side="Mexico",
          phases=("movement",),
          description="1 if the nationality needs a Mexican visa to fly in: visa-gated flights close to them"),
    Lever("policies.mexico_accepts_returns", **_FLAG, default={}, key="nationality", side="Mexico",
          phases=("encounter", "custody"),
          description="1 if Mexico takes the nationality back from the US (within the returns cap)"),
    Lever("policies.returns_to_mexico_cap", kind="number", min=0.0, range=(0.0, 5000.0), neutral=1.0e9,
          default=1.0e9, unit="people/day", side="Mexico", phases=("encounter", "custody"),
          description="non-Mexicans per day Mexico accepts back from the US (shared by lottery)"),
    Lever("policies.crossings_closed", **_FLAG, default={}, key="crossing", side="US",
          phases=("border", "custody", "census"),
          description="1 closed / 0 open per crossing: closed crossings take no one, their officers join "
                      "processing in the sector, and their trade is blocked"),
    Lever("policies.processing_capacity_factor", kind="number", min=0.0, range=(0.5, 3.0), neutral=1.0, default={},
          key="sector", unit="x calibrated capacity", side="US", phases=("custody",),
          description="multiplier on a sector's Border Patrol processing capacity"),
    Lever("policies.holding_capacity_factor", kind="number", min=0.0, range=(0.5, 3.0), neutral=1.0, default={},
          key="sector", unit="x calibrated capacity", side="US", phases=("custody",),
          description="multiplier on a sector's holding capacity (above it, some are released unprocessed)"),
    Lever("policies.ice_beds", kind="number", min=0.0, range=(5_000.0, 60_000.0), neutral=1.0e9, default=1.0e9,
          unit="people", side="US", phases=("custody",),
          description="ICE detention beds for people Border Patrol transfers (ICE held 36,263 on 2023-12-17 against ~25,780 "
                      "beds in 2022 with interior arrests, facts_us.csv row 99; when full, those bound for ICE wait "
                      "in Border Patrol custody)"),
    Lever("policies.removal_flights_per_day", kind="number", min=0.0, range=(0.0, 5.0), neutral=0.0, default={},
          key="nationality", unit="flights/day", side="US", phases=("removals",),
          description="removal flights per day to the nationality's country"),
    Lever("policies.seats_per_flight", kind="number", min=1.0, range=(50.0, 200.0), neutral=135.0, default=135.0,
          dated=False, unit="seats", side="US", phases=("removals",),
          description="seats on a removal flight"),
    Lever("policies.appointments_per_day", kind="number", min=0.0, range=(0.0, 3000.0), neutral=0.0, default=0.0,
          unit="slots/day", side="pathways", phases=("border",),
          description="CBP One appointment slots per day at the ports (by lottery among those who wait for one)"),
    Lever("policies.parole_per_month", kind="number", min=0.0, range=(0.0, 30_000.0), neutral=0.0, default={},
          key="nationality", unit="people/month", side="pathways", phases=("departures",), monthly=True,
          timeline="parole_per_day",
          description="travel authorisations (parole) per month: parolees fly in, some of whom would have come "
                      "by land"),
    Lever("policies.regime", kind="choice", choices=REGIMES, neutral="title8", default="title8", unit="regime",
          side="US", phases=("encounter", "custody"),
          description="the legal regime at the border: Title 42 expulsions, Title 8, Title 8 with the 2024 "
                      "restrictions, or a suspension of entry (nobody encountered is released or may apply: no "
                      "appointments, every processed encounter removed or returned, no release from custody or ICE)"),
    Lever("policies.development_aid", **_SHARE, neutral=0.0, default={}, key="nationality", delayed=True,
          side="push factors", phases=("departures",),
          description="development aid to the country of origin (0..1): cuts departures after push_delay_days"),
    Lever("policies.sanctions_relief", **_SHARE, neutral=0.0, default={}, key="nationality", delayed=True,
          side="push factors", phases=("departures",),
          description="sanctions relief (0..1): cuts departures after push_delay_days"),
    Lever("policies.push_delay_days", kind="number", min=0.0, range=(0.0, 365.0), neutral=120, default=120,
          integer=True, dated=False, unit="days", side="push factors", phases=("departures",),
          description="delay before development aid or sanctions relief acts on departures"),
    Lever("nationalities.*.border_cities", kind="weights", neutral=None, default=None, key="border_city",
          unit="weights", side="inputs", phases=("departures", "movement"), timeline="target_cum",
          description="where people of the nationality head for: border city id -> weight, or dated splits "
                      "[{from: DATE, weights: {...}}] applied by departure date"),
    Lever("nationalities.*.title42_expulsion", **_SHARE, neutral=0.0, default=0.0, side="US",
          phases=("encounter", "custody"),
          description="share of processed encounters expelled under Title 42 while it applies"),
    Lever("nationalities.*.title8_removal", **_SHARE, neutral=0.0, default=0.1, side="US",
          phases=("encounter", "custody"),
          description="share of processed Title 8 encounters put in removal (a flight, or a return to Mexico)"),
    Lever("nationalities.*.mexico_detention_deport", **_SHARE, neutral=0.0, default=0.3, side="Mexico",
          phases=("inspections",),
          description="share of those detained in Mexico who are deported home"),
)
BY_PATH = {lv.path: lv for lv in LEVERS}
assert all(lv.kind in KINDS and lv.side in SIDES and (lv.key is None or lv.key in KEY_DOMAINS) for lv in LEVERS)


def in_scope(scope: str) -> list[Lever]:
    return [lv for lv in LEVERS if lv.scope == scope]


def rule_levers() -> list[Lever]:
    return [lv for lv in LEVERS if lv.settable]


# ----------------------------------------------------------------------------- the schema's fields

def _annotation(lv: Lever):
    if lv.kind == "weights":
        return Union[dict[str, float], list[CitySplit]]
    if lv.kind == "choice":
        value = Union[str, list[TextStep]] if lv.dated else str
    elif lv.kind == "place":
        value = str
    elif not lv.dated:
        value = int if lv.integer else float
    else:
        value = Series
    if lv.key is None:
        return value
    key = Literal[lv.key_choices] if lv.key_choices else str
    return dict[key, value]


def pydantic_fields(scope: str) -> dict[str, tuple]:
    """pydantic field definitions (for `create_model`) of every lever in `policies` or `nationalities`."""
    out = {}
    for lv in in_scope(scope):
        extra = {"x-lever": {"kind": lv.kind, "unit": lv.unit, "min": lv.min, "max": lv.max, "side": lv.side,
                             "phase": lv.phase, "dated": lv.dated, "key": lv.key}}
        text = f"{lv.description} [{lv.unit}; {lv.valid_text() if lv.kind not in ('place', 'weights') else lv.kind}]"
        if lv.default is None:
            field = Field(..., description=text, json_schema_extra=extra)
        elif isinstance(lv.default, dict):
            field = Field(default_factory=dict, description=text, json_schema_extra=extra)
        else:
            field = Field(lv.default, description=text, json_schema_extra=extra)
        out[lv.field] = (_annotation(lv), field)
    return out


# ----------------------------------------------------------------------------- keys and values of a scenario

def key_names(sc, domain: str) -> list[str]:
    """The keys a domain has in a scenario, in the order of the compiled timelines' columns."""
    if domain == "mode":
        return list(MODES)
    if domain == "nationality":
        return [n.name for n in sc.nationalities]
    if domain == "crossing":
        return [c.id for c in sc.crossings]
    if domain == "sector":
        return [s.name for s in sc.sectors]
    if domain == "border_city":
        return [p.id for p in sc.places if p.kind == "border_city"]
    raise KeyError(domain)


def lever_keys(lv: Lever, sc) -> list[str] | None:
    """The keys a user may set (and that are recorded): None for an unkeyed lever."""
    if lv.per_nationality:
        return key_names(sc, "nationality")
    if lv.key is None:
        return None
    return list(lv.key_choices) if lv.key_choices else key_names(sc, lv.key)


def full_path(lv: Lever, key: str | None) -> str:
    """`policies.<field>[.<key>]` or `nationalities.<key>.<field>`: the form of --set, rules and lever:<path>."""
    if lv.per_nationality:
        return f"nationalities.{key}.{lv.field}"
    return lv.path if key is None else f"{lv.path}.{key}"


def settings(lv: Lever, sc) -> list[tuple[str | None, Any]]:
    """(key, value) pairs the scenario gives the lever; key None for an unkeyed policy."""
    if lv.per_nationality:
        return [(n.name, getattr(n, lv.field)) for n in sc.nationalities]
    value = getattr(sc.policies, lv.field)
    return list(value.items()) if lv.key is not None else [(None, value)]


# ----------------------------------------------------------------------------- validation

class LeverError(ValueError):
    """A bad lever value: `field` names it as --set does, the message says what is valid."""

    def __init__(self, field_: str, msg: str):
        super().__init__(f"field '{field_}': {msg}")
        self.field, self.msg = field_, msg


def check_value(lv: Lever, value: Any, where: str, places: set[str] | None = None,
                cities: set[str] | None = None) -> None:
    """One value (a constant or one step's value) of a lever; raises LeverError."""
    if lv.kind == "choice":
        if value not in (lv.choices or ()):
            raise LeverError(where, f"bad value {value!r}; valid: {lv.valid_text()}")
        return
    if lv.kind == "place":
        if places is not None and value not in places:
            raise LeverError(where, f"unknown place id {value!r}; valid place ids: {_shown(sorted(places))}")
        return
    if lv.kind == "weights":
        bad = {k: w for k, w in value.items() if not (isinstance(w, (int, float)) and math.isfinite(w) and w >= 0)}
        if bad:
            raise LeverError(where, f"bad weights {bad}; valid: finite numbers >= 0")
        if sum(value.values()) <= 0:
            raise LeverError(where, f"weights must sum to more than 0, got {value}")
        unknown = [k for k in value if cities is not None and k not in cities]
        if unknown:
            raise LeverError(where, f"unknown border city id {unknown[0]!r}; valid border city ids: {_shown(sorted(cities))}")
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise LeverError(where, f"bad value {value!r}; valid: {lv.valid_text()}")
    if lv.kind == "flag" and value not in (0, 1):
        raise LeverError(where, f"bad value {value!r}; valid: {lv.valid_text()}")
    if (lv.min is not None and value < lv.min) or (lv.max is not None and value > lv.max):
        raise LeverError(where, f"bad value {value!r}; valid: {lv.valid_text()}")
    if lv.integer and value != int(value):
        raise LeverError(where, f"bad value {value!r}; valid: {lv.valid_text()}")


def _steps(value: Any) -> list | None:
    return value if isinstance(value, list) else None


def check(sc) -> None:
    """Every lever of a scenario: known keys, values within bounds, dated steps in date order. Raises LeverError."""
    places = {p.id for p in sc.places}
    cities = {p.id for p in sc.places if p.kind == "border_city"}
    for lv in LEVERS:
        allowed = lever_keys(lv, sc) if not lv.per_nationality else None
        for key, value in settings(lv, sc):
            where = full_path(lv, key)
            if allowed is not None and key not in allowed:
                raise LeverError(f"{lv.path}", f"unknown {lv.key.replace('_', ' ')} {key!r}; "
                                               f"valid {PLURAL[lv.key]}: {_shown(allowed)}")
            steps = _steps(value)
            if steps is None:
                check_value(lv, value, where, places, cities)
                continue
            if not lv.dated:
                raise LeverError(where, "takes one value, not dated steps")
            if not steps:
                raise LeverError(where, "a dated series needs at least one step")
            dates = [s.start for s in steps]
            if any(b <= a for a, b in zip(dates, dates[1:])):
                raise LeverError(where, f"dated steps must be in date order, each date once, got "
                                        f"{', '.join(str(d) for d in dates)}")
            for i, s in enumerate(steps):
                v = s.weights if lv.kind == "weights" else s.value
                check_value(lv, v, f"{where}[{i}]", places, cities)


PLURAL = {"mode": "modes", "nationality": "nationalities", "crossing": "crossings", "sector": "sectors",
          "border_city": "border cities"}


def _shown(valid: list[str], n: int = 12) -> str:
    return ", ".join(valid[:n]) + (f" ... ({len(valid)} in all)" if len(valid) > n else "")


# ----------------------------------------------------------------------------- what a rule may set

@dataclass(frozen=True)
class Setting:
    """A rule's action resolved: which lever, which columns of its timeline (None: the one column), what value
    (in the file's unit; a choice as its index)."""
    lever: Lever
    cols: Optional[tuple[int, ...]]
    value: float


def resolve_setting(sc, path: str, value: Any) -> Setting:
    """Parse `policies.<lever>[.<key>]` or `nationalities.<name>.<lever>` and a value; raise LeverError
    (field 'lever' or 'value') saying what is valid."""
    lv, key = _parse_path(sc, path)
    if lv.key is not None or lv.per_nationality:
        domain = "nationality" if lv.per_nationality else lv.key
        columns = key_names(sc, domain)
        keys = [key] if key is not None else lever_keys(lv, sc)
        cols = tuple(columns.index(k) for k in keys)
    else:
        cols = None
    try:
        check_value(lv, value, "value")
    except LeverError:
        raise LeverError("value", f"bad value {value!r} for {path}; valid: {lv.valid_text()}") from None
    return Setting(lv, cols, float(lv.choices.index(value)) if lv.kind == "choice" else float(value))


def rule_paths() -> list[str]:
    """Every lever path a rule may set, as an error message shows them."""
    out = []
    for lv in rule_levers():
        if lv.per_nationality:
            out.append(f"nationalities.<nationality>.{lv.field}")
        else:
            out.append(lv.path + (f"[.<{lv.key}>]" if lv.key else ""))
    return out


def _parse_path(sc, path: str) -> tuple[Lever, str | None]:
    settable = {lv.path: lv for lv in rule_levers()}
    hint = f"valid levers: {_shown(rule_paths(), 30)}"
    if path.startswith("nationalities."):
        nat, _, fld = path[len("nationalities."):].rpartition(".")
        lv = settable.get(f"nationalities.*.{fld}")
        if lv is None:
            raise LeverError("lever", f"unknown lever {path!r}; {hint}")
        nats = key_names(sc, "nationality")
        if nat not in nats:
            raise LeverError("lever", f"unknown nationality {nat!r} in {path!r}; valid nationalities: {_shown(nats)}")
        return lv, nat
    parts = path.split(".", 2)
    lv = settable.get(".".join(parts[:2]))
    if lv is None:
        close = difflib.get_close_matches(path, list(settable), n=1)
        raise LeverError("lever", f"unknown lever {path!r}{f' (did you mean {close[0]!r}?)' if close else ''}; {hint}")
    if len(parts) == 2:
        return lv, None
    if lv.key is None:
        raise LeverError("lever", f"{lv.path!r} takes no key, got {path!r}")
    valid = lever_keys(lv, sc)
    if parts[2] not in valid:
        raise LeverError("lever", f"unknown {lv.key.replace('_', ' ')} {parts[2]!r} in {path!r}; "
                                  f"valid {PLURAL[lv.key]}: {_shown(valid)}")
    return lv, parts[2]


# ----------------------------------------------------------------------------- corridor levers

def describe(sc=None) -> list[dict]:
    """The registry as plain data (`corridor levers --json`); keys and full paths from the scenario if given."""
    out = []
    for lv in LEVERS:
        keys = lever_keys(lv, sc) if sc is not None else (list(lv.key_choices) if lv.key_choices else None)
        path = f"nationalities.<nationality>.{lv.field}" if lv.per_nationality else lv.path
        paths = [full_path(lv, k) for k in keys] if keys is not None else ([lv.path] if not lv.per_nationality else None)
        out.append({
            "path": path, "keys": keys, "key": "nationality" if lv.per_nationality else lv.key, "paths": paths,
            "kind": lv.kind, "min": lv.min, "max": lv.max,
            "range": list(lv.range) if lv.range else None, "choices": list(lv.choices) if lv.choices else None,
            "neutral": lv.neutral, "default": lv.default, "unit": lv.unit, "description": lv.description,
            "dated": lv.dated, "side": lv.side, "phase": lv.phase, "phases": list(lv.phases),
            "integer": lv.integer, "monthly": lv.monthly, "delayed": lv.delayed, "rule_settable": lv.settable,
            "recorded": lv.numeric and lv.dated,
        })
    return out
