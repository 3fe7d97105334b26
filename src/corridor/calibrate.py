"""Fit the uncertain parameters of a scenario to observed monthly series, and say how well it fits.

    from corridor.calibrate import calibrate
    result = calibrate("us-mexico", observed=None, trials=200, out="runs/fit", scale=20, workers=2)

Two kinds of fitted parameter, each with a meaning (never a value per month, never an observed series
fed back in as an input):

* **Base departure rates** (`nationalities.<n>.departures.base_per_day`), one per nationality, by
  *ratio scaling*: run, divide each nationality's observed encounters over the training months by the
  model's, multiply its base rate by that ratio, repeat. Rates set a level; they cannot shape a month.
* **Shared behavioural parameters** (`--params`: crossing hazard, elasticity of departures to the
  perceived chance of entry, detection scale, seasonality, trends by region, ...), by an optuna TPE
  study. Inside every trial the base rates are re-scaled once for the trial's behaviour (a second run),
  so the study compares shapes at matched levels rather than levels.

The objective is a sum over the training months of errors each divided by its target (so 1.0 per term
means "exactly on target"): MAPE of monthly `sw_encounters` / 10 %, MAPE of `darien_crossings` / 15 %,
mean absolute error of the top-10 nationality shares / 3 pp, of the Border Patrol sector shares / 3 pp,
the relative error of Mexico's detention events over the longest published period inside the training
window / 15 %; and four terms without a target in the issue: each top-10 nationality's own monthly series
(mean |ln(model/observed)| / 0.10, the same 10 % as the total: without it a fit fills a gap in one
nationality with another's trend), DHS removals and returns after Title 42 (facts_us.csv row 84) / 15 %,
which pins how many are released rather than removed, the ports' share of encounters / 3 pp, which pins
the split between ports and Border Patrol, and CBP One appointments used (row 101) / 15 %. Terms a
scenario cannot produce (no Darién leg, no checkpoint, period outside the run) are left out.

Trials stop each run at the end of the training window (the simulation is causal, so those months are
exactly those of a full run), which roughly halves their cost.

Reproducible: the sampler for trial j is a TPESampler seeded by (seed, j) and trials are asked in
batches of fixed size (not the number of workers), evaluated in parallel, and told in trial order;
so the same seed and number of trials give the same parameters for any number of workers. The study
lives in an optuna journal file in the output directory; a killed run resumes: trials already told
are kept, trials asked but not told are evaluated with their stored parameters.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd

from .errors import InputError
from .results import engine_fingerprint
from .analysis.observed import bundled_path, is_month, load_observed, monthly_from_run, shift_month
from .analysis.validate import TRAINING_MONTHS, VALIDATION_MONTHS

TRAIN_DEFAULT = TRAINING_MONTHS
VALIDATION_DEFAULT = VALIDATION_MONTHS
BATCH_DEFAULT = 8
RATIO_ITERATIONS_DEFAULT = 3
STUDY_NAME = "corridor-calibration"
JOURNAL = "study.journal"

# Targets of the fit (issue 4): each objective term is divided by its target.
TARGETS = {"sw_mape": 10.0, "darien_mape": 15.0, "nationality_pp": 3.0, "sector_pp": 3.0, "mexico_pct": 15.0,
           "nationality_log": 0.10, "removals_pct": 15.0, "ofo_share_pp": 3.0, "appointments_pct": 15.0,
           "repeat_pp": 3.0, "darien_mix_pp": 3.0}
TERM_LABELS = {
    "sw_mape": "sw_encounters monthly MAPE (%)",
    "darien_mape": "darien_crossings monthly MAPE (%)",
    "nationality_pp": "top-10 nationality shares, mean abs. error (pp)",
    "sector_pp": "Border Patrol sector shares, mean abs. error (pp)",
    "mexico_pct": "Mexico detention events, relative error (%)",
    "nationality_log": "top-10 nationalities' monthly encounters, mean |ln(model/observed)|",
    "removals_pct": "US removals and returns after Title 42, relative error (%)",
    "ofo_share_pp": "share of encounters at ports (OFO), mean abs. error (pp)",
    "appointments_pct": "CBP One appointments used, relative error (%)",
    "repeat_pp": "repeat share of SW encounters, abs. error (pp)",
    "darien_mix_pp": "nationality shares of Darién crossings, mean abs. error (pp)",
}
# Terms the issue sets targets for; the others keep each nationality's own series, the outcomes and the repeat
# shares honest.
ISSUE_TERMS = ("sw_mape", "darien_mape", "nationality_pp", "sector_pp", "mexico_pct")
# Published period totals of model metrics that the monthly files do not hold (facts_us.csv rows 84, 85): DHS
# removals and returns since Title 42 ended ("over", so lower bounds; nearly all of them SW border encounters).
PERIOD_TARGETS = (
    {"term": "removals_pct", "metrics": ("removals", "returns_to_mexico"), "start": "2023-05-12", "end": "2023-09-30",
     "observed": 300_000.0, "source": "facts_us.csv row 84 (DHS: removed or returned over 300,000 since May 12, "
                                      "CBP September 2023 update)"},
    {"term": "removals_pct", "metrics": ("removals", "returns_to_mexico"), "start": "2023-05-12", "end": "2023-12-31",
     "observed": 472_000.0, "source": "facts_us.csv row 85 (DHS: over 472,000 from May 12 to Dec 31, 2023)"},
    {"term": "appointments_pct", "metrics": ("appointments_used",), "start": "2023-05-12", "end": "2023-06-23",
     "observed": 49_000.0, "source": "facts_us.csv row 101 (CBP One: more than 49,000 processed May 12 - June 23, 2023)"},
    {"term": "appointments_pct", "metrics": ("appointments_used",), "start": "2023-01-01", "end": "2023-12-31",
     "observed": 413_300.0, "source": "facts_us.csv row 113 (CBP One: 413,300 processed in 2023)"},
)
# Published monthly repeat shares (encounters of people with a prior encounter in the previous 12 months): one
# under Title 42 and one under Title 8, so the two retry rates are told apart.
REPEAT_TARGETS = (
    {"month": "2023-02", "observed_pct": 25.0, "source": "facts_us.csv row 76 (CBP: 39,206 (25%) repeat encounters, "
                                                          "February 2023)"},
    {"month": "2023-08", "observed_pct": 11.0, "source": "facts_us.csv row 77 (CBP: 11% of 232,972, August 2023, "
                                                          "post-Title 42)"},
)
# The published nationality mix of Darién crossings in January-September 2023 (inside the training months): the
# monthly Darién series says how many crossed, this says who, so the fit can tell Venezuelans from Ecuadorians.
DARIEN_MIX = {"start": "2023-01", "end": "2023-09", "total": 400_000.0,
              "crossed": {"Venezuela": 252_000.0, "Ecuador": 47_724.0, "Colombia": 13_404.0},
              "source": "facts_transit.csv row 181 (SNM Panamá: ~400,000 crossed in Jan-Sep 2023; Venezuela >252,000, "
                        "Ecuador 47,724, Colombia 13,404)"}
BASE_RATE = "departures.base_per_day"
OTHER = "Other"
# Metrics the objective and the report read; the rest of a run's table is dropped before aggregating.
SCORED_PREFIXES = ("sw_encounters", "usbp_encounters", "ofo_encounters", "darien_crossings", "mexico_detentions",
                   "removals", "returns_to_mexico", "appointments_used", "repeat_encounters")
MEXICO_FILE = "mexico_irregular_migration_events.csv"
MEXICO_MEASURES = ("annual_total_events", "cumulative_total_events", "monthly_total_events",
                   "monthly_total_events_derived")


# ============================================================================ parameters


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

    def spec(self) -> str:
        kind = ":log" if self.log else ":int" if self.integer else ""
        return f"{self.name}={_fmt(self.low)}:{_fmt(self.high)}{kind}"


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
    for part in _split_path(path):
        new_out, new_nodes = [], []
        for prefix, nodes in zip(out, node_sets):
            for node in nodes:
                if part == "*" or (part.startswith("{") and part.endswith("}")):
                    if not isinstance(node, list):
                        raise InputError(f"--params {path}: '{part}' needs a list of items here (e.g. nationalities)")
                    keys = [_item_key(x) for x in node] if part == "*" else [k.strip() for k in part[1:-1].split("|")]
                    for k in keys:
                        item = next((x for x in node if _item_key(x) == k), None)
                        if item is None:
                            valid = ", ".join(str(_item_key(x)) for x in node[:15])
                            raise InputError(f"--params {path}: no item {k!r} here; valid: {valid}")
                        new_out.append(f"{prefix}.{k}" if prefix else k)
                        new_nodes.append([item])
                else:
                    child = None
                    if isinstance(node, list):
                        child = next((x for x in node if _item_key(x) == part), None)
                    elif isinstance(node, dict):
                        child = node.get(part)
                    new_out.append(f"{prefix}.{part}" if prefix else part)
                    new_nodes.append([child])
        out, node_sets = new_out, new_nodes
    return out


def _split_path(path: str) -> list[str]:
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


def _item_key(x: Any) -> str | None:
    return (x.get("id") or x.get("name")) if isinstance(x, dict) else None


def check_param(param: Param, raw: dict) -> None:
    """Every path must be a numeric field of the scenario that accepts the range's ends."""
    from .scenario import Scenario, apply_overrides
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
            raise InputError(f"--params {param.spec()}: value {_fmt(end)} is not valid for "
                             f"{'.'.join(str(x) for x in e.get('loc', ()))}: {e.get('msg', 'invalid')}") from None


