"""The command line: a run leaves complete results; bad input gets one clear line and status 2."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from corridor.cli import app

MINI = Path(__file__).parent / "data" / "mini.yaml"
runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_run_writes_metrics_run_json_and_report(tmp_path):
    out = tmp_path / "run"
    r = invoke("run", MINI, "--out", out, "--seed", 3, "--set", "behaviour.crossing_hazard=0.2")
    assert r.exit_code == 0, r.output
    info = json.loads((out / "run.json").read_text())
    for k in ("scenario", "scenario_hash", "seed", "scale", "version", "agents_created", "agent_days", "wall_seconds"):
        assert k in info
    assert info["seed"] == 3 and info["agents_created"] > 0
    con = duckdb.connect()
    rows = con.execute(f"select count(*), count(distinct metric) from '{out / 'metrics.parquet'}'").fetchall()
    assert rows[0][0] > 0 and rows[0][1] > 20
    types = con.execute(f"describe select * from '{out / 'metrics.parquet'}'").fetchall()
    assert [(t[0], t[1]) for t in types] == [("date", "DATE"), ("metric", "VARCHAR"), ("value", "DOUBLE")]
    assert (out / "report.html").exists()
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_schema_and_scenarios_list():
    r = invoke("schema")
    assert r.exit_code == 0 and '"policies"' in r.output
    r = invoke("scenarios")
    assert r.exit_code == 0 and "us-mexico" in r.output


def _bad(tmp_path, text: str) -> Path:
    p = tmp_path / "bad.yaml"
    p.write_text(text)
    return p


def _mini_with(tmp_path, old: str, new: str) -> Path:
    text = MINI.read_text()
    assert old in text
    return _bad(tmp_path, text.replace(old, new, 1))


@pytest.mark.parametrize("old,new,expect", [
    ("end: 2023-03-31", "end: [2023-03-31", ["bad.yaml", "YAML syntax error", "line"]),
    ("to: monterrey, mode: bus, km: 2300", "to: atlantis, mode: bus, km: 2300",
     ["bad.yaml", "legs", "atlantis", "valid place ids"]),
    ("processing_capacity: 150", "processing_capacity: -150", ["bad.yaml", "processing_capacity", "-150"]),
    ("seed: 1", "seed: one", ["bad.yaml", "seed", "one"]),
    ("spinup_days: 30", "spinup_days: 30\ncaravans: [{date: 2023-02-01, origin: tapachula, size: 10, nationalities: {Guatemala: 0}}]",
     ["bad.yaml", "caravans[0].nationalities", "weights must sum to more than 0"]),
    ("border_cities: {reynosa: 0.6, ciudad-juarez: 0.4}",
     "border_cities: [{from: 2022-12-01, weights: {reynosa: 1}}, {from: 2023-02-01, weights: {nogales: 1}}]",
     ["bad.yaml", "border_cities", "nogales", "valid border city ids"]),
    ("border_cities: {reynosa: 0.6, ciudad-juarez: 0.4}", "border_cities: {reynosa: -0.6, ciudad-juarez: 0.4}",
     ["bad.yaml", "border_cities", "-0.6", ">= 0"]),
])
def test_bad_scenario_gets_one_clear_line(tmp_path, old, new, expect):
    r = invoke("run", _mini_with(tmp_path, old, new), "--out", tmp_path / "o")
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    for piece in expect:
        assert piece in r.output, (piece, r.output)
    assert not (tmp_path / "o" / "metrics.parquet").exists()


@pytest.mark.parametrize("setting,expect", [
    ("policies.no_such_lever=1", ["policies.no_such_lever", "unknown field", "mexico_enforcement"]),
    ("behaviour.crossing_hazard=lots", ["crossing_hazard", "lots"]),
    ("legs.nowhere.days=3", ["nowhere", "valid"]),
    ("policies.mexico_enforcement", ["dotted.path=value"]),
    ("nationalities.Guatemala.mexico_detention_deport=1.5", ["mexico_detention_deport", "1.5", "a share from 0 to 1"]),
])
def test_bad_override_gets_one_clear_line(tmp_path, setting, expect):
    r = invoke("run", MINI, "--out", tmp_path / "o", "--set", setting)
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    for piece in expect:
        assert piece in r.output, (piece, r.output)


def test_unknown_scenario_lists_bundled(tmp_path):
    r = invoke("run", "no-such-scenario", "--out", tmp_path / "o")
    assert r.exit_code == 2 and "us-mexico" in r.output


def test_validate_cli_on_a_run(tmp_path):
    out = tmp_path / "run"
    assert invoke("run", MINI, "--out", out, "--no-report", "-q").exit_code == 0
    r = invoke("validate", out, "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert "sw_encounters" in data["series"]
    bad = tmp_path / "obs.csv"
    bad.write_text("month,series,value\n2023-13,sw_encounters,5\n")
    r = invoke("validate", out, "--observed", bad)
    assert r.exit_code == 2 and "2023-13" in r.output


def test_compare_with_runs_draws_bands(tmp_path):
    out = tmp_path / "cmp"
    r = invoke("compare", MINI, "--out", out, "--runs", 2, "--workers", 1, "-q")
    assert r.exit_code == 0, r.output
    assert (out / "mini" / "ensemble" / "quantiles.parquet").exists()
    html = (out / "report.html").read_text()
    assert "Shaded: ensemble 5–95%" in html


def test_the_progress_line_says_the_kernels_compile_only_on_an_empty_cache(tmp_path, monkeypatch):
    from corridor.fingerprint import compile_note
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    assert "compiling" in compile_note()
    (tmp_path / "corridor_x").mkdir()
    (tmp_path / "corridor_x" / "phases.movement.movement-30.py311.nbi").write_bytes(b"")
    assert compile_note() == ""
