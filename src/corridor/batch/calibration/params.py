"""The fitted parameters of a calibration: `PATH=LOW:HIGH` specs checked against the schema, the default set,
and the scenario fragments that carry fitted values.

A parameter is one fitted number that may set several scenario fields at once (a value shared by a group
of nationalities). The default set is the shared behaviour every scenario has, then what the scenario's
targets file adds (its nationality groups and the fields that only make sense for its corridor).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ...errors import InputError
from .targets import Targets

BASE_RATE = "departures.base_per_day"
PERIOD_SEP = "@"         # `<scenario>@<path>`: an override or base rate that only one period of a joint fit takes
# The shared behaviour of any scenario: (spec, meaning). Each range is wide around what the facts allow.
BEHAVIOUR_PARAMS: tuple[tuple[str, str], ...] = (
    ("behaviour.crossing_hazard=0.03:0.6:log",
     "daily chance that someone waiting in a border city to cross irregularly crosses"),
    # demand far exceeded the slots (80,000 requests a day for 1,000 slots, facts_us.csv row 103): at least a
    # quarter of arrivals try for one
    ("behaviour.appointment_seekers=0.25:0.9",
     "share of arrivals at the border who wait for a CBP One slot when slots exist"),
    ("behaviour.appointment_patience_days=10:180:log",
     "days someone waits for a CBP One slot before crossing irregularly"),
    ("behaviour.port_presentation_share=0:0.2", "share of irregular crossers who present at a port instead"),
    ("behaviour.retry_after_return=0.05:0.95",
     "chance that someone returned to Mexico other than by a Title 42 expulsion tries again"),
    ("behaviour.retry_after_expulsion=0.2:0.98", "chance that someone expelled to Mexico under Title 42 tries again"),
    ("behaviour.news_quit_rate=0.001:0.2:log",
     "daily chance that someone en route or waiting stops, at the worst news from the border"),
    ("behaviour.network_elasticity=0:1.5",
     "response of departures to momentum in the news (recent good outcomes of the nationality against their long-run level)"),
    ("behaviour.mexico_news_weight=0:3",
     "weight of a detention in Mexico in the news that reaches origins (as that many bad outcomes at the border)"),
    ("behaviour.news_memory_days=30:365:log",
     "mean memory (days) of the earlier chance of getting in that news is measured against"),
    ("behaviour.perceived_chance_days=5:120:log",
     "mean delay (days) for news of outcomes at the border to reach those deciding to leave"),
    ("behaviour.detection_scale=0.3:5:log",
     "multiplier on every Mexican checkpoint's detection rate (Mexico's detention events)"),
    ("behaviour.give_up_hazard=0.0005:0.03:log",
     "daily chance that someone waiting at the border settles or leaves"),
    # route choice: how travel days, fares and the chance of detection weigh against each other (they decide
    # the mix of bus, train and foot through Mexico, hence exposure to checkpoints and Mexico's detentions)
    ("behaviour.route_time_weight=0.3:3:log", "route choice: utility lost per day of travel"),
    ("behaviour.route_cost_weight=0.0005:0.01:log", "route choice: utility lost per US dollar of fares"),
    ("behaviour.route_risk_weight=1:30:log", "route choice: utility lost per unit of detection chance on a leg"),
    # Border Patrol custody (people in custody on published days): the stay after processing by outcome path
    ("behaviour.custody_days_release=0.5:6:log",
     "mean days in Border Patrol custody after processing for those released (notice to appear, parole)"),
    ("behaviour.custody_days_removal=0.5:6:log",
     "mean days in Border Patrol custody after processing for a removal over land or a return to Mexico"),
    ("behaviour.ice_transfer_days=0.5:10:log", "mean days waiting in Border Patrol custody for a transfer to ICE"),
)


@dataclass(frozen=True)
class Param:
    """One fitted number. It may set several scenario fields at once (a value shared by a group)."""

    name: str                  # the spec's path, e.g. nationalities.{Guatemala|Honduras}.departures.elasticity
    paths: tuple[str, ...]     # the scenario fields it sets
    low: float
    high: float
    log: bool = False
    integer: bool = False
    meaning: str = ""
    label: str = ""            # a short name for reports, e.g. "elasticity: Central America"
    period: str | None = None  # in a joint fit: the one scenario (period) it sets; None: every period

    def key(self, path: str) -> str:
        """An override's key: the path, prefixed `<period>@` when the value is one period's own."""
        return f"{self.period}{PERIOD_SEP}{path}" if self.period else path

    def spec(self) -> str:
        kind = ":log" if self.log else ":int" if self.integer else ""
        return f"{self.name}={fmt_number(self.low)}:{fmt_number(self.high)}{kind}"


def parse_param(spec: str, raw: dict, meaning: str = "", label: str = "") -> Param:
    """`PATH=LOW:HIGH[:log|:int]`. PATH is a scenario field (as for `--set`); `{A|B|C}` in it names several
    list items sharing one value and `*` every item, e.g. `nationalities.*.departures.seasonal_amplitude=0:0.4`."""
    if "=" not in spec:
        raise InputError(f"--params {spec!r}: expected PATH=LOW:HIGH, e.g. behaviour.crossing_hazard=0.05:0.5")
    name, rng = (s.strip() for s in spec.rsplit("=", 1))
    parts = rng.split(":")
    kind = parts[2].strip().lower() if len(parts) == 3 else ""
    if len(parts) not in (2, 3) or kind not in ("", "log", "int"):
        raise InputError(f"--params {spec!r}: bounds {rng!r} must be LOW:HIGH, LOW:HIGH:log or LOW:HIGH:int")
    try:
        low, high = float(parts[0]), float(parts[1])
    except ValueError:
        raise InputError(f"--params {spec!r}: bounds {rng!r} are not numbers") from None
    if not (math.isfinite(low) and math.isfinite(high)) or low >= high:
        raise InputError(f"--params {spec!r}: need finite LOW < HIGH, got {low} and {high}")
    if kind == "log" and low <= 0:
        raise InputError(f"--params {spec!r}: a log-scaled range needs LOW > 0")
    paths = expand_path(name, raw)
    param = Param(name, tuple(paths), low, high, log=kind == "log", integer=kind == "int", meaning=meaning,
                  label=label or name)
    check_param(param, raw)
    return param


def expand_path(path: str, raw: dict) -> list[str]:
    """The concrete paths of a spec path: `{A|B}` alternatives and `*` (every item of a list) expanded."""
    out = [""]
    node_sets: list[list[Any]] = [[raw]]
    for part in split_path(path):
        new_out, new_nodes = [], []
        for prefix, nodes in zip(out, node_sets):
            for node in nodes:
                if part == "*" or (part.startswith("{") and part.endswith("}")):
                    if not isinstance(node, list):
                        raise InputError(f"--params {path}: '{part}' needs a list of items here (e.g. nationalities)")
                    keys = [item_key(x) for x in node] if part == "*" else [k.strip() for k in part[1:-1].split("|")]
                    for k in keys:
                        item = next((x for x in node if item_key(x) == k), None)
                        if item is None:
                            valid = ", ".join(str(item_key(x)) for x in node[:15])
                            raise InputError(f"--params {path}: no item {k!r} here; valid: {valid}")
                        new_out.append(f"{prefix}.{k}" if prefix else k)
                        new_nodes.append([item])
                else:
                    child = None
                    if isinstance(node, list):
                        child = next((x for x in node if item_key(x) == part), None)
                    elif isinstance(node, dict):
                        child = node.get(part)
                    new_out.append(f"{prefix}.{part}" if prefix else part)
                    new_nodes.append([child])
        out, node_sets = new_out, new_nodes
    return out


def split_path(path: str) -> list[str]:
    """Split on dots outside braces."""
    parts, depth, cur = [], 0, ""
    for ch in path:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == "." and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    if depth != 0 or any(p == "" for p in parts):
        raise InputError(f"--params {path!r}: not a dotted path (unbalanced braces or empty part)")
    return parts


def item_key(x: Any) -> str | None:
    return (x.get("id") or x.get("name")) if isinstance(x, dict) else None


def check_param(param: Param, raw: dict) -> None:
    """Every path must be a numeric field of the scenario that accepts the range's ends."""
    from ...scenario import Scenario, apply_overrides
    from pydantic import ValidationError

    for path in param.paths:
        current = get_value(raw, path, param.name)
        if current is not None and (isinstance(current, bool) or not isinstance(current, (int, float))):
            raise InputError(f"--params {param.name}: {path} holds {current!r}, not a number; only numeric fields can be fitted")
    for end in (param.low, param.high):
        data = apply_overrides(raw, {p: end for p in param.paths}, source=f"--params {param.name}:")
        try:
            Scenario.model_validate(data)
        except ValidationError as err:
            e = err.errors()[0]
            raise InputError(f"--params {param.spec()}: value {fmt_number(end)} is not valid for "
                             f"{'.'.join(str(x) for x in e.get('loc', ()))}: {e.get('msg', 'invalid')}") from None