def get_value(raw: dict, path: str, label: str | None = None) -> Any:
    """The value at a dotted path of a raw scenario mapping (None when absent: the schema default)."""
    from .scenario import Scenario, schema_fields, schema_submodel

    node: Any = raw
    model: Any = Scenario
    for i, part in enumerate(path.split(".")):
        where = ".".join(path.split(".")[:i]) or "scenario"
        if isinstance(node, list):
            item = next((x for x in node if _item_key(x) == part), None)
            if item is None:
                valid = ", ".join(str(_item_key(x)) for x in node[:15])
                raise InputError(f"--params {label or path}: no item {part!r} in {where}; valid: {valid}")
            node = item
            continue
        fields = schema_fields(model)
        if fields is not None and part not in fields and not (isinstance(node, dict) and part in node):
            raise InputError(f"--params {label or path}: unknown field {part!r} in {where}; valid fields here: "
                             f"{', '.join(sorted(fields))}")
        if node is None:
            return _schema_default(model, part)
        if not isinstance(node, dict):
            raise InputError(f"--params {label or path}: {where} is a value, not a mapping")
        if part not in node:
            value = _schema_default(model, part)
            node, model = (None if value is None else value), schema_submodel(model, part)
            if i == len(path.split(".")) - 1:
                return value
            continue
        node, model = node[part], schema_submodel(model, part)
    return node


def _schema_default(model: Any, part: str) -> Any:
    try:
        f = model.model_fields[part]
    except (AttributeError, KeyError):
        return None
    if f.default_factory is not None:
        return None
    d = f.default
    return d if isinstance(d, (int, float, str, bool)) else None


def default_params(raw: dict) -> list[Param]:
    """The default set: shared behaviour for any scenario, plus region groups where the nationalities exist.

    Each range is wide around what the facts allow; a group shares one value (one fitted number).
    """
    nats = [n.get("name") for n in raw.get("nationalities", [])]
    specs: list[tuple[str, str]] = [
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
    ]
    # Venezuelans are a group of their own: the largest flow through the Darién, with policies of their own
    # (Title 42 from October 2022, parole, removal flights from October 2023)
    groups = [
        ("Mexico", ["Mexico"]),
        ("Central America", ["Guatemala", "Honduras", "El Salvador"]),
        ("Cuba, Haiti, Nicaragua", ["Cuba", "Haiti", "Nicaragua"]),
        ("Venezuela", ["Venezuela"]),
    ]
    for g, members in (("Mexico", ["Mexico"]), ("Central America", ["Guatemala", "Honduras", "El Salvador"])):
        members = [n for n in members if n in nats]
        if members:
            sel = members[0] if len(members) == 1 else "{" + "|".join(members) + "}"
            specs.append((f"nationalities.{sel}.title8_removal=0.1:0.95",
                          f"share of processed Title 8 encounters from {g} put in removal (the rest are released)"))
    grouped = {n for _, members in groups for n in members}
    # everyone else (South America and the extra-continental routes through it or by air) shares a group
    groups.append(("South America and beyond", [n for n in nats if n not in grouped]))
    present = [(g, [n for n in members if n in nats]) for g, members in groups]
    present = [(g, m) for g, m in present if m]
    # seasonality: one swing for the overland north (Mexico, Central America, the Caribbean) and one for those
    # coming through the Darién or by air from further away (the Darién's rainy season and its own calendar)
    far_groups = ("Venezuela", "South America and beyond")
    near = [n for g, members in present if g not in far_groups for n in members]
    far = [n for g, members in present if g in far_groups for n in members]
    seasons = [("Mexico, Central America, Caribbean", near), (", ".join(g for g, _ in present if g in far_groups), far)]
    for g, members in seasons:
        if members:
            sel = members[0] if len(members) == 1 else "{" + "|".join(members) + "}"
            specs.append((f"nationalities.{sel}.departures.seasonal_amplitude=0:0.4", f"seasonal swing of departures from {g}"))
            specs.append((f"nationalities.{sel}.departures.seasonal_peak_month=1:12:int", f"month of peak departures from {g}"))
    # Ecuadorians leave from Quito (overland, through the Darién) or Guayaquil (a flight to Central America, assumed
    # route): Guayaquil's weight against Quito's sets the share who skip the Darién, seen in the Darién's mix
    ecuador = next((n for n in raw.get("nationalities", []) if n.get("name") == "Ecuador"), None)
    if ecuador and {"quito", "guayaquil"} <= set(ecuador.get("origins") or {}):
        specs.append(("nationalities.Ecuador.origins.guayaquil=0.05:5:log",
                      "weight of Guayaquil (flights to Central America) against Quito (the Darién) for Ecuadorians"))
    for field_, low_high, what in (("elasticity", "0:4", "response of departures from {g} to the perceived chance "
                                    "of getting in"),
                                   ("trend_per_year", "-0.3:0.3", "relative change per year of departures from {g}")):
        for g, members in present:
            sel = members[0] if len(members) == 1 else "{" + "|".join(members) + "}"
            specs.append((f"nationalities.{sel}.departures.{field_}={low_high}", what.format(g=g)))
    out = []
    for spec, meaning in specs:
        path = spec.split("=")[0]
        label = path.split(".")[-1]
        if path.startswith("nationalities."):
            group = next((g for g, members in [*present, *seasons]
                          if path.split(".")[1] in (members[0], "{" + "|".join(members) + "}")), None)
            if group is None:   # one nationality's own value
                group, label = path.split(".")[1], ".".join(path.split(".")[2:])
            label = f"{label}: {group}"
        out.append(parse_param(spec, raw, meaning=meaning, label=label))
    return out


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
    out = {}
    for p in params:
        v = values[p.name]
        for path in p.paths:
            out[path] = int(v) if p.integer else float(v)
    return out


# ============================================================================ observed targets


@dataclass(frozen=True)
class Window:
    start: str
    end: str

    def months(self) -> tuple[str, str]:
        return self.start, self.end

    def __str__(self) -> str:
        return f"{self.start}..{self.end}"


def parse_window(text: str, label: str) -> Window:
    parts = str(text).replace("..", ":").split(":")
    if len(parts) != 2 or not all(is_month(p.strip()) for p in parts):
        raise InputError(f"--{label} {text!r}: expected START:END months, e.g. 2022-10:2023-09")
    start, end = (p.strip() for p in parts)
    if start > end:
        raise InputError(f"--{label} {text!r}: starts after it ends")
    return Window(start, end)


