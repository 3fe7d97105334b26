"""Loading scenario files: bundled names or paths, `extends`, `--set` overrides, and errors that name the
file, the field, the bad value and what would be valid (the CLI prints them and exits with status 2)."""
from __future__ import annotations

import copy
import difflib
import functools
import hashlib
import json
import math
import operator
import re
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from ..errors import InputError
from ..levers import LeverError, resolve_setting
from ..metrics import RULE_PREFIX
from ..phases import metric_names
from .schema import SEED_LIMIT, Scenario, scale_problem

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


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml: ~10x faster on us-mexico.yaml
    """The safe loader, with a date that does not exist (2023-02-30) a YAML error at its line, not a ValueError."""


def _timestamp(loader, node):
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except (ValueError, OverflowError) as e:
        raise yaml.constructor.ConstructorError(
            None, None, f"{node.value!r} is not a date ({e}); valid: a real date YYYY-MM-DD", node.start_mark) from None


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)
_YAML_LOADER = _Loader


def read_yaml(path: Path) -> dict:
    """A scenario file's mapping (a fresh copy: callers may change it). Read once per version of the file:
    variants, `compare` and batches read the file they extend many times."""
    path = Path(path)
    try:
        st = path.stat()
        stamp = (str(path.resolve()), st.st_mtime_ns, st.st_size)
    except OSError:
        stamp = None
    if stamp is None:
        return _read_yaml(path)
    return copy.deepcopy(_read_yaml_cached(*stamp, path))


@functools.lru_cache(maxsize=16)
def _read_yaml_cached(resolved: str, mtime_ns: int, size: int, path: Path) -> dict:
    return _read_yaml(path)


def _read_yaml(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise InputError(f"{path}: cannot read scenario file ({e.strerror})") from None
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not UTF-8 text (byte 0x{e.object[e.start:e.start + 1].hex()} at position {e.start}); "
                         f"save the scenario file as UTF-8") from None
    if "\0" in text:
        raise InputError(f"{path}: not a text file (it holds NUL characters); a scenario is a UTF-8 YAML file")
    try:
        data = yaml.load(text, Loader=_YAML_LOADER)
    except RecursionError:
        raise InputError(f"{path}: YAML nested too deeply to read; a scenario nests a few levels at most") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        kind = "bad value" if isinstance(e, yaml.constructor.ConstructorError) else "YAML syntax error"
        raise InputError(f"{path}:{where}: {kind}: {problem}") from None
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
    if parent is not None and (not isinstance(parent, str) or not parent.strip()):
        raise InputError(f"{path}: field 'extends': bad value {parent!r}; valid: the name of a bundled scenario "
                         f"({', '.join(bundled_names()[:4])}, ...) or of a .yaml file beside this one, without .yaml")
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
            value = _override_value(path, value, source)
        _set_path(data, path, value, source)
    return data


def _override_value(path: str, text: str, source: str) -> Any:
    """A `--set` value read as YAML (`1.5`, `[{from: 2023-12-28, value: 2}]`); text that is no YAML stays text."""
    try:
        return yaml.load(text, Loader=_YAML_LOADER)
    except yaml.constructor.ConstructorError as e:
        raise InputError(f"{source} {path}={text}: {e.problem}") from None
    except (yaml.YAMLError, RecursionError):
        return text


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
    inner = re.match(r"(\w+): (bad value .*)", msg)
    if inner and isinstance(value, dict):          # a model's own check naming one of its fields
        field, msg = (f"{field}.{inner[1]}" if field else inner[1]), inner[2]
        return f"{path}: field '{field}': {msg}{more}"
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
        elif isinstance(part, str) and part in ("float", "int", "list[Step]", "str", "list[TextStep]",
                                                "dict[str,float]", "list[CitySplit]"):
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
    check_rules(sc, path)
    return sc


