"""The scenario a page describes: a base (a bundled scenario or an uploaded overlay of one) plus the page's
edits — lever values from a branch date, dated changes and rule thresholds — written as one YAML overlay.

The overlay is what a run executes and what the page offers for download: `corridor run scenario.yaml`
reads the same file (its `extends` names a bundled scenario), so the command line reproduces the run.
A lever set from the branch date keeps the base's dated steps before that date and replaces later ones.
"""
from __future__ import annotations

import copy
import datetime as dt
import re
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from ..errors import InputError
from ..levers import BY_PATH, LEVERS, Lever, full_path, lever_keys
from ..scenario import Scenario, bundled_names, load, read_yaml

__all__ = ["MAX_UPLOAD_BYTES", "DEFAULT_BRANCH", "Edits", "base_scenario", "controlled_levers", "value_on",
           "check_upload", "overlay", "overlay_yaml", "validate", "parse_path"]

MAX_UPLOAD_BYTES = 256 * 1024       # an overlay of a bundled scenario is a few KiB; us-mexico.yaml itself ~0.2 MiB
DEFAULT_BRANCH = dt.date(2023, 12, 28)   # the day after the Mexico City talks: the bundled variants branch here
MAX_CHANGES = 40                    # dated changes a page may add


@dataclass
class Edits:
    """What the page changes. values: full lever path → value from `branch`; changes: (date, path, value)
    steps; thresholds: (rule name, 'condition' | 'release') → threshold; end: last day of the run."""
    branch: dt.date = DEFAULT_BRANCH
    values: dict[str, Any] = field(default_factory=dict)
    changes: list[tuple[dt.date, str, Any]] = field(default_factory=list)
    thresholds: dict[tuple[str, str], float] = field(default_factory=dict)
    end: dt.date | None = None


# ----------------------------------------------------------------------------- the base

@lru_cache(maxsize=32)
def _bundled(name: str) -> Scenario:
    return load(name)


def base_scenario(preset: str | None, upload_text: str | None = None, upload_name: str = "upload.yaml") -> Scenario:
    """The bundled scenario `preset`, or the uploaded overlay (checked by `check_upload`)."""
    if upload_text:
        return validate(upload_text, upload_name)
    if preset not in bundled_names():
        raise InputError(f"scenario {preset!r} not found; bundled scenarios: {', '.join(bundled_names())}")
    return _bundled(preset)


def controlled_levers() -> list[Lever]:
    """The levers the page has a control for: every lever but the weights (set them in a YAML upload)."""
    return [lv for lv in LEVERS if lv.kind != "weights"]


def value_on(value: Any, day: dt.date, neutral: Any) -> Any:
    """A lever's value on `day`: a constant, or the last dated step at or before it (the neutral value before
    the first)."""
    if not isinstance(value, list):
        return value
    out = neutral
    for s in value:
        if s.start <= day:
            out = s.value
    return out


def _setting(sc: Scenario, lv: Lever, key: str | None) -> Any:
    if lv.per_nationality:
        return getattr(next(n for n in sc.nationalities if n.name == key), lv.field)
    v = getattr(sc.policies, lv.field)
    return v.get(key, lv.neutral) if lv.key is not None else v


def parse_path(sc: Scenario, path: str) -> tuple[Lever, str | None]:
    """A full lever path of the page (as `--set` writes it) → (lever, key); InputError if unknown."""
    if path.startswith("nationalities."):
        nat, _, fld = path[len("nationalities."):].rpartition(".")
        lv = BY_PATH.get(f"nationalities.*.{fld}")
        if lv is not None and nat in lever_keys(lv, sc):
            return lv, nat
    else:
        head, _, key = path.partition(".")[2].partition(".")
        lv = BY_PATH.get(f"policies.{head}")
        if lv is not None and ((lv.key is None and not key) or (lv.key is not None and key in lever_keys(lv, sc))):
            return lv, key or None
    raise InputError(f"lever {path!r}: unknown lever path; `corridor levers` lists them")


# ----------------------------------------------------------------------------- the overlay

def _steps(sc: Scenario, lv: Lever, key: str | None, changes: list[tuple[dt.date, Any]]) -> Any:
    """The lever's series with `changes` applied: base steps before the first change, then the changes."""
    if not lv.dated:
        v = changes[-1][1]
        return int(v) if lv.integer else (v if lv.kind == "place" else float(v))
    first_day = sc.start - dt.timedelta(days=sc.spinup_days)
    base = _setting(sc, lv, key)
    changes = sorted(changes, key=lambda c: c[0])
    cut = changes[0][0]
    if isinstance(base, list):
        kept = [{"from": s.start, "value": s.value} for s in base if s.start < cut]
    else:
        kept = [{"from": first_day, "value": base}] if first_day < cut else []
    out = kept + [{"from": d, "value": v} for d, v in changes]
    return [{"from": s["from"], "value": s["value"] if lv.kind == "choice" else float(s["value"])} for s in out]