def mexico_targets(path: str | Path | None = None) -> pd.DataFrame:
    """Published totals of Mexico's detention events ('eventos'), one row per period: start, end (months), value, label.

    From the bundled mexico_irregular_migration_events.csv: annual, cumulative and monthly totals of the
    UPM series; approximations and other measures are left out.
    """
    path = Path(path) if path else bundled_path(MEXICO_FILE)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError) as err:
        raise InputError(f"{path}: not a readable CSV ({err})") from None
    need = ("period_start", "period_end", "events", "measure")
    if any(c not in raw.columns for c in need):
        raise InputError(f"{path}: expected columns {', '.join(need)}")
    rows = raw[raw["measure"].isin(MEXICO_MEASURES)]
    out = pd.DataFrame({
        "start": rows["period_start"].str[:7], "end": rows["period_end"].str[:7],
        "value": pd.to_numeric(rows["events"], errors="coerce"), "label": rows["measure"],
    }).dropna()
    return out.reset_index(drop=True)


def mexico_target_in(targets: pd.DataFrame, window: Window, months_run: Iterable[str]) -> dict | None:
    """The longest published period inside the window (and the run's months): one number, not nested overlaps."""
    have = set(months_run)
    best = None
    for r in targets.itertuples():
        if r.start < window.start or r.end > window.end:
            continue
        span = _month_range(r.start, r.end)
        if not all(m in have for m in span):
            continue
        if best is None or len(span) > len(best["months"]):
            best = {"start": r.start, "end": r.end, "observed": float(r.value), "months": span, "measure": r.label}
    return best


def _month_range(start: str, end: str) -> list[str]:
    out, m = [], start
    while m <= end:
        out.append(m)
        m = shift_month(m, 1)
    return out


def nationality_targets(observed: pd.DataFrame, nat_names: list[str], window: Window) -> dict[str, float]:
    """Observed encounters per model nationality over the window; labels the model lacks count as Other."""
    rows = observed[observed["series"].str.startswith("sw_encounters:")
                    & (observed["month"] >= window.start) & (observed["month"] <= window.end)]
    totals = rows.groupby(rows["series"].str.removeprefix("sw_encounters:"))["value"].sum()
    out = {n: float(totals.get(n, 0.0)) for n in nat_names}
    if OTHER in out:
        out[OTHER] += float(sum(v for k, v in totals.items() if k not in out))
    return out


# ============================================================================ one evaluation


@dataclass
class Setup:
    """Everything a trial needs, picklable (sent once to every dask worker)."""

    raw: dict
    observed: pd.DataFrame
    mexico: pd.DataFrame
    scale: float
    sim_seed: int
    train: Window
    validation: Window
    full: Window
    terms: tuple[str, ...] = tuple(TARGETS)   # objective terms the scenario can produce


def scenario_terms(sc) -> tuple[str, ...]:
    """The objective terms a scenario can produce: no Darién term without a leg counted as darien_crossings,
    no Mexico term without an inspection point."""
    terms = ["sw_mape", "nationality_pp", "sector_pp", "nationality_log", "removals_pct", "ofo_share_pp",
             "appointments_pct", "repeat_pp"]
    if any(leg.counts_as == "darien_crossings" for leg in sc.legs):
        terms.append("darien_mape")
        if all(n in {x.name for x in sc.nationalities} for n in DARIEN_MIX["crossed"]):
            terms.append("darien_mix_pp")
    if any(leg.inspection is not None for leg in sc.legs):
        terms.append("mexico_pct")
    return tuple(t for t in TARGETS if t in terms)


def simulate(setup: Setup, overrides: dict[str, Any], until: str | None = None) -> pd.DataFrame:
    """Run the scenario with overrides; the daily table (date, metric, value) of the scored series.

    `until` ('YYYY-MM') ends the run with that month: the simulation is causal and every draw is keyed
    on (seed, day, agent), so the months before are exactly those of the full run (dated events after
    the end, such as later caravans, are dropped). Trials stop at the end of the training window.
    """
    from .engine import Simulation
    from .scenario import Scenario, apply_overrides
    from pydantic import ValidationError

    data = apply_overrides(setup.raw, overrides, source="calibration")
    if until is not None:
        last = month_end(until)
        if dt.date.fromisoformat(str(data["end"])) > last:
            data["end"] = last.isoformat()
            data["caravans"] = [c for c in data.get("caravans", []) if dt.date.fromisoformat(str(c["date"])) <= last]
    try:
        sc = Scenario.model_validate(data)
    except ValidationError as err:
        raise InputError(f"calibration values do not make a valid scenario: {err.errors()[0]}") from None
    sim = Simulation(sc, seed=setup.sim_seed, scale=setup.scale).run()
    df = sim.to_df()
    return df[df["metric"].str.startswith(SCORED_PREFIXES)].reset_index(drop=True)


def month_end(month: str) -> dt.date:
    nxt = shift_month(month, 1)
    return dt.date(int(nxt[:4]), int(nxt[5:7]), 1) - dt.timedelta(days=1)


def monthly(daily: pd.DataFrame) -> pd.DataFrame:
    return monthly_from_run(daily, source="calibration run")


def model_nationality_totals(table: pd.DataFrame, nat_names: list[str], window: Window) -> dict[str, float]:
    """Model encounters per nationality over the window, from a monthly table."""
    rows = table[(table["month"] >= window.start) & (table["month"] <= window.end)]
    out = {}
    for n in nat_names:
        out[n] = float(rows.loc[rows["series"] == f"sw_encounters:{n}", "value"].sum())
    return out


def rescale_bases(bases: dict[str, float], model: dict[str, float], target: dict[str, float],
                  clip: tuple[float, float] = (0.2, 5.0)) -> dict[str, float]:
    """One ratio-scaling step: base x observed/model per nationality (clipped; unchanged where either is 0)."""
    out = {}
    for n, b in bases.items():
        m, t = model.get(n, 0.0), target.get(n, 0.0)
        r = t / m if m > 0 and t > 0 else 1.0
        out[n] = float(b * min(max(r, clip[0]), clip[1]))
    return out


def round_sig(x: float, digits: int = 4) -> float:
    if x == 0 or not math.isfinite(x):
        return float(x)
    return float(round(x, digits - 1 - int(math.floor(math.log10(abs(x))))))


def score(daily: pd.DataFrame, setup: Setup, window: Window) -> dict:
    """The objective's terms over a window, from the same `compare` that `corridor validate` prints."""
    from .analysis.validate import compare

    res = compare(daily, setup.observed, months=window.months())
    table = monthly(daily)
    terms = {
        "sw_mape": _get(res.series, "sw_encounters", "mape"),
        "darien_mape": _get(res.series, "darien_crossings", "mape"),
        "nationality_pp": res.summary.get("nationality_share_mae_pp"),
        "sector_pp": res.summary.get("sector_share_mae_pp"),
    }
    mx = mexico_target_in(setup.mexico, window, set(table.loc[table["series"] == "mexico_detentions", "month"]))
    if mx is not None:
        rows = table[(table["series"] == "mexico_detentions") & table["month"].isin(mx["months"])]
        mx["model"] = float(rows["value"].sum())
        mx["error_pct"] = 100.0 * (mx["model"] - mx["observed"]) / mx["observed"]
        terms["mexico_pct"] = abs(mx["error_pct"])
    else:
        terms["mexico_pct"] = None
    terms["nationality_log"] = _nationality_log(res)
    terms["ofo_share_pp"] = _ofo_share(res)
    periods = {t: period_target_in(daily, window, t) for t in ("removals_pct", "appointments_pct")}
    for t, period in periods.items():
        terms[t] = abs(period["error_pct"]) if period else None
    period = periods["removals_pct"]
    repeat = repeat_share_in(table, window)
    terms["repeat_pp"] = float(np.mean([abs(r["error_pp"]) for r in repeat])) if repeat else None
    mix = darien_mix_in(table, window)
    terms["darien_mix_pp"] = float(np.mean([abs(r["error_pp"]) for r in mix])) if mix else None
    terms = {k: (v if k in setup.terms else None) for k, v in terms.items()}  # terms the scenario cannot produce
    used = {k: v for k, v in terms.items() if v is not None}
    objective = float(sum(v / TARGETS[k] for k, v in used.items())) if used else float("inf")
    return {"objective": objective, "terms": terms, "mexico": _mexico_brief(mx), "removals": period,
            "appointments": periods["appointments_pct"], "repeat": repeat, "darien_mix": mix, "validation": res}


