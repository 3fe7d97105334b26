"""A scenario's calibration targets: the published figures its fit is held to, read from data beside it.

The code knows how each kind of term is computed (objective.py); which figures a corridor is fitted to,
with the facts they come from, the nationality groups that share a fitted value and the fitted parameters
that only make sense for that corridor are data: `data/calibration/<name>.targets.yaml`, found by the
scenario's name and, for a variant without a file of its own, by the name of the scenario it extends.
A scenario with neither has only the generic terms, computed from the observed monthly series.

Every file is checked on load (pydantic, unknown fields refused); a bad value is one InputError naming the
file, the field, the value and what is valid.
"""
from __future__ import annotations

import datetime as dt
import math
from importlib import resources
from pathlib import Path
from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ...analysis.observed import bundled_path, is_month
from ...errors import InputError

SUFFIX = ".targets.yaml"

# Terms computed from the observed monthly series alone (any scenario): label, normaliser (the error that
# counts 1.0). A targets file may list them to set their place, normaliser or label.
GENERIC_TERMS: dict[str, tuple[str, float]] = {
    "sw_mape": ("sw_encounters monthly MAPE (%)", 10.0),
    "darien_mape": ("darien_crossings monthly MAPE (%)", 15.0),
    "nationality_pp": ("top-10 nationality shares, mean abs. error (pp)", 3.0),
    "sector_pp": ("Border Patrol sector shares, mean abs. error (pp)", 3.0),
    "nationality_log": ("top-10 nationalities' monthly encounters, mean |ln(model/observed)|", 0.10),
    "ofo_share_pp": ("share of encounters at ports (OFO), mean abs. error (pp)", 3.0),
}
# Keys of a window's figures in fit.json that a term's details may not take.
RESERVED_KEYS = ("window", "objective", "terms", "series", "series_compared", "series_beating_both_baselines",
                 "nationality_top", "per_series_mape", "validation", "details")


def targets_dir() -> Path:
    return Path(str(resources.files("corridor") / "data" / "calibration"))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _iso_day(v: Any) -> Any:
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, str):
        try:
            dt.date.fromisoformat(v)
        except ValueError:
            raise ValueError("expected a day as YYYY-MM-DD, e.g. 2023-05-12") from None
    return v


def _month(v: Any) -> Any:
    if isinstance(v, str) and not is_month(v):
        raise ValueError("expected a month as YYYY-MM, e.g. 2023-02")
    return v


def _range(v: Any) -> Any:
    parts = str(v).split(":")
    kind = parts[2].strip().lower() if len(parts) == 3 else ""
    try:
        low, high = float(parts[0]), float(parts[1])
    except (ValueError, IndexError):
        low = high = math.nan
    if len(parts) not in (2, 3) or kind not in ("", "log", "int") or not low < high:
        raise ValueError("expected LOW:HIGH, LOW:HIGH:log or LOW:HIGH:int with LOW < HIGH, e.g. 0.05:5:log")
    return str(v)


class TermEntry(_Model):
    """One term of the objective: its place (the list's order), normaliser, and whether it is a target."""

    term: str = Field(min_length=1)
    normaliser: float = Field(gt=0)
    target: bool = False
    label: str | None = None


class TermKind(_Model):
    """What every scenario-specific term says of itself: its term, the key of its details in fit.json, a name."""

    term: str = Field(min_length=1)
    key: str = Field(min_length=1)
    name: str = Field(min_length=1)

    @field_validator("key")
    @classmethod
    def _free_key(cls, v: str) -> str:
        if v in RESERVED_KEYS:
            raise ValueError(f"taken by the window's own figures; use another (taken: {', '.join(RESERVED_KEYS)})")
        return v


class Detentions(TermKind):
    """Published totals of detention events at the scenario's inspection points, one row a period, in a CSV."""

    file: str = Field(min_length=1)
    measures: tuple[str, ...] = Field(min_length=1)
    annual_measure: str | None = None
    note: str = ""

    @field_validator("file")
    @classmethod
    def _exists(cls, v: str) -> str:
        try:
            bundled_path(v)
        except InputError as e:
            raise ValueError(str(e)) from None
        return v


