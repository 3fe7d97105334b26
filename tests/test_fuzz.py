"""Property-based checks of the scenario schema and the command line (hypothesis, fixed seeds: a failure
reproduces). Generated scenario files extend the bundled us-mexico (levers from the registry, short periods,
large scales) or rewrite the mini scenario whole; generated options go to `corridor check`, which checks as
`corridor run` does without running.

- valid files load and pass `corridor check`, or are refused cleanly (a world that cannot be compiled);
- mutated ones (wrong types, out-of-range values, missing and extra fields, unsorted and duplicate dated steps,
  unknown ids, huge and non-finite numbers, bad encodings) are refused cleanly: InputError from the Python API,
  exit 2 and one line from the command line, never a traceback;
- a few valid ones run.
"""
from __future__ import annotations

import copy
import datetime as dt
import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from corridor.cli import app
from corridor.errors import InputError
from corridor.levers import describe
from corridor.scenario import load, read_yaml

MINI = Path(__file__).parent / "data" / "mini.yaml"
US = load("us-mexico")
LEVERS = [r for r in describe(US) if r["kind"] != "weights"]
PLACES = [p.id for p in US.places]
FUZZ = settings(derandomize=True, database=None, deadline=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
CASES = {"tried": 0}   # examples run in this session (the closing note reports it)


# ---------------------------------------------------------------------------------------------- helpers
def write(tmp: Path, doc, name: str = "fuzz.yaml") -> Path:
    p = tmp / name
    p.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return p


def cli(*args) -> tuple[int, str]:
    r = CliRunner().invoke(app, [str(a) for a in args])
    return r.exit_code, r.output


def assert_refused_cleanly(path: Path, *extra) -> str:
    """The Python API raises InputError with one line naming the file; the CLI exits 2 with one line."""
    CASES["tried"] += 1
    with pytest.raises(InputError) as e:
        load(path, list(extra[1::2]) if extra else None)
    msg = str(e.value)
    assert msg and "\n" not in msg and str(path) in msg, msg
    code, out = cli("check", path, *[a for pair in zip(extra[::2], extra[1::2]) for a in pair])
    lines = [x for x in out.splitlines() if x.strip()]
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in out, out
    return msg


def assert_loads(path: Path) -> None:
    """A valid file loads; `corridor check` accepts it or refuses it cleanly (a world that cannot be compiled)."""
    CASES["tried"] += 1
    load(path)
    code, out = cli("check", path)
    lines = [x for x in out.splitlines() if x.strip()]
    assert code in (0, 2) and len(lines) == 1 and "Traceback" not in out, out
    assert lines[0].startswith("ok: " if code == 0 else "error: "), out


# ---------------------------------------------------------------------------------------------- strategies
DAYS = st.integers(0, 4 * 365).map(lambda k: dt.date(2021, 1, 1) + dt.timedelta(days=k))


def steps(values: st.SearchStrategy) -> st.SearchStrategy:
    """1-4 dated steps, in date order, each date once."""
    return st.lists(st.tuples(DAYS, values), min_size=1, max_size=4, unique_by=lambda s: s[0]).map(
        lambda xs: [{"from": d, "value": v} for d, v in sorted(xs, key=lambda s: s[0])])


def lever_value(r: dict) -> st.SearchStrategy:
    """A valid value of one lever: a constant or (where dated) steps."""
    if r["kind"] == "choice":
        one = st.sampled_from(r["choices"])
    elif r["kind"] == "place":
        return st.sampled_from(PLACES)
    elif r["kind"] == "flag":
        one = st.sampled_from([0, 1])
    elif r["integer"]:
        one = st.integers(int(r["min"] or 0), int(r["range"][1]))
    else:
        hi = r["max"] if r["max"] is not None else r["range"][1] * 2
        one = st.floats(r["min"] or 0.0, hi, allow_nan=False)
    return st.one_of(one, steps(one)) if r["dated"] else one


@st.composite
def lever_settings(draw, n=st.integers(1, 4)) -> list[tuple[dict, str | None, object]]:
    """(lever, key, value) for a few levers."""
    out = []
    for r in draw(st.lists(st.sampled_from(LEVERS), min_size=1, max_size=draw(n), unique_by=lambda r: r["path"])):
        key = draw(st.sampled_from(r["keys"])) if r["keys"] else None
        out.append((r, key, draw(lever_value(r))))
    return out


def put(doc: dict, r: dict, key, value) -> None:
    """Set a lever in an overlay that extends us-mexico."""
    field = r["path"].rsplit(".", 1)[1]
    if r["path"].startswith("nationalities."):
        doc.setdefault("nationalities", []).append({"name": key, field: value})
    elif key is None:
        doc.setdefault("policies", {})[field] = value
    else:
        doc.setdefault("policies", {}).setdefault(field, {})[key] = value


@st.composite
def overlays(draw) -> dict:
    """A valid variant of us-mexico: a short period at a large scale, a seed, a few levers."""
    start = draw(st.integers(0, 700).map(lambda k: US.start + dt.timedelta(days=k)))
    doc = {"extends": "us-mexico", "name": "fuzz", "description": draw(st.text(max_size=20)),
           "start": start, "end": start + dt.timedelta(days=draw(st.integers(1, 60))),
           "spinup_days": draw(st.integers(0, 30)), "seed": draw(st.integers(0, 2 ** 63 - 1)),
           "scale": draw(st.sampled_from([1.0, 50.0, 400.0, 2500.0]))}
    for r, key, value in draw(lever_settings()):
        put(doc, r, key, value)
    return doc


# ---------------------------------------------------------------------------------------------- valid files
@settings(FUZZ, max_examples=50)
@given(doc=overlays())
def test_valid_variants_load_and_pass_check(tmp_path, doc):
    assert_loads(write(tmp_path, doc))


# ---------------------------------------------------------------------------------------------- mutated levers
def out_of_range(r: dict) -> st.SearchStrategy:
    if r["kind"] == "choice":
        return st.text(min_size=1, max_size=8).filter(lambda s: s not in r["choices"])
    if r["kind"] == "place":
        return st.text(min_size=1, max_size=8).filter(lambda s: s not in PLACES)
    bad = [st.floats(-1e12, -1e-6).map(lambda x: (r["min"] or 0) + x)] if r["min"] is not None else []
    if r["max"] is not None:
        bad.append(st.floats(1e-6, 1e12).map(lambda x: r["max"] + x))
    if r["kind"] == "flag":
        bad.append(st.floats(0.01, 0.99))
    if r["integer"]:
        bad.append(st.floats(0.1, 0.9).map(lambda x: 5 + x))
    return st.one_of(*bad)


def bad_lever_value(r: dict) -> st.SearchStrategy:
    """A value of a lever that is refused by construction, and what kind of mistake it is."""
    wrong_type = st.one_of(st.just("lots"), st.just([1, 2]), st.just({"x": 1}), st.just(None), st.just(True)).filter(
        lambda v: not (r["kind"] in ("choice", "place") and isinstance(v, str)))
    kinds = [st.tuples(st.just("wrong type"), wrong_type), st.tuples(st.just("out of range"), out_of_range(r))]
    if r["kind"] in ("number", "share", "flag"):
        kinds.append(st.tuples(st.just("non-finite"), st.sampled_from([math.nan, math.inf, -math.inf])))
        if r["max"] is not None:
            kinds.append(st.tuples(st.just("huge"), st.sampled_from([1e300, 10 ** 30, 1e308 * 10])))
    if r["dated"]:
        ok = lever_value(r)
        kinds.append(st.tuples(st.just("unsorted steps"), st.tuples(DAYS, DAYS, ok, ok).filter(lambda t: t[0] < t[1]).map(
            lambda t: [{"from": t[1], "value": t[2]}, {"from": t[0], "value": t[3]}]).filter(
            lambda s: not isinstance(s[0]["value"], list) and not isinstance(s[1]["value"], list))))
        kinds.append(st.tuples(st.just("duplicate steps"), st.tuples(DAYS, ok, ok).map(
            lambda t: [{"from": t[0], "value": t[1]}, {"from": t[0], "value": t[2]}]).filter(
            lambda s: not isinstance(s[0]["value"], list) and not isinstance(s[1]["value"], list))))
        kinds.append(st.tuples(st.just("no steps"), st.just([])))
    return st.one_of(*kinds)


@st.composite
def bad_lever_overlays(draw):
    doc = draw(overlays())
    r = draw(st.sampled_from(LEVERS))
    how = draw(st.sampled_from(["value", "unknown key"] if r["keys"] and not r["path"].startswith("nationalities.")
                               else ["value"]))
    if how == "unknown key":
        put(doc, r, "atlantis", draw(lever_value(r)))
        return doc, r, "unknown id"
    kind, value = draw(bad_lever_value(r))
    put(doc, r, draw(st.sampled_from(r["keys"])) if r["keys"] else None, value)
    return doc, r, kind


@settings(FUZZ, max_examples=100)
@given(case=bad_lever_overlays())
def test_mutated_levers_are_refused_cleanly(tmp_path, case):
    doc, r, kind = case
    msg = assert_refused_cleanly(write(tmp_path, doc))
    field = r["path"].rsplit(".", 1)[1]
    assert field in msg, (kind, msg)


# ---------------------------------------------------------------------------------------------- mutated structure
MINI_DOC = read_yaml(MINI)
REQUIRED = {"": ["name", "start", "end", "places", "legs", "crossings", "sectors", "nationalities"],
            "places": ["id", "name", "kind", "country", "lat", "lon"], "legs": ["id", "from", "to", "mode", "km", "days"],
            "crossings": ["id", "name", "kind", "city", "sector", "lat", "lon"],
            "sectors": ["name", "city", "processing_capacity", "holding_capacity"],
            "nationalities": ["name", "origins", "departures", "border_cities"]}
NUMBERS = {"places": ["lat", "lon", "dwell_days"], "legs": ["km", "days", "cost_usd"],
           "sectors": ["processing_capacity", "holding_capacity", "gotaway_share"]}
IDS = {"legs": ["from", "to"], "crossings": ["city", "sector"], "sectors": ["city"]}


@st.composite
def bad_documents(draw):
    """mini.yaml with one mistake of a kind the schema must refuse."""
    doc = copy.deepcopy(MINI_DOC)
    kind = draw(st.sampled_from(["missing", "extra", "unknown id", "non-finite", "wrong type", "negative",
                                 "duplicate id", "top-level", "no nationality"]))
    section = draw(st.sampled_from(sorted(k for k in REQUIRED if k)))
    item = doc[section][draw(st.integers(0, len(doc[section]) - 1))]
    if kind == "missing":
        where = draw(st.sampled_from(["", section]))
        target = doc if where == "" else item
        del target[draw(st.sampled_from(REQUIRED[where]))]
    elif kind == "extra":
        target = draw(st.sampled_from([doc, item, doc.setdefault("behaviour", {}), doc["policies"]]))
        target[draw(st.sampled_from(["colour", "speed_limit", "Name", "notes_", "policies2"]))] = 1
    elif kind == "unknown id":
        sec = draw(st.sampled_from(sorted(IDS)))
        it = doc[sec][draw(st.integers(0, len(doc[sec]) - 1))]
        it[draw(st.sampled_from(IDS[sec]))] = draw(st.sampled_from(["atlantis", "", "Reynosa ", "RIO"]))
    elif kind in ("non-finite", "negative", "wrong type"):
        sec = draw(st.sampled_from(sorted(NUMBERS)))
        it = doc[sec][draw(st.integers(0, len(doc[sec]) - 1))]
        f = draw(st.sampled_from(NUMBERS[sec]))
        it[f] = {"non-finite": draw(st.sampled_from([math.nan, math.inf, -math.inf])),
                 "negative": draw(st.floats(-1e9, -1e-3)) - (1000 if f in ("lat", "lon") else 0),
                 "wrong type": draw(st.sampled_from(["far", [1], {"a": 1}, True, None]))}[kind]
    elif kind == "duplicate id":
        sec = draw(st.sampled_from(["places", "legs", "crossings"]))
        doc[sec].append(copy.deepcopy(doc[sec][0]))
    elif kind == "top-level":
        f, v = draw(st.sampled_from([("seed", -1), ("seed", 2 ** 63), ("seed", "one"), ("scale", 0.5),
                                     ("scale", math.inf), ("scale", 1e12), ("spinup_days", 731), ("spinup_days", -1),
                                     ("end", "2023-02-30"), ("end", dt.date(2022, 12, 31)), ("start", 20230101),
                                     ("extends", 5), ("extends", ["us-mexico"]), ("extends", ""), ("extends", "atlantis"),
                                     ("extends", "mini"), ("nationalities", 5), ("policies", [1]), ("notes", {"a": [1]}),
                                     ("name", ["x"]), ("seed", True), ("seed", 1.5), ("scale", "big"),
                                     ("caravans", [{"date": dt.date(2023, 1, 5), "origin": "atlantis", "size": 5,
                                                    "nationalities": {"Guatemala": 1}}]),
                                     ("caravans", [{"date": dt.date(2023, 1, 5), "origin": "tapachula", "size": 0,
                                                    "nationalities": {"Guatemala": 1}}]),
                                     ("rules", [{"name": "r", "condition": {"metric": "nope", "threshold": 1},
                                                 "action": {"lever": "policies.regime", "value": "title8"}}])]))
        doc[f] = v
    else:
        doc["nationalities"] = []
    return doc, kind


@settings(FUZZ, max_examples=120)
@given(case=bad_documents())
def test_mutated_documents_are_refused_cleanly(tmp_path, case):
    doc, kind = case
    assert_refused_cleanly(write(tmp_path, doc))


ENCODINGS = st.sampled_from(["latin-1", "utf-16", "cp1252", "nul", "cut", "bom-utf32", "binary"])


@settings(FUZZ, max_examples=20)
@given(enc=ENCODINGS, where=st.integers(0, 2000))
def test_files_in_other_encodings_are_refused_cleanly(tmp_path, enc, where):
    text = MINI.read_text(encoding="utf-8").replace("Tiny two-nationality", "Pequeño corredor de dos nacionalidades", 1)
    data = {"latin-1": lambda: text.encode("latin-1", "replace"), "utf-16": lambda: text.encode("utf-16"),
            "cp1252": lambda: text.encode("cp1252", "replace"),
            "nul": lambda: text.encode()[:where] + b"\x00" + text.encode()[where:],
            "cut": lambda: "é".join([text[:where], text[where:]]).encode()[: where + 1] + text.encode()[where:],
            "bom-utf32": lambda: text.encode("utf-32"), "binary": lambda: bytes(range(256)) * 4}[enc]()
    p = tmp_path / "enc.yaml"
    p.write_bytes(data)
    assert_refused_cleanly(p)


# ---------------------------------------------------------------------------------------------- options
OPTION_PATHS = ["end", "start", "spinup_days", "seed", "scale", "policies.mexico_enforcement", "policies.regime",
                "policies.contention.train", "policies.crossings_closed.hidalgo", "behaviour.crossing_hazard",
                "legs.tapachula-monterrey-bus.days", "nationalities.Guatemala.departures.base_per_day",
                "nationalities.Narnia.title8_removal", "policies.no_such_lever", "places.0.lat", "legs.99.km"]
OPTION_VALUES = st.one_of(st.sampled_from(["1", "0.5", "-1", "2", ".nan", ".inf", "1e400", "title8", "title9", "x",
                                           "2023-02-30", "2023-01-15", "2019-01-01", "[1, 2]", "{a: 1}", "[/bold]",
                                           "[{from: 2023-02-01, value: 1}, {from: 2023-01-01, value: 0}]",
                                           "[{from: 2023-02-01, value: 1}, {from: 2023-02-01, value: 0}]", "", "~",
                                           "'unterminated", "{{{"]),
                          st.text(max_size=12))


@settings(FUZZ, max_examples=150)
@given(seed=st.one_of(st.none(), st.integers(-2 ** 70, 2 ** 70), st.sampled_from([0, 2 ** 63 - 1, 2 ** 63, -1])),
       scale=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([1.0, 24_000.0, 24_001.0])),
       sets=st.lists(st.tuples(st.sampled_from(OPTION_PATHS + ["", "policies.", ".", "legs..km"]), OPTION_VALUES),
                     max_size=3))