def darien_mix_in(table: pd.DataFrame, window: Window) -> list[dict]:
    """Model vs published share (%) of Darién crossings by nationality, when the window holds DARIEN_MIX's months."""
    t = DARIEN_MIX
    span = _month_range(t["start"], t["end"])
    if not (window.start <= t["start"] and t["end"] <= window.end):
        return []
    rows = table[table["month"].isin(span)]
    if set(rows["month"]) != set(span):
        return []
    totals = rows.groupby("series")["value"].sum()
    total = float(totals.get("darien_crossings", 0.0))
    if not total > 0:
        return []
    out = []
    for n, crossed in t["crossed"].items():
        model, observed = 100.0 * float(totals.get(f"darien_crossings:{n}", 0.0)) / total, 100.0 * crossed / t["total"]
        out.append({"nationality": n, "observed_pct": observed, "model_pct": model, "error_pp": model - observed,
                    "source": t["source"]})
    return out


def repeat_share_in(table: pd.DataFrame, window: Window) -> list[dict]:
    """Model vs published repeat share (%) of SW encounters for the REPEAT_TARGETS months inside the window."""
    out = []
    for t in REPEAT_TARGETS:
        if not (window.start <= t["month"] <= window.end):
            continue
        rows = table[table["month"] == t["month"]].set_index("series")["value"]
        if "repeat_encounters" not in rows or not rows.get("sw_encounters", 0) > 0:
            continue
        pct = 100.0 * float(rows["repeat_encounters"]) / float(rows["sw_encounters"])
        out.append({"month": t["month"], "observed_pct": t["observed_pct"], "model_pct": pct,
                    "error_pp": pct - t["observed_pct"], "source": t["source"]})
    return out


def _ofo_share(res) -> float | None:
    """Mean absolute error, in percentage points, of the ports' (OFO) share of all SW border encounters."""
    rows = res.pairs[res.pairs["series"].isin(["ofo_encounters", "sw_encounters"])]
    model = rows.pivot(index="month", columns="series", values="model")
    obs = rows.pivot(index="month", columns="series", values="observed")
    if not {"ofo_encounters", "sw_encounters"} <= set(model.columns):
        return None
    ok = (model["sw_encounters"] > 0) & (obs["sw_encounters"] > 0)
    if not ok.any():
        return None
    diff = model["ofo_encounters"][ok] / model["sw_encounters"][ok] - obs["ofo_encounters"][ok] / obs["sw_encounters"][ok]
    return float(diff.abs().mean() * 100.0)


def _nationality_log(res) -> float | None:
    """Mean over the top-10 nationalities of the mean |ln(model/observed)| of their monthly encounters.

    The log ratio, not MAPE: several series collapse by 95% within weeks (Cubans, Nicaraguans in Jan 2023)
    and MAPE over near-zero months would be dominated by them. Each nationality counts like the total does.
    """
    top = res.summary.get("nationality_share_top") or []
    if not top:
        return None
    pairs = res.pairs[res.pairs["series"].isin([f"sw_encounters:{n}" for n in top])]
    if pairs.empty:
        return None
    ratio = np.log(np.maximum(pairs["model"].to_numpy(float), 1.0) / np.maximum(pairs["observed"].to_numpy(float), 1.0))
    per = pd.Series(np.abs(ratio)).groupby(pairs["series"].to_numpy()).mean()
    return float(per.mean())


def period_target_in(daily: pd.DataFrame, window: Window, term: str = "removals_pct") -> dict | None:
    """The longest PERIOD_TARGETS period of a term inside the window that the run covers, with the model's total."""
    days = pd.to_datetime(daily["date"])
    if days.empty:
        return None
    first, last = days.min().date(), days.max().date()
    best = None
    for t in PERIOD_TARGETS:
        if t["term"] != term:
            continue
        start, end = dt.date.fromisoformat(t["start"]), dt.date.fromisoformat(t["end"])
        if start.strftime("%Y-%m") < window.start or end.strftime("%Y-%m") > window.end or start < first or end > last:
            continue
        if not daily["metric"].isin(t["metrics"]).any():
            continue
        if best is None or (end - start) > (dt.date.fromisoformat(best["end"]) - dt.date.fromisoformat(best["start"])):
            best = t
    if best is None:
        return None
    sel = daily["metric"].isin(best["metrics"]) & (days >= pd.Timestamp(best["start"])) & (days <= pd.Timestamp(best["end"]))
    model = float(daily.loc[sel, "value"].sum())
    return {"start": best["start"], "end": best["end"], "observed": best["observed"], "model": model,
            "error_pct": 100.0 * (model - best["observed"]) / best["observed"], "source": best["source"],
            "metrics": list(best["metrics"])}


def _mexico_brief(mx: dict | None) -> dict | None:
    if mx is None:
        return None
    return {k: mx[k] for k in ("start", "end", "observed", "model", "error_pct", "measure") if k in mx}


def _get(series: dict, name: str, attr: str):
    s = series.get(name)
    return None if s is None else getattr(s, attr)


def evaluate(setup: Setup, overrides: dict[str, Any], bases: dict[str, float], ratio_steps: int) -> dict:
    """One trial: run with the trial's values, re-scale the base rates `ratio_steps` times, score the last run.

    Returns the objective, its terms over the training window and the base rates used in the scored run.
    """
    t0 = time.perf_counter()
    nat_names = list(bases)
    target = nationality_targets(setup.observed, nat_names, setup.train)
    cur = {n: round_sig(v) for n, v in bases.items()}
    daily = None
    for step in range(ratio_steps + 1):
        ov = dict(overrides)
        ov.update({f"nationalities.{n}.{BASE_RATE}": v for n, v in cur.items()})
        daily = simulate(setup, ov, until=setup.train.end)
        if step < ratio_steps:
            model = model_nationality_totals(monthly(daily), nat_names, setup.train)
            cur = {n: round_sig(v) for n, v in rescale_bases(cur, model, target).items()}
    s = score(daily, setup, setup.train)
    return {"objective": s["objective"], "terms": s["terms"], "mexico": s["mexico"], "removals": s["removals"], "bases": cur,
            "seconds": round(time.perf_counter() - t0, 2)}


def _in_worker(fn, *args):
    """A dask task: one numba thread per worker process (the workers are the parallelism)."""
    _single_thread()
    return fn(*args)


def _single_thread() -> None:
    try:
        import numba
        numba.set_num_threads(1)
    except Exception:  # pragma: no cover - numba missing or threads already fixed lower
        pass


def ratio_fit(setup: Setup, overrides: dict[str, Any], bases: dict[str, float], iterations: int,
              log: Callable[[str], None] = lambda s: None) -> tuple[dict[str, float], list[dict]]:
    """Stage 1 (and 3): iterate ratio scaling of the base rates with the other values fixed."""
    nat_names = list(bases)
    target = nationality_targets(setup.observed, nat_names, setup.train)
    cur = {n: round_sig(v) for n, v in bases.items()}
    history = []
    for it in range(iterations):
        ov = dict(overrides)
        ov.update({f"nationalities.{n}.{BASE_RATE}": v for n, v in cur.items()})
        model = model_nationality_totals(monthly(simulate(setup, ov, until=setup.train.end)), nat_names, setup.train)
        worst = max((abs(model[n] / target[n] - 1) for n in nat_names if target[n] > 0 and model[n] > 0), default=0.0)
        history.append({"iteration": it + 1, "max_abs_ratio_error": round(worst, 4)})
        log(f"ratio scaling {it + 1}/{iterations}: largest nationality total error {100 * worst:.1f}%")
        cur = {n: round_sig(v) for n, v in rescale_bases(cur, model, target).items()}
    return cur, history


# ============================================================================ the study


@dataclass
class CalibrationResult:
    out: Path
    params: list[Param]
    best_values: dict[str, float]
    bases: dict[str, float]
    fit: dict = field(repr=False)