def get_value(raw: dict, path: str, label: str | None = None) -> Any:
    """The value at a dotted path of a raw scenario mapping (None when absent: the schema default)."""
    from ...scenario import Scenario, schema_fields, schema_submodel

    node: Any = raw
    model: Any = Scenario
    for i, part in enumerate(path.split(".")):
        where = ".".join(path.split(".")[:i]) or "scenario"
        if isinstance(node, list):
            item = next((x for x in node if item_key(x) == part), None)
            if item is None:
                valid = ", ".join(str(item_key(x)) for x in node[:15])
                raise InputError(f"--params {label or path}: no item {part!r} in {where}; valid: {valid}")
            node = item
            continue
        fields = schema_fields(model)
        if fields is not None and part not in fields and not (isinstance(node, dict) and part in node):
            raise InputError(f"--params {label or path}: unknown field {part!r} in {where}; valid fields here: "
                             f"{', '.join(sorted(fields))}")
        if node is None:
            return schema_default(model, part)
        if not isinstance(node, dict):
            raise InputError(f"--params {label or path}: {where} is a value, not a mapping")
        if part not in node:
            value = schema_default(model, part)
            node, model = (None if value is None else value), schema_submodel(model, part)
            if i == len(path.split(".")) - 1:
                return value
            continue
        node, model = node[part], schema_submodel(model, part)
    return node