class Period(_Model):
    start: str
    end: str
    observed: float = Field(gt=0)
    source: str = Field(min_length=1)

    _day = field_validator("start", "end", mode="before")(_iso_day)

    @model_validator(mode="after")
    def _ordered(self) -> "Period":
        if self.start > self.end:
            raise ValueError(f"start {self.start} is after end {self.end}")
        return self


class PeriodTotals(TermKind):
    """Published totals of model metrics over periods (days): the longest period inside the window counts."""

    metrics: tuple[str, ...] = Field(min_length=1)
    periods: tuple[Period, ...] = Field(min_length=1)


class RepeatMonth(_Model):
    month: str
    observed_pct: float = Field(ge=0, le=100)
    source: str = Field(min_length=1)

    _m = field_validator("month", mode="before")(_month)


class RepeatShares(TermKind):
    """Published shares (%) of SW encounters that are repeat encounters, by month."""

    months: tuple[RepeatMonth, ...] = Field(min_length=1)


class CrossingMix(TermKind):
    """The published nationality mix of a counted leg series (e.g. darien_crossings) over a period of months."""

    series: str = Field(min_length=1)
    start: str
    end: str
    total: float = Field(gt=0)
    crossed: dict[str, float] = Field(min_length=1)
    source: str = Field(min_length=1)

    _m = field_validator("start", "end", mode="before")(_month)

    @model_validator(mode="after")
    def _consistent(self) -> "CrossingMix":
        if self.start > self.end:
            raise ValueError(f"start {self.start} is after end {self.end}")
        bad = {n: v for n, v in self.crossed.items() if not 0 <= v <= self.total}
        if bad:
            raise ValueError(f"crossed {bad}: each must lie between 0 and total ({self.total:g})")
        return self


class CustodyDate(_Model):
    date: str
    observed: float = Field(gt=0)
    source: str = Field(min_length=1)

    _day = field_validator("date", mode="before")(_iso_day)


class CustodyCounts(TermKind):
    """Published counts of people in CBP custody on given days, compared with the model's summed custody."""

    metric: str = Field("us_custody_population", min_length=1)
    dates: tuple[CustodyDate, ...] = Field(min_length=1)


class Group(_Model):
    """Nationalities sharing one fitted value. `rest`: every nationality of the scenario in no other group."""

    name: str = Field(min_length=1)
    members: tuple[str, ...] = ()
    rest: bool = False

    @model_validator(mode="after")
    def _members_or_rest(self) -> "Group":
        if self.rest == bool(self.members):
            raise ValueError("give either members (a list of nationalities) or rest: true, not both or neither")
        return self


class Season(_Model):
    groups: tuple[str, ...] = Field(min_length=1)
    name: str | None = None


class ParamField(_Model):
    path: str = Field(min_length=1)
    range: str
    meaning: str = ""

    _r = field_validator("range", mode="before")(_range)


class ParamEntry(_Model):
    """Fitted parameters: the fields, repeated for each group (`for_each`) or once, where the scenario has them."""

    fields: tuple[ParamField, ...] = Field(min_length=1)
    for_each: Union[Literal["groups", "seasons"], tuple[str, ...], None] = None
    when_present: tuple[str, ...] = ()


class JointPeriod(_Model):
    """Another scenario fitted with this one: its training (and validation) months and its objective's weight."""

    scenario: str = Field(min_length=1)
    train: str
    validation: str | None = None
    weight: float = Field(1.0, gt=0)

    @field_validator("train", "validation")
    @classmethod
    def _window(cls, v: str | None) -> str | None:
        if v is None:
            return v
        parts = str(v).split(":")
        if len(parts) != 2 or not all(is_month(x) for x in parts) or parts[0] > parts[1]:
            raise ValueError("expected START:END months (YYYY-MM:YYYY-MM, START not after END), e.g. 2019-01:2019-12")
        return v


class Joint(_Model):
    """One calibration over several periods: the behaviour is one set of numbers, fitted to all of them; the
    fields ending in `period_specific` (and the base departure rates) are fitted for each period on its own."""

    periods: tuple[JointPeriod, ...] = Field(min_length=1)
    period_specific: tuple[str, ...] = ()
    note: str = ""