def calibrate(
    scenario: str | Path,
    observed: str | Path | None = None,
    trials: int = 50,
    out: str | Path = "runs/calibration",
    scale: float | None = 20.0,
    workers: int = 2,
    scheduler: str | None = None,
    seed: int = 0,
    train: str | Window | None = None,
    validation: str | Window | None = None,
    params: list[str] | None = None,
    batch: int = BATCH_DEFAULT,
    ratio_iterations: int = RATIO_ITERATIONS_DEFAULT,
    ratio_steps: int = 1,
    fit_bases: bool = True,
    log: Callable[[str], None] = lambda s: None,
) -> CalibrationResult:
    """Fit, write DIR/best.yaml, DIR/fit.json and DIR/report.md, and return the result.

    `trials` is the study's total: a second call with the same `out` and more trials reuses the trials
    already told. `workers=0` evaluates in this process (no dask).
    """
    import optuna

    from .scenario import load_raw

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if trials < 0:
        raise InputError(f"--trials {trials}: must be 0 or more")
    if batch < 1:
        raise InputError(f"--batch {batch}: must be at least 1")
    t_start = time.perf_counter()
    raw, path = load_raw(scenario)
    raw.pop("extends", None)
    obs_table = load_observed(observed)
    train_w = train if isinstance(train, Window) else parse_window(train or ":".join(TRAIN_DEFAULT), "train")
    valid_w = validation if isinstance(validation, Window) else parse_window(
        validation or ":".join(VALIDATION_DEFAULT), "validation")
    full_w = Window(min(train_w.start, valid_w.start), max(train_w.end, valid_w.end))
    fitted = [parse_param(s, raw) for s in params] if params else default_params(raw)
    _check_no_overlap(fitted, fit_bases)
    from .scenario import Scenario
    sc = Scenario.model_validate(raw)
    run_scale = float(scale) if scale is not None else float(sc.scale)
    setup = Setup(raw=raw, observed=obs_table, mexico=mexico_targets(), scale=run_scale, sim_seed=int(sc.seed),
                  train=train_w, validation=valid_w, full=full_w, terms=scenario_terms(sc))
    nat_names = [n.name for n in sc.nationalities]
    targets = nationality_targets(obs_table, nat_names, train_w)
    if not any(targets.values()):
        raise InputError(f"observed file has no sw_encounters:<nationality> rows in the training window {train_w}; "
                         "calibration needs them for the base departure rates")
    initial_bases = {n.name: float(n.departures.base_per_day) for n in sc.nationalities}
    initial_values = param_values(fitted, raw)

    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    config = {
        "scenario": str(path), "scenario_sha": _masked_sha(raw, fitted, nat_names if fit_bases else []),
        "observed": str(observed or "bundled monthly.csv"),
        "observed_sha": _sha(obs_table.to_dict("list")), "scale": run_scale, "sim_seed": setup.sim_seed, "seed": seed,
        "train": str(train_w), "params": [p.spec() for p in fitted], "batch": batch, "ratio_steps": ratio_steps,
        "fit_bases": fit_bases, "ratio_iterations": ratio_iterations,
    }
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(out_dir / JOURNAL)))
    study = optuna.create_study(study_name=STUDY_NAME, storage=storage, direction="minimize", load_if_exists=True,
                                sampler=_sampler(seed, 0))
    old = study.user_attrs.get("config")
    engine = engine_fingerprint()
    if old is None:
        study.set_user_attr("config", config)
        study.set_user_attr("engine_sha", engine)
        study.set_user_attr("initial_values", initial_values)   # where the study started (the report's "initial")
        study.set_user_attr("initial_bases", initial_bases)
    elif study.user_attrs.get("engine_sha") != engine:
        log(f"warning: the simulator's code changed since this study began (engine {study.user_attrs.get('engine_sha')}"
            f" -> {engine}); trials already told were computed with the old code")
    elif {k: v for k, v in old.items() if k not in INFORMATIVE} != {k: v for k, v in config.items() if k not in INFORMATIVE}:
        diff = [k for k in config if k not in INFORMATIVE and old.get(k) != config[k]]
        raise InputError(f"{out_dir}: holds a study with different settings ({', '.join(diff)}); "
                         "use another --out or the same settings to resume")

    # a rerun after the fitted values were written back into the scenario: start values are the study's own
    initial_values = {k: study.user_attrs.get("initial_values", initial_values).get(k, v) for k, v in initial_values.items()}
    initial_bases = {k: study.user_attrs.get("initial_bases", initial_bases).get(k, v) for k, v in initial_bases.items()}
    client, cluster = (None, None) if workers == 0 and not scheduler else _dask_client(workers, scheduler)
    try:
        # ---- stage 1: base rates by ratio scaling, with the starting behaviour
        if fit_bases and "stage1_bases" not in study.user_attrs:
            log(f"stage 1: ratio scaling of {len(nat_names)} base departure rates ({ratio_iterations} iterations)")
            bases1, hist1 = _call(client, ratio_fit, setup, overrides_for(fitted, initial_values), initial_bases,
                                  ratio_iterations)
            study.set_user_attr("stage1_bases", bases1)
            study.set_user_attr("stage1_history", hist1)
        bases1 = study.user_attrs.get("stage1_bases", initial_bases) if fit_bases else initial_bases
        steps = ratio_steps if fit_bases else 0

        # ---- stage 2: the study
        if not study.trials and trials > 0:
            study.enqueue_trial(initial_values)  # trial 0: the scenario as it stands
        _run_study(study, fitted, trials, batch, seed, setup, bases1, steps, client, log)

        done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
        if done:
            best = min(done, key=lambda t: (t.value, t.number))
            best_values = {p.name: best.params[p.name] for p in fitted}
            best_bases = best.user_attrs.get("bases", bases1)
        else:
            best, best_values, best_bases = None, initial_values, bases1
        best_values = {k: (int(v) if isinstance(v, (int, np.integer)) else round_sig(float(v))) for k, v in best_values.items()}

        # ---- stage 3: base rates again, for the best behaviour; then the final run
        stage3 = []
        if fit_bases:
            # redone when the best trial or the simulator's code changes (a rerun after an engine change refreshes
            # the base rates for the current mechanics, keeping the study's shared parameters)
            key = json.dumps({"values": best_values, "bases": best_bases, "trial": best.number if best else None,
                              "engine": engine}, sort_keys=True)
            if study.user_attrs.get("stage3_key") != key:
                log(f"stage 3: ratio scaling of the base rates for the best trial ({ratio_iterations} iterations)")
                final_bases, stage3 = _call(client, ratio_fit, setup, overrides_for(fitted, best_values), best_bases,
                                            ratio_iterations)
                study.set_user_attr("stage3_key", key)
                study.set_user_attr("stage3_bases", final_bases)
                study.set_user_attr("stage3_history", stage3)
            final_bases = study.user_attrs["stage3_bases"]
            stage3 = study.user_attrs.get("stage3_history", [])
        else:
            final_bases = initial_bases
        log("final run with the fitted values")
        final_ov = overrides_for(fitted, best_values)
        if fit_bases:
            final_ov.update({f"nationalities.{n}.{BASE_RATE}": v for n, v in final_bases.items()})
        daily = _call(client, _simulate_plain, setup, final_ov)
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()

    fit = _fit_summary(setup, fitted, best_values, final_bases, initial_values, initial_bases, fit_bases, daily,
                       study, best, config, stage3, time.perf_counter() - t_start)
    fit["started_from"] = (old or config)["scenario"]   # the scenario file the study's first call was given
    _write_outputs(out_dir, path, raw, fitted, best_values, final_bases if fit_bases else {}, fit)
    return CalibrationResult(out=out_dir, params=fitted, best_values=best_values, bases=final_bases, fit=fit)


def _simulate_plain(setup: Setup, overrides: dict) -> pd.DataFrame:
    return simulate(setup, overrides, until=setup.full.end)


def _check_no_overlap(params: list[Param], fit_bases: bool) -> None:
    seen: dict[str, str] = {}
    for p in params:
        for path in p.paths:
            if path in seen:
                raise InputError(f"--params: {path} is set by both {seen[path]} and {p.name}")
            if fit_bases and path.endswith("." + BASE_RATE):
                raise InputError(f"--params {p.name}: base departure rates are fitted by ratio scaling; "
                                 "leave them out of --params or pass --no-fit-bases")
            seen[path] = p.name