def schema_default(model: Any, part: str) -> Any:
    try:
        f = model.model_fields[part]
    except (AttributeError, KeyError):
        return None
    if f.default_factory is not None:
        return None
    d = f.default
    return d if isinstance(d, (int, float, str, bool)) else None


def default_params(raw: dict, targets: Targets | None = None) -> list[Param]:
    """The default set: the shared behaviour of any scenario, then the parameters of the scenario's targets
    file for its nationality groups and seasons where the nationalities exist (a group shares one value)."""
    nats = [n.get("name") for n in raw.get("nationalities", [])]
    specs: list[tuple[str, str]] = list(BEHAVIOUR_PARAMS)
    present, seasons = nationality_groups(nats, targets)
    by_name = dict(present)
    for entry in (targets.parameters if targets else ()):
        if not all(has_path(raw, p) for p in entry.when_present):
            continue
        if entry.for_each is None:
            specs += [(f"{f.path}={f.range}", f.meaning) for f in entry.fields]
            continue
        over = present if entry.for_each == "groups" else seasons if entry.for_each == "seasons" else \
            [(g, by_name[g]) for g in entry.for_each if g in by_name]
        for g, members in over:
            for f in entry.fields:
                specs.append((f"{f.path.replace('{group}', selector(members))}={f.range}", f.meaning.replace("{group}", g)))
    out = []
    for spec, meaning in specs:
        path = spec.split("=")[0]
        label = path.split(".")[-1]
        if path.startswith("nationalities."):
            group = next((g for g, members in [*present, *seasons] if path.split(".")[1] == selector(members)
                          or path.split(".")[1] == members[0]), None)
            if group is None:   # one nationality's own value
                group, label = path.split(".")[1], ".".join(path.split(".")[2:])
            label = f"{label}: {group}"
        out.append(parse_param(spec, raw, meaning=meaning, label=label))
    return out