def test_generated_options_are_checked_cleanly(seed, scale, sets):
    args = ["check", str(MINI)]
    if seed is not None:
        args += ["--seed", str(seed)]
    if scale is not None:
        args += ["--scale", repr(scale)]
    for path, value in sets:
        args += ["--set", f"{path}={value}"]
    CASES["tried"] += 1
    code, out = cli(*args)
    lines = [x for x in out.splitlines() if x.strip()]
    assert code in (0, 2) and len(lines) == 1 and "Traceback" not in out, out
    assert lines[0].startswith("ok: " if code == 0 else "error: "), out
    if seed is not None and not 0 <= seed < 2 ** 63 and not sets:
        assert code == 2 and "--seed" in lines[0]
    elif scale is not None and not (math.isfinite(scale) and 1 <= scale <= 24_000) and not sets:
        assert code == 2 and "--scale" in lines[0]
    elif code == 0 and scale is not None and seed is not None:
        assert f"seed {seed}" in lines[0]


# ---------------------------------------------------------------------------------------------- a few runs
@settings(FUZZ, max_examples=3)
@given(doc=overlays())
def test_a_few_valid_variants_run(tmp_path, one_thread, doc):
    """Valid files run (or are refused cleanly before running); the folder is whole and the metrics finite."""
    import pandas as pd
    doc = {**doc, "scale": 2500.0, "end": doc["start"] + dt.timedelta(days=20), "spinup_days": 5}
    CASES["tried"] += 1
    out = tmp_path / "run"
    code, text = cli("run", write(tmp_path, doc), "--out", out, "--no-report", "-q")
    if code == 2:
        assert len([x for x in text.splitlines() if x.strip()]) == 1 and "Traceback" not in text, text
        return
    assert code == 0, text
    df = pd.read_parquet(out / "metrics.parquet")
    assert np.isfinite(df["value"]).all() and (out / "run.json").exists()


def test_report_how_many_cases_were_tried():
    """Last in the file: the number of generated cases, for the record (pytest -s shows it)."""
    print(f"\nfuzz cases tried: {CASES['tried']}")
    assert CASES["tried"] == 0 or CASES["tried"] >= 100