class Targets(_Model):
    """The contents of a targets file (see data/calibration/us-mexico.targets.yaml)."""

    scenario: str = Field(min_length=1)
    targets_from: str | None = None
    terms: tuple[TermEntry, ...] = ()
    detentions: Detentions | None = None
    period_totals: tuple[PeriodTotals, ...] = ()
    repeat_shares: RepeatShares | None = None
    crossing_mix: CrossingMix | None = None
    custody_counts: CustodyCounts | None = None
    groups: tuple[Group, ...] = ()
    seasons: tuple[Season, ...] = ()
    parameters: tuple[ParamEntry, ...] = ()
    defaults_note: str | None = None
    joint: Joint | None = None
    path: str = Field("", exclude=True)     # the file it was read from (set by read_targets)

    def kinds(self) -> list[TermKind]:
        """The scenario-specific terms, in the order the objective evaluates them."""
        out: list[TermKind] = [self.detentions] if self.detentions else []
        out += list(self.period_totals)
        out += [k for k in (self.repeat_shares, self.crossing_mix, self.custody_counts) if k is not None]
        return out

    @model_validator(mode="after")
    def _cross_checks(self) -> "Targets":
        kinds = self.kinds()
        defined = {k.term for k in kinds}
        listed = [t.term for t in self.terms]
        for field_name, names in (("term", [k.term for k in kinds]), ("key", [k.key for k in kinds]),
                                  ("terms[].term", listed)):
            dup = sorted({n for n in names if names.count(n) > 1})
            if dup:
                raise ValueError(f"field '{field_name}': bad value {dup[0]!r}: given twice; each must be unique")
        clash = sorted(defined & set(GENERIC_TERMS))
        if clash:
            raise ValueError(f"field 'term': bad value {clash[0]!r}: the name of a term computed from the observed "
                             f"series; a term defined here needs another name")
        for i, t in enumerate(self.terms):
            if t.term not in GENERIC_TERMS and t.term not in defined:
                raise ValueError(f"field 'terms[{i}].term': bad value {t.term!r}: unknown term; valid: "
                                 f"{', '.join([*GENERIC_TERMS, *defined])}")
            if t.term in defined and not t.label:
                raise ValueError(f"field 'terms[{i}] ({t.term}).label': required for a term defined in this file")
        missing = [k.term for k in kinds if k.term not in listed]
        if missing:
            raise ValueError(f"field 'terms': no entry for {missing[0]!r}, defined in this file; each defined term "
                             "needs one (term, normaliser, label)")
        names = [g.name for g in self.groups]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup or sum(g.rest for g in self.groups) > 1:
            raise ValueError(f"field 'groups': bad value {dup[0] if dup else 'rest: true'!r}: group names must be "
                             "unique, and at most one group has rest: true")
        for i, s in enumerate(self.seasons):
            bad = [g for g in s.groups if g not in names]
            if bad:
                raise ValueError(f"field 'seasons[{i}].groups': bad value {bad[0]!r}: unknown group; valid: "
                                 f"{', '.join(names) or '(no groups defined)'}")
        for i, p in enumerate(self.parameters):
            if isinstance(p.for_each, tuple):
                bad = [g for g in p.for_each if g not in names]
                if bad:
                    raise ValueError(f"field 'parameters[{i}].for_each': bad value {bad[0]!r}: unknown group; valid: "
                                     f"groups, seasons, or a list of {', '.join(names) or '(no groups defined)'}")
            if p.for_each == "seasons" and not self.seasons:
                raise ValueError(f"field 'parameters[{i}].for_each': bad value 'seasons': the file defines none")
            for j, f in enumerate(p.fields):
                if (p.for_each is None) == ("{group}" in f.path):
                    raise ValueError(f"field 'parameters[{i}].fields[{j}].path': bad value {f.path!r}: {{group}} "
                                     "belongs in the path exactly when the entry has for_each")
        return self


class Term(_Model):
    """One term of a scenario's catalogue: label and normaliser, and whether it is a published target."""

    name: str
    label: str
    normaliser: float
    target: bool = False