def nationality_groups(nats: list[str], targets: Targets | None) -> tuple[list[tuple[str, list[str]]],
                                                                           list[tuple[str, list[str]]]]:
    """The targets file's groups and seasons as (name, members present in the scenario), empty ones left out."""
    if targets is None:
        return [], []
    grouped = {n for g in targets.groups for n in g.members}
    groups = [(g.name, [n for n in nats if n not in grouped] if g.rest else [n for n in g.members if n in nats])
              for g in targets.groups]
    present = [(g, m) for g, m in groups if m]
    seasons = []
    for s in targets.seasons:
        members = [n for g, m in present if g in s.groups for n in m]
        if members:
            seasons.append((s.name or ", ".join(g for g, _ in present if g in s.groups), members))
    return present, seasons


def selector(members: list[str]) -> str:
    """The path part naming list items: one name, or {A|B|C} for several sharing a value."""
    return members[0] if len(members) == 1 else "{" + "|".join(members) + "}"


def has_path(raw: dict, path: str) -> bool:
    """Whether the raw scenario mapping itself (not the schema's defaults) holds the dotted path."""
    node: Any = raw
    for part in path.split("."):
        if isinstance(node, list):
            node = next((x for x in node if item_key(x) == part), None)
            if node is None:
                return False
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return False
    return True


def param_values(params: list[Param], raw: dict) -> dict[str, float]:
    """The scenario's current value of each parameter (the first path's; clipped into the range)."""
    out = {}
    for p in params:
        v = get_value(raw, p.paths[0], p.name)
        v = float(v) if v is not None else p.low
        v = min(max(v, p.low), p.high)
        out[p.name] = int(round(v)) if p.integer else v
    return out


def overrides_for(params: list[Param], values: dict[str, float]) -> dict[str, float]:
    """Scenario paths and values; a period's own parameters (joint fit) keyed `<period>@<path>`."""
    out = {}
    for p in params:
        v = values[p.name]
        for path in p.paths:
            out[p.key(path)] = int(v) if p.integer else float(v)
    return out


def for_period(values: dict[str, Any], name: str) -> dict[str, Any]:
    """The entries one period takes from a joint fit's overrides or base rates: the shared ones and its own
    (`<name>@...`, prefix removed)."""
    own = name + PERIOD_SEP
    return {(k[len(own):] if k.startswith(own) else k): v for k, v in values.items()
            if PERIOD_SEP not in k or k.startswith(own)}


def overlay(raw: dict, values: dict[str, Any]) -> dict:
    """A nested scenario fragment setting each dotted path; list items addressed by their id/name."""
    out: dict = {}
    for path, v in values.items():
        _overlay_set(out, raw, path.split("."), v)
    return out


def _overlay_set(frag: dict, node: Any, parts: list[str], v: Any) -> None:
    part = parts[0]
    child = node.get(part) if isinstance(node, dict) else None
    if len(parts) == 1:
        frag[part] = v
        return
    if isinstance(child, list):
        key = parts[1]
        items = frag.setdefault(part, [])
        item = next((x for x in items if item_key(x) == key), None)
        if item is None:
            src = next(x for x in child if item_key(x) == key)
            item = {"id" if "id" in src else "name": key}
            items.append(item)
        src = next(x for x in child if item_key(x) == key)
        if len(parts) == 2:
            raise InputError(f"cannot set a whole list item ({'.'.join(parts)})")
        _overlay_set(item, src, parts[2:], v)
        return
    sub = frag.setdefault(part, {})
    _overlay_set(sub, child if isinstance(child, dict) else {}, parts[1:], v)


def fmt_number(x: float) -> str:
    return f"{x:g}"