def _sampler(seed: int, number: int):
    import optuna
    return optuna.samplers.TPESampler(seed=(int(seed) * 1_000_003 + int(number)) % (2 ** 32), n_startup_trials=12,
                                      multivariate=True, constant_liar=True)


def _run_study(study, params: list[Param], trials: int, batch: int, seed: int, setup: Setup,
               bases: dict[str, float], ratio_steps: int, client, log) -> None:
    """Ask, evaluate, tell in deterministic batches of trial numbers [b*batch, (b+1)*batch)."""
    import optuna
    from optuna.trial import TrialState

    dists = {p.name: _distribution(p) for p in params}
    setup_ref = client.scatter(setup, broadcast=True) if client is not None else setup
    n_batches = math.ceil(trials / batch) if trials else 0
    for b in range(n_batches):
        numbers = range(b * batch, min((b + 1) * batch, trials))
        existing = {t.number: t for t in study.get_trials(deepcopy=False)}
        if all(n in existing and existing[n].state.is_finished() for n in numbers):
            continue
        pending = []
        for n in numbers:
            t = existing.get(n)
            if t is not None and t.state.is_finished():
                continue
            if t is not None and t.state == TrialState.RUNNING:
                values = {p.name: t.params[p.name] for p in params if p.name in t.params}
                if len(values) != len(params):      # interrupted while suggesting: fail it, deterministically
                    study.tell(n, state=TrialState.FAIL, skip_if_finished=True)
                    raise InputError(f"trial {n} was interrupted before its parameters were stored; "
                                     "it is marked failed: run the command again to continue")
                pending.append((n, values))
                continue
            if t is not None and t.state != TrialState.WAITING:
                continue
            study.sampler = _sampler(seed, n)
            trial = study.ask(dists)
            if trial.number != n:
                raise InputError(f"{JOURNAL}: expected trial {n}, got {trial.number}; the journal was changed "
                                 "outside this command")
            pending.append((n, {p.name: trial.params[p.name] for p in params}))
        log(f"trials {numbers.start}-{numbers.stop - 1} of {trials}: evaluating {len(pending)}")
        tasks = [(n, overrides_for(params, v)) for n, v in pending]
        if client is not None:
            futures = [client.submit(_in_worker, evaluate, setup_ref, ov, bases, ratio_steps, pure=False,
                                     key=f"trial-{n}-{_sha(ov)[:8]}")
                       for n, ov in tasks]
            results = []
            for f in futures:
                try:
                    results.append(f.result())
                except Exception as err:  # noqa: BLE001 - a failed run fails its trial, not the study
                    results.append(err)
        else:
            results = []
            for _, ov in tasks:
                try:
                    results.append(evaluate(setup_ref, ov, bases, ratio_steps))
                except InputError:
                    raise
                except Exception as err:  # noqa: BLE001
                    results.append(err)
        for (n, _), r in zip(pending, results):
            if isinstance(r, Exception):
                study._storage.set_trial_user_attr(_trial_id(study, n), "error", f"{type(r).__name__}: {r}"[:500])
                study.tell(n, state=TrialState.FAIL, skip_if_finished=True)
                log(f"trial {n} failed: {type(r).__name__}: {r}")
                continue
            tid = _trial_id(study, n)
            study._storage.set_trial_user_attr(tid, "terms", r["terms"])
            study._storage.set_trial_user_attr(tid, "bases", r["bases"])
            study._storage.set_trial_user_attr(tid, "mexico", r["mexico"])
            study._storage.set_trial_user_attr(tid, "removals", r["removals"])
            study._storage.set_trial_user_attr(tid, "seconds", r["seconds"])
            study.tell(n, r["objective"], skip_if_finished=True)
        done = [t for t in study.get_trials(deepcopy=False) if t.state == optuna.trial.TrialState.COMPLETE]
        if done:
            best = min(done, key=lambda t: (t.value, t.number))
            log(f"  best so far: trial {best.number}, objective {best.value:.3f}")


def _trial_id(study, number: int) -> int:
    return study._storage.get_trial_id_from_study_id_trial_number(study._study_id, number)


def _distribution(p: Param):
    from optuna.distributions import FloatDistribution, IntDistribution
    if p.integer:
        return IntDistribution(int(p.low), int(p.high))
    return FloatDistribution(p.low, p.high, log=p.log)


def _dask_client(workers: int, scheduler: str | None):
    from distributed import Client, LocalCluster
    if scheduler:
        try:
            return Client(scheduler, timeout="20s"), None
        except (OSError, TimeoutError) as err:
            raise InputError(f"--scheduler {scheduler}: cannot connect ({err})") from None
    # Workers get one Numba thread through `env`; this process's environment is left alone, because Numba
    # refuses to compile once its thread pool is up if NUMBA_NUM_THREADS has changed since.
    cluster = LocalCluster(n_workers=max(1, workers), threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=None, env={"NUMBA_NUM_THREADS": "1"})
    return Client(cluster), cluster


def _call(client, fn, *args):
    if client is None:
        return fn(*args)
    return client.submit(_in_worker, fn, *args, pure=False).result()


# Settings recorded but not required to match on resume: the scenario is compared by content (scenario_sha).
INFORMATIVE = ("scenario", "observed")


def _masked_sha(raw: dict, params: list[Param], bases_of: list[str]) -> str:
    """A fingerprint of the scenario without the values being fitted: writing the fitted values back into the
    scenario (its new defaults) leaves it the same study, which a rerun of the command resumes."""
    from .scenario import apply_overrides
    masked = apply_overrides(raw, {**{path: None for p in params for path in p.paths},
                                   **{f"nationalities.{n}.{BASE_RATE}": None for n in bases_of}}, source="calibration")
    return _sha(_without_prose(masked))


def _without_prose(x):
    """The scenario's numbers and structure without its provenance text (sources, notes, description)."""
    if isinstance(x, dict):
        return {k: _without_prose(v) for k, v in x.items() if k not in ("source", "notes", "description")}
    if isinstance(x, list):
        return [_without_prose(v) for v in x]
    return x