def check_seed(seed: Any, name: str = "seed") -> int:
    """A seed as an int, 0 <= seed < 2**63; else InputError naming the option."""
    try:
        if isinstance(seed, bool):
            raise TypeError
        value = operator.index(seed)
    except TypeError:
        raise InputError(f"{name} {seed!r}: not a whole number; valid: a seed 0 <= seed < 2**63") from None
    if not 0 <= value < SEED_LIMIT:
        raise InputError(f"{name} {value}: out of range; valid: a seed 0 <= seed < 2**63 (= {SEED_LIMIT:,})")
    return value


def check_scale(sc: Scenario, scale: Any, name: str = "scale") -> float:
    """A scale (people per agent) as a float: finite, 1 or more, and leaving at least one agent expected in `sc`
    at its base departure rates; else InputError naming the option and the valid range."""
    try:
        if isinstance(scale, bool):
            raise TypeError
        value = float(scale)
    except (TypeError, ValueError):
        raise InputError(f"{name} {scale!r}: not a number; valid: a finite number of people per agent, 1 or more") from None
    if not (math.isfinite(value) and value >= 1):
        raise InputError(f"{name} {value:g}: out of range; valid: a finite number of people per agent, 1 or more")
    problem = scale_problem(sc, value)
    if problem:
        raise InputError(f"{name} {value:g}: {problem} (scenario {sc.name})")
    return value


def with_run_settings(sc: Scenario, seed: Any = None, scale: Any = None,
                      names: tuple[str, str] = ("seed", "scale")) -> Scenario:
    """`sc` with another seed and/or scale, each checked (`check_seed`, `check_scale`) before any run starts;
    `names` are what messages call them (`--seed`, `--scale` on the command line)."""
    if seed is None and scale is None:
        return sc
    upd: dict[str, Any] = {}
    if seed is not None:
        upd["seed"] = check_seed(seed, names[0])
    if scale is not None:
        upd["scale"] = check_scale(sc, scale, names[1])
    data = {**sc.model_dump(by_alias=True), **upd}
    try:
        out = Scenario.model_validate(data)
    except ValidationError as e:
        raise InputError(format_validation(getattr(sc, "_source", "") or sc.name, e, data)) from None
    out._source = getattr(sc, "_source", "")  # type: ignore[attr-defined]
    return out


def check_rules(sc: Scenario, source: str | Path | None = None) -> None:
    """Every rule watches a metric the run records and sets a lever a rule may set, to a valid value;
    else InputError naming the file, the field, the bad value and what is valid."""
    if not sc.rules:
        return
    src = str(source or getattr(sc, "_source", "") or sc.name)
    valid = metric_names(sc)
    vset = set(valid)
    for i, r in enumerate(sc.rules):
        where = f"rules[{i}] ({r.name})"
        for part, cond in (("condition", r.condition), ("release", r.release)):
            if cond is not None and cond.metric not in vset:
                raise InputError(f"{src}: field '{where}.{part}.metric': unknown metric {cond.metric!r}; "
                                 + _metric_hint(cond.metric, valid))
        for j, a in enumerate(r.action):
            try:
                resolve_setting(sc, a.lever, a.value)
            except LeverError as e:
                raise InputError(f"{src}: field '{where}.action[{j}].{e.field}': {e.msg}") from None


def _metric_hint(name: str, valid: list[str]) -> str:
    close = difflib.get_close_matches(name, valid, n=3)
    plain = [m for m in valid if ":" not in m]
    families = sorted({m.split(":", 1)[0] + ":<...>" for m in valid if ":" in m and not m.startswith(RULE_PREFIX)})
    return ((f"did you mean {', '.join(repr(c) for c in close)}? " if close else "")
            + f"valid metrics: {', '.join(plain)}; per place/sector/nationality/lever: {', '.join(families)} "
              f"(`corridor metrics SCENARIO` lists all {len(valid)})")


def scenario_hash(sc: Scenario) -> str:
    blob = json.dumps(sc.model_dump(mode="json", by_alias=True), sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def json_schema() -> dict:
    return Scenario.model_json_schema(by_alias=True)