def catalogue(targets: Targets | None) -> dict[str, Term]:
    """Every term a scenario's objective may have, in order: the file's, then the generic terms it does not list."""
    out: dict[str, Term] = {}
    for t in (targets.terms if targets else ()):
        label = t.label or GENERIC_TERMS[t.term][0]
        out[t.term] = Term(name=t.term, label=label, normaliser=t.normaliser, target=t.target)
    for name, (label, norm) in GENERIC_TERMS.items():
        out.setdefault(name, Term(name=name, label=label, normaliser=norm))
    return out


def read_targets(path: str | Path) -> Targets:
    """Read and check one targets file; InputError naming the file, field, value and what is valid."""
    import yaml

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise InputError(f"{path}: cannot read targets file ({e.strerror})") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}:" if mark else ""
        raise InputError(f"{path}:{where} YAML syntax error: {getattr(e, 'problem', None) or e}") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: a targets file must be a YAML mapping of fields (scenario, terms, ...)")
    try:
        return Targets.model_validate({**data, "path": str(path)})
    except ValidationError as err:
        raise InputError(describe_error(path, err, data)) from None


def describe_error(path: Path, err: ValidationError, data: Any) -> str:
    """One line: file, field (list items by index and name), bad value, what is wrong and what is valid."""
    e = err.errors()[0]
    parts, node = [], data
    for part in e.get("loc", ()):
        if isinstance(part, int):
            item = node[part] if isinstance(node, list) and part < len(node) else None
            key = (item.get("name") or item.get("term")) if isinstance(item, dict) else None
            parts.append(f"[{part}]" + (f" ({key})" if key else ""))
            node = item
        elif "[" in str(part):
            continue      # pydantic's name of a union branch, not a field
        elif isinstance(node, dict) and part in node:
            parts.append(("." if parts else "") + part)
            node = node[part]
        else:
            parts.append(("." if parts else "") + str(part))
            node = None
    field = "".join(parts)
    msg = e.get("msg", "invalid").removeprefix("Value error, ")
    more = f" (and {len(err.errors()) - 1} more problem(s))" if len(err.errors()) > 1 else ""
    kind = e.get("type")
    if not field:       # a check across fields: the message names the field
        return f"{path}: {msg}{more}"
    if kind == "missing":
        return f"{path}: field '{field}': required field is missing{more}"
    if kind == "extra_forbidden":
        return f"{path}: field '{field}': unknown field; valid fields here: {_fields_at(e.get('loc', ()))}{more}"
    value = e.get("input")
    if isinstance(value, (dict, list)):
        return f"{path}: field '{field}': {msg}{more}"
    return f"{path}: field '{field}': bad value {value!r}: {msg}{more}"


def _fields_at(loc: tuple) -> str:
    """The field names valid where an unknown field was found."""
    model: Any = Targets
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        f = getattr(model, "model_fields", {}).get(part)
        if f is None:
            break
        ann = f.annotation
        for arg in (getattr(ann, "__args__", None) or (ann,)):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                model = arg
                break
            inner = [a for a in (getattr(arg, "__args__", None) or ()) if isinstance(a, type) and issubclass(a, BaseModel)]
            if inner:
                model = inner[0]
                break
    return ", ".join(k for k in model.model_fields if k != "path")


def targets_file(scenario: str | Path) -> Path | None:
    """The targets file of a scenario (bundled name or YAML path): `<name>.targets.yaml` by its name, else by the
    name of the scenario it extends, and so on up; None when no scenario of the chain has one."""
    from ...scenario import read_yaml, resolve

    path, seen = resolve(scenario), set()
    while True:
        data = read_yaml(path)
        name = str(data.get("name") or path.stem)
        cand = targets_dir() / f"{name}{SUFFIX}"
        if cand.is_file():
            return cand
        parent = data.get("extends")
        if parent is None or parent in seen:
            return None
        seen.add(parent)
        ppath = path.parent / f"{parent}.yaml"
        path = ppath if ppath.exists() else resolve(parent)


def load_targets(scenario: str | Path) -> Targets | None:
    """The checked targets of a scenario (see `targets_file`), or None when it has no targets file."""
    path = targets_file(scenario)
    return read_targets(path) if path is not None else None