def _sha(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _fmt(x: float) -> str:
    return f"{x:g}"


# ============================================================================ summaries and outputs


def window_figures(daily: pd.DataFrame, setup: Setup, window: Window) -> dict | None:
    """Fit figures over a window: objective terms, baselines of the main series, series beating both baselines."""
    try:
        s = score(daily, setup, window)
    except InputError:
        return None
    res = s["validation"]
    series = {}
    for name in ("sw_encounters", "usbp_encounters", "ofo_encounters", "darien_crossings"):
        sc = res.series.get(name)
        if sc is not None:
            series[name] = {"mape": sc.mape, "bias": sc.bias, "months": sc.months,
                            "baseline_last_value_mape": sc.baseline_last_value_mape,
                            "baseline_same_month_last_year_mape": sc.baseline_same_month_last_year_mape,
                            "beats_baselines": sc.beats_baselines}
    beating = sorted(n for n, sc in res.series.items() if sc.beats_baselines)
    return {"window": str(window), "objective": s["objective"], "terms": s["terms"], "mexico": s["mexico"],
            "removals": s["removals"], "appointments": s["appointments"], "repeat": s["repeat"],
            "darien_mix": s["darien_mix"],
            "series": series, "series_compared": len(res.series), "series_beating_both_baselines": beating,
            "nationality_top": res.summary.get("nationality_share_top"),
            "per_series_mape": {n: sc.mape for n, sc in res.series.items()}}


def yearly_mexico(table: pd.DataFrame, setup: Setup) -> list[dict]:
    """Every published annual total inside the run's complete months, against the model's."""
    detentions = table[table["series"] == "mexico_detentions"]
    months = set(detentions["month"])
    out = []
    for r in setup.mexico.itertuples():
        if r.label != "annual_total_events":
            continue
        span = _month_range(r.start, r.end)
        if all(m in months for m in span):
            model = float(detentions.loc[detentions["month"].isin(span), "value"].sum())
            out.append({"year": r.start[:4], "observed": float(r.value), "model": model,
                        "error_pct": 100.0 * (model - r.value) / r.value})
    return out


def count_observations(setup: Setup, nat_names: list[str], window: Window, mexico: dict | None,
                       removals: dict | None = None, appointments: dict | None = None,
                       repeat: list | None = None, darien_mix: list | None = None) -> dict:
    """Observed numbers the fit used over the training window, by kind."""
    obs = setup.observed
    inwin = obs[(obs["month"] >= window.start) & (obs["month"] <= window.end)]
    nat_series = {f"sw_encounters:{n}" for n in nat_names}
    labels = set(inwin["series"])
    if OTHER in nat_names:   # labels the model folds into Other feed the ratio scaling of Other
        nat_series |= {s for s in labels if s.startswith("sw_encounters:")}
    counts = {
        "sw_encounters (monthly)": int((inwin["series"] == "sw_encounters").sum()),
        "sw_encounters by nationality (monthly)": int(inwin["series"].isin(nat_series).sum()),
        "usbp_encounters by sector (monthly)": int(inwin["series"].str.startswith("usbp_encounters:").sum()),
        "darien_crossings (monthly)": int((inwin["series"] == "darien_crossings").sum()),
        "Mexico detention events (period totals)": 1 if mexico else 0,
        "US removals and returns (period totals)": 1 if removals else 0,
        "CBP One appointments used (period totals)": 1 if appointments else 0,
        "repeat share of SW encounters (months)": len(repeat or []),
        "nationality shares of Darién crossings (period shares)": len(darien_mix or []),
    }
    counts["total"] = int(sum(counts.values()))
    return counts


def _fit_summary(setup, fitted, best_values, final_bases, initial_values, initial_bases, fit_bases, daily, study,
                 best, config, stage3, seconds) -> dict:
    import optuna
    nat_names = list(initial_bases)
    table = monthly(daily)
    train = window_figures(daily, setup, setup.train)
    valid = window_figures(daily, setup, setup.validation)
    full = window_figures(daily, setup, setup.full)
    n_params = len(fitted) + (len(final_bases) if fit_bases else 0)
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    failed = [t for t in study.trials if t.state == optuna.trial.TrialState.FAIL]
    parameters = []
    for p in fitted:
        parameters.append({"name": p.name, "label": p.label or p.name, "paths": list(p.paths), "value": best_values[p.name],
                           "initial": initial_values[p.name], "low": p.low, "high": p.high, "log": p.log,
                           "integer": p.integer, "meaning": p.meaning, "how": "optuna TPE"})
    if fit_bases:
        for n in nat_names:
            parameters.append({"name": f"nationalities.{n}.{BASE_RATE}", "paths": [f"nationalities.{n}.{BASE_RATE}"],
                               "value": final_bases[n], "initial": initial_bases[n], "meaning":
                               f"departures/day from {n} at the reference perceived chance", "how": "ratio scaling"})
    return {
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "config": config,
        "targets": TARGETS,
        "objective": "sum over terms of (training-window error / normaliser): " + "; ".join(
            f"{TERM_LABELS[k]} / {TARGETS[k]:g}" for k in setup.terms),
        "parameters": parameters,
        "n_parameters": n_params,
        "n_parameters_optuna": len(fitted),
        "n_parameters_ratio": len(final_bases) if fit_bases else 0,
        "observations": count_observations(setup, nat_names, setup.train, train["mexico"] if train else None,
                                           train["removals"] if train else None,
                                           train["appointments"] if train else None,
                                           train["repeat"] if train else None,
                                           train["darien_mix"] if train else None),
        "trials": {"in_study": len(study.trials), "complete": len(complete),
                   "failed": len(failed), "best_trial": best.number if best else None,
                   "best_objective_in_study": best.value if best else None},
        "stage1_history": study.user_attrs.get("stage1_history", []),
        "stage3_history": stage3,
        "train": train, "validation": valid, "full": full,
        "mexico_yearly": yearly_mexico(table, setup),
        "seconds": round(seconds, 1),
        "monthly": {m: {s: float(v) for s, v in g.set_index("series")["value"].items()
                        if s in ("sw_encounters", "usbp_encounters", "ofo_encounters", "darien_crossings", "mexico_detentions")}
                    for m, g in table.groupby("month")},
    }


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
        item = next((x for x in items if _item_key(x) == key), None)
        if item is None:
            src = next(x for x in child if _item_key(x) == key)
            item = {"id" if "id" in src else "name": key}
            items.append(item)
        src = next(x for x in child if _item_key(x) == key)
        if len(parts) == 2:
            raise InputError(f"cannot set a whole list item ({'.'.join(parts)})")
        _overlay_set(item, src, parts[2:], v)
        return
    sub = frag.setdefault(part, {})
    _overlay_set(sub, child if isinstance(child, dict) else {}, parts[1:], v)


def fitted_values(fitted: list[Param], best_values: dict, bases: dict) -> dict[str, Any]:
    vals = overrides_for(fitted, best_values)
    vals.update({f"nationalities.{n}.{BASE_RATE}": v for n, v in bases.items()})
    return vals


def _write_outputs(out_dir: Path, scenario_path: Path, raw: dict, fitted: list[Param], best_values: dict,
                   bases: dict, fit: dict) -> None:
    import yaml
    from .results import atomic_write, write_json

    values = fitted_values(fitted, best_values, bases)
    parent = raw.get("name", "")
    from .scenario import bundled_dir
    extends = parent if Path(scenario_path).resolve() == (bundled_dir() / f"{parent}.yaml").resolve() \
        else str(Path(scenario_path).resolve())
    doc = {"name": f"{parent}-fitted", "extends": extends}
    doc.update(overlay(raw, values))
    lines = [f"# Fitted overlay written by `corridor calibrate` on {fit['created']}.",
             f"# Scenario {fit['config']['scenario']}, observed {fit['config']['observed']}, scale {fit['config']['scale']}, "
             f"sampler seed {fit['config']['seed']}, {fit['trials']['complete']} trials.",
             f"# {fit['n_parameters']} fitted parameters ({fit['n_parameters_optuna']} by optuna TPE, "
             f"{fit['n_parameters_ratio']} base rates by ratio scaling) against {fit['observations']['total']} "
             "observed numbers in the training window.",
             f"# Objective: {fit['objective']}."]
    for label, key in (("train", "train"), ("validation", "validation"), ("full", "full")):
        f = fit.get(key)
        if f:
            lines.append(f"# {label} {f['window']}: objective {f['objective']:.3f}; " + ", ".join(
                f"{TERM_LABELS[k]} {v:.2f}" for k, v in f["terms"].items() if v is not None))
    for y in fit.get("mexico_yearly", []):
        lines.append(f"# Mexico detention events {y['year']}: model {y['model']:,.0f} vs observed {y['observed']:,.0f} "
                     f"({y['error_pct']:+.1f}%)")
    lines.append("# Run it: corridor run " + str(out_dir / "best.yaml"))
    text = "\n".join(lines) + "\n" + yaml.safe_dump(_plain(doc), sort_keys=False, allow_unicode=True, width=10_000)
    atomic_write(out_dir / "best.yaml", lambda p: p.write_text(text, encoding="utf-8"))
    write_json(out_dir / "fit.json", fit)
    report = render_report(fit)
    atomic_write(out_dir / "report.md", lambda p: p.write_text(report, encoding="utf-8"))


def _plain(x):
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_plain(v) for v in x]
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating,)):
        return float(x)
    return x