def overlay(sc: Scenario, base_map: dict, edits: Edits) -> dict:
    """The YAML mapping of the edited scenario: `base_map` (`extends: <bundled>`, …) with the edits merged."""
    from ..scenario.loading import deep_merge
    per_path: dict[str, list[tuple[dt.date, Any]]] = {}
    for path, v in edits.values.items():
        lv, key = parse_path(sc, path)
        if v != value_on(_setting(sc, lv, key), edits.branch, lv.neutral):
            per_path.setdefault(path, []).append((edits.branch if lv.dated else sc.start, v))
    for d, path, v in edits.changes[:MAX_CHANGES]:
        per_path.setdefault(path, []).append((d, v))
    policies: dict[str, Any] = {}
    nats: dict[str, dict] = {}
    for path, ch in per_path.items():
        lv, key = parse_path(sc, path)
        series = _steps(sc, lv, key, ch)
        if lv.per_nationality:
            nats.setdefault(key, {"name": key})[lv.field] = series
        elif key is None:
            policies[lv.field] = series
        else:
            policies.setdefault(lv.field, {})[key] = series
    edit: dict[str, Any] = {}
    if edits.end is not None and edits.end != sc.end:
        edit["end"] = edits.end
        if any(c.date > edits.end for c in sc.caravans):
            # a caravan after the run's last day is outside its period: the run stops before it sets out
            edit["caravans"] = [c.model_dump(mode="json", exclude_none=True) for c in sc.caravans
                                if c.date <= edits.end]
    if policies:
        edit["policies"] = policies
    if nats:
        edit["nationalities"] = list(nats.values())
    rules = {}
    for (name, part), thr in edits.thresholds.items():
        rule = next((r for r in sc.rules if r.name == name), None)
        cond = getattr(rule, part, None) if rule is not None else None
        if cond is not None and float(thr) != cond.threshold:
            rules.setdefault(name, {"name": name})[part] = {"threshold": float(thr)}
    if rules:
        edit["rules"] = list(rules.values())
    out = deep_merge(base_map, edit)
    if "caravans" in edit:
        out["caravans"] = edit["caravans"]      # replaced, not merged by id: the later ones are left out
    if not edit and out.get("name", "").endswith("-edited") and "extends" in out and len(out) == 2:
        out["name"] = out["name"][: -len("-edited")] + "-as-is"     # the preset run as it stands
    return out


def base_map(preset: str, upload_map: dict | None = None) -> dict:
    """The mapping the edits go into: the upload as given, or `extends: <preset>`."""
    if upload_map is not None:
        return copy.deepcopy(upload_map)
    return {"name": f"{preset}-edited", "extends": preset}


class _PlainDumper(yaml.SafeDumper):
    """YAML without anchors and aliases (one date used twice is written twice)."""

    def ignore_aliases(self, data):
        return True


def overlay_yaml(mapping: dict, command: str | None = None) -> str:
    head = "# Written by corridor serve (the dashboard)."
    if command:
        head += f" Reproduce the run with:\n#   {command}"
    return head + "\n" + yaml.dump(mapping, Dumper=_PlainDumper, sort_keys=False, allow_unicode=True)


# ----------------------------------------------------------------------------- checking files from the page

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: str | None) -> str:
    """A file name from the page as a plain name (never a path): `upload.yaml` when nothing is left."""
    stem = _SAFE_NAME.sub("-", Path(str(name or "")).name).strip(".-")[:60]
    if not stem.endswith((".yaml", ".yml")):
        stem = (stem or "upload") + ".yaml"
    if Path(stem).stem in bundled_names():   # beside a bundled name, `extends` would find the upload itself
        stem = "upload-" + stem
    return stem


def validate(text: str, name: str = "scenario.yaml") -> Scenario:
    """Load YAML text as the CLI loads a file (same checks, same words), in a private temporary folder; the
    scenario must extend a bundled scenario. Raises InputError naming `name`, never the folder."""
    name = safe_name(name)
    if len(text.encode("utf-8")) > MAX_UPLOAD_BYTES:
        raise InputError(f"{name}: {len(text.encode('utf-8')):,} bytes; an uploaded scenario may be at most "
                         f"{MAX_UPLOAD_BYTES:,} bytes (extend a bundled scenario and give only the differences)")
    with tempfile.TemporaryDirectory(prefix="corridor-page-") as tmp:
        path = Path(tmp) / name
        path.write_text(text, encoding="utf-8")
        try:
            data = read_yaml(path)
            parent = data.get("extends")
            if parent not in bundled_names():
                raise InputError(f"{path}: field 'extends': {parent!r}; a scenario from the page must extend a "
                                 f"bundled scenario: {', '.join(bundled_names())}")
            return load(path)
        except InputError as e:
            raise InputError(str(e).replace(f"{tmp}/", "")) from None


def check_upload(text: str, name: str) -> tuple[Scenario, dict]:
    """An uploaded overlay: (its scenario, its mapping)."""
    sc = validate(text, name)
    return sc, yaml.safe_load(text)


def lever_controls(sc: Scenario) -> list[tuple[Lever, str | None, str]]:
    """(lever, key, full path) of every control for a scenario, in registry order."""
    out = []
    for lv in controlled_levers():
        keys = lever_keys(lv, sc)
        for key in (keys if keys is not None else [None]):
            out.append((lv, key, full_path(lv, key)))
    return out