def render_report(fit: dict) -> str:
    """report.md: what was fitted, how well, against what, and the baselines."""
    cfg = fit["config"]
    L = [f"# Calibration of `{Path(cfg['scenario']).stem}`", "",
         f"Written {fit['created']} by `corridor calibrate` (scale {cfg['scale']}, simulation seed {cfg['sim_seed']}, "
         f"sampler seed {cfg['seed']}, batch {cfg['batch']}); observed data: {cfg['observed']}. "
         f"Training months {cfg['train']}; {fit['trials']['complete']} trials complete, {fit['trials']['failed']} failed; "
         f"best trial {fit['trials']['best_trial']}. Wall time of this call {fit['seconds']:.0f} s.", "",
         f"**{fit['n_parameters']} parameters fitted** ({fit['n_parameters_optuna']} shared by optuna TPE, "
         f"{fit['n_parameters_ratio']} base departure rates by ratio scaling) against "
         f"**{fit['observations']['total']} observed numbers** in the training window:", ""]
    for k, v in fit["observations"].items():
        if k != "total":
            L.append(f"- {k}: {v}")
    L += ["", f"Objective (training months only): {fit['objective']}.", "", "## Fit figures", "",
          "Targets are those of the issue; rows with a bracketed figure are objective terms without a target "
          "(the bracket holds their normaliser).", "",
          "| figure | target | train | validation | full period |", "|---|---|---|---|---|"]
    for k in [*ISSUE_TERMS, *[t for t in TERM_LABELS if t not in ISSUE_TERMS]]:
        lab = TERM_LABELS[k]
        row = [lab, f"≤ {TARGETS[k]:g}" if k in ISSUE_TERMS else f"({TARGETS[k]:g})"]
        for w in ("train", "validation", "full"):
            f = fit.get(w)
            v = f["terms"].get(k) if f else None
            row.append("–" if v is None else f"{v:.2f}")
        L.append("| " + " | ".join(row) + " |")
    row = ["objective (sum of terms / targets)", ""]
    for w in ("train", "validation", "full"):
        f = fit.get(w)
        row.append("–" if not f else f"{f['objective']:.3f}")
    L.append("| " + " | ".join(row) + " |")
    L += ["", "Windows: " + ", ".join(f"{w} {fit[w]['window']}" for w in ("train", "validation", "full") if fit.get(w)) + ".",
          "The Mexico term uses the longest published period of detention events inside each window "
          "(mexico_irregular_migration_events.csv); none lies inside the validation months.", ""]
    for y in fit.get("mexico_yearly", []):
        L.append(f"- Mexico detention events, {y['year']}: model {y['model']:,.0f}, observed {y['observed']:,.0f} "
                 f"({y['error_pct']:+.1f}%; target within ±15%)")
    for w in ("train", "full"):
        f = fit.get(w)
        if f and f.get("mexico"):
            m = f["mexico"]
            L.append(f"- Mexico detention events {m['start']}..{m['end']} ({w} window): model {m['model']:,.0f}, "
                     f"observed {m['observed']:,.0f} ({m['error_pct']:+.1f}%)")
        for key, what in (("removals", "US removals and returns"), ("appointments", "CBP One appointments used")):
            if f and f.get(key):
                m = f[key]
                L.append(f"- {what} {m['start']}..{m['end']} ({w} window): model {m['model']:,.0f}, "
                         f"observed {m['observed']:,.0f} ({m['error_pct']:+.1f}%; {m['source']})")
        for r in (f or {}).get("repeat") or []:
            L.append(f"- Repeat share of SW encounters {r['month']} ({w} window): model {r['model_pct']:.1f}%, "
                     f"observed {r['observed_pct']:.0f}% ({r['source']})")
        for r in (f or {}).get("darien_mix") or []:
            L.append(f"- {r['nationality']}'s share of Darién crossings {DARIEN_MIX['start']}..{DARIEN_MIX['end']} "
                     f"({w} window): model {r['model_pct']:.1f}%, observed {r['observed_pct']:.1f}% ({r['source']})")
    L += ["", "## Naive baselines", "",
          "MAPE of the model and of two forecasts made from the observed series alone (the value of the month "
          "before the window carried forward; the same month a year earlier).", "",
          "| window | series | model | last value | same month last year | beats both |", "|---|---|---|---|---|---|"]
    for w in ("validation", "train", "full"):
        f = fit.get(w)
        if not f:
            continue
        for name, s in f["series"].items():
            L.append(f"| {w} | {name} | {_p(s['mape'])} | {_p(s['baseline_last_value_mape'])} | "
                     f"{_p(s['baseline_same_month_last_year_mape'])} | {'yes' if s['beats_baselines'] else 'no'} |")
    v = fit.get("validation")
    if v:
        L += ["", f"Validation: {len(v['series_beating_both_baselines'])} of {v['series_compared']} compared series beat "
                  f"both baselines: {', '.join(v['series_beating_both_baselines']) or 'none'}."]
    L += ["", "## Fitted parameters", "", "| parameter | how | value | initial | range | meaning |", "|---|---|---|---|---|---|"]
    for p in fit["parameters"]:
        rng = f"{_fmt(p['low'])} – {_fmt(p['high'])}{' (log)' if p.get('log') else ''}" if "low" in p else "ratio"
        L.append(f"| `{p.get('label') or p['name']}` | {p['how']} | {_v(p['value'])} | {_v(p['initial'])} | {rng} | "
                 f"{p['meaning']}{'' if len(p['paths']) == 1 else ' (sets ' + ', '.join(p['paths']) + ')'} |")
    L += ["", "## Monthly totals (model)", "", "| month | sw_encounters | usbp | ofo | darien | mexico detentions |",
          "|---|---|---|---|---|---|"]
    for m, row in fit["monthly"].items():
        L.append(f"| {m} | " + " | ".join(f"{row.get(k, float('nan')):,.0f}" for k in
                                          ("sw_encounters", "usbp_encounters", "ofo_encounters", "darien_crossings",
                                           "mexico_detentions")) + " |")
    L += ["", "Reproduce: `corridor run <out>/best.yaml --scale " f"{cfg['scale']:g} --out RUN --no-report -q`, then "
          "`corridor validate RUN --start START --end END` for each window above.", ""]
    return "\n".join(L)


def _p(v) -> str:
    return "–" if v is None else f"{v:.1f}%"


def _v(v) -> str:
    if isinstance(v, int):
        return str(v)
    return f"{v:.4g}"


def defaults_text(fit: dict, command: str, scenario_name: str) -> str:
    """The fitted values as a defaults file for a scenario builder (e.g. tools/build_us_mexico.py), which merges each
    value into the generated scenario and marks it `# fitted: <how, date, objective>`."""
    import yaml

    date = fit["created"][:10]
    tr = fit.get("train") or {}
    objective = f"{tr['objective']:.3f}" if tr else "n/a"
    values = {}
    for p in fit["parameters"]:
        shared = len(p["paths"]) > 1
        how = (f"optuna TPE, {fit['trials']['complete']} trials, scale {fit['config']['scale']:g}"
               + (f", one value shared by {len(p['paths'])} fields" if shared else "")) if p["how"] == "optuna TPE" \
            else f"ratio scaling to {fit['config']['train']} encounters, scale {fit['config']['scale']:g}"
        for path in p["paths"]:
            values[path] = {"value": p["value"], "how": how, "meaning": p["meaning"]}
    figures = {}
    for w in ("train", "validation", "full"):
        f = fit.get(w)
        if f:
            figures[w] = {"window": f["window"], "objective": round(f["objective"], 3),
                          **{k: (None if v is None else round(v, 2)) for k, v in f["terms"].items()}}
    doc = {
        "scenario": scenario_name,
        "date": date,
        "command": command,
        "started_from": fit.get("started_from"),
        "objective": objective,
        "objective_definition": fit["objective"] + f" (over the training months {fit['config']['train']})",
        "parameters_fitted": fit["n_parameters"],
        "observed_numbers": fit["observations"]["total"],
        "figures": figures,
        "mexico_yearly": [{k: (round(v, 1) if isinstance(v, float) else v) for k, v in y.items()}
                          for y in fit.get("mexico_yearly", [])],
        "values": values,
    }
    head = [f"# Fitted defaults of the scenario {scenario_name}, written by `corridor calibrate --defaults` on {date}.",
            "# The scenario's builder merges every value into the generated YAML, marked `# fitted: <how, date, objective>`.",
            "# Do not edit by hand: rerun the command below (the study resumes from its journal) and rebuild the scenario.",
            "# A study from scratch starts from `started_from`, the scenario file its first call was given, with the same",
            "# options and a new --out. For us-mexico that file is either the builder's initial guesses",
            "# (tools/build_us_mexico.py --no-fit --out FILE) or, for a warm start, the scenario as built with the previous",
            "# fitted defaults (the git history of src/corridor/data/scenarios/us-mexico.yaml holds it)."]
    return "\n".join(head) + "\n" + yaml.safe_dump(_plain(doc), sort_keys=False, allow_unicode=True, width=10_000)
