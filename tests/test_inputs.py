"""Every bad input refused before any run with one line (exit 2), the same from the Python API; the cases of
issue 16 one by one. A shortened scenario runs: what falls after its end does not happen."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from corridor.cli import app
from corridor.engine import Simulation
from corridor.errors import InputError
from corridor.scenario import load

MINI = Path(__file__).parent / "data" / "mini.yaml"


@pytest.fixture
def no_run(monkeypatch):
    """Fail the test if a simulation starts: every check must come before."""
    def ran(*a, **k):
        raise AssertionError("a simulation started before the input was refused")
    monkeypatch.setattr(Simulation, "run", ran)


def refused(args, *pieces):
    r = CliRunner().invoke(app, [str(a) for a in args])
    assert r.exit_code == 2, r.output
    lines = [x for x in r.output.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), r.output
    for p in pieces:
        assert p in lines[0], (p, lines[0])
    return lines[0]


@pytest.mark.parametrize("option,value,pieces", [
    ("--scale", "0", ["--scale 0", "1 or more"]),
    ("--scale", "-3", ["--scale -3", "1 or more"]),
    ("--scale", "nan", ["--scale nan", "finite"]),
    ("--scale", "inf", ["--scale inf", "finite"]),
    ("--scale", "1e9", ["--scale 1e+09", "agents expected", "valid: a scale from 1 to 24,000"]),
    ("--seed", "-1", ["--seed -1", "0 <= seed < 2**63"]),
    ("--seed", str(2 ** 70), [f"--seed {2 ** 70}", "0 <= seed < 2**63"]),
    ("--seed", str(2 ** 63), ["0 <= seed < 2**63"]),
])
def test_bad_seed_and_scale_refused_before_the_run(tmp_path, no_run, option, value, pieces):
    refused(["run", MINI, "--out", tmp_path / "o", option, value], *pieces)
    assert not (tmp_path / "o").exists() and list(tmp_path.iterdir()) == []


def test_largest_seed_and_a_scale_at_the_limit_are_valid():
    sc = load(MINI)
    assert Simulation(sc, seed=2 ** 63 - 1, scale=24_000).scenario.seed == 2 ** 63 - 1
    with pytest.raises(InputError, match="scale 24001: leaves"):
        Simulation(sc, scale=24_001)


@pytest.mark.parametrize("kw,match", [
    ({"seed": -1}, "seed -1: out of range"), ({"seed": 2 ** 70}, "seed .*: out of range"),
    ({"seed": 1.5}, "seed 1.5: not a whole number"), ({"seed": True}, "not a whole number"),
    ({"scale": 0}, "scale 0: out of range"), ({"scale": float("nan")}, "scale nan"), ({"scale": "x"}, "not a number"),
    ({"scale": 1e9}, "agents expected"),
])
def test_python_api_raises_the_same_input_error(kw, match):
    with pytest.raises(InputError, match=match):
        Simulation.from_scenario(MINI, **kw)


def test_out_that_is_a_file_or_cannot_be_made_is_refused_before_the_run(tmp_path, no_run):
    f = tmp_path / "afile"
    f.write_text("x")
    refused(["run", MINI, "--out", f], "--out", "is a file, not a folder")
    refused(["run", MINI, "--out", f / "below"], "cannot be made", "is a file")
    refused(["compare", MINI, "--out", f], "--out", "is a file")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("years of work")
    refused(["run", MINI, "--out", tmp_path / "mine"], "not a corridor run", "thesis.tex", "--force")
    refused(["compare", MINI, "--out", tmp_path / "mine"], "not a corridor compare", "--force")
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "years of work"
    refused(["check", MINI, "--out", f], "is a file")
    for batch in (["ensemble", MINI, "--runs", 2], ["calibrate", MINI, "--trials", 1],
                  ["sensitivity", MINI, "--params", "behaviour.crossing_hazard=0.1:0.2"]):
        refused([*batch, "--out", f], "--out", "is a file")
        refused([*batch, "--out", f / "x"], "--out", "cannot be made")


def test_dates_that_do_not_exist(tmp_path, no_run):
    refused(["run", MINI, "--out", tmp_path / "o", "--set", "end=2023-02-30"],
            "--set end=2023-02-30", "'2023-02-30' is not a date", "YYYY-MM-DD")
    bad = tmp_path / "bad.yaml"
    bad.write_text(MINI.read_text().replace("end: 2023-03-31", "end: 2023-02-30"))
    refused(["run", bad, "--out", tmp_path / "o"], "bad.yaml", "line 8", "'2023-02-30' is not a date")
    refused(["run", MINI, "--out", tmp_path / "o", "--set", "end=2022-12-01"], "end 2022-12-01 must be after start")


@pytest.mark.parametrize("content,pieces", [
    ("name: x\ndescription: caf\xe9\n".encode("latin-1"), ["not UTF-8", "0xe9"]),
    ("name: x\n".encode("utf-16"), ["not UTF-8"]),
    (b"name: x\x00\n", ["NUL"]),
    (b"[" * 5000, ["YAML"]),
])
def test_files_that_are_not_utf8_yaml_text(tmp_path, no_run, content, pieces):
    p = tmp_path / "s.yaml"
    p.write_bytes(content)
    refused(["run", p, "--out", tmp_path / "o"], str(p), *pieces)


@pytest.mark.parametrize("setting,pieces", [
    ("policies.appointments_per_day=[{from: 2023-02-01, value: 1}, {from: 2023-01-01, value: 2}]", ["date order"]),
    ("policies.appointments_per_day=[{from: 2023-02-01, value: 1}, {from: 2023-02-01, value: 2}]", ["each date once"]),
    ("policies.darien_return=1.5", ["darien_return", "1.5", "a share from 0 to 1"]),
    ("policies.contention.train=2", ["contention.train", "a share from 0 to 1"]),
    ("policies.contention.train=-0.1", ["contention.train", "a share from 0 to 1"]),
    ("policies.mexico_enforcement=.nan", ["mexico_enforcement", "nan", "finite"]),
    ("behaviour.crossing_hazard=.inf", ["crossing_hazard", "finite"]),
    ("legs.gt-tapachula-bus.km=1e400", ["km", "finite"]),
    ("nationalities.Guatemala.origins={guatemala-city: -1}", ["origin weights", "-1"]),
    ("nationalities.Guatemala.departures.base_per_day=0", []),  # Mexico still departs: valid
    ("nationalities.Mexico.border_cities={reynosa: 0, ciudad-juarez: 0}", ["border_cities", "sum to more than 0"]),
])
def test_bad_levers_and_numbers(tmp_path, no_run, monkeypatch, setting, pieces):
    if not pieces:
        monkeypatch.undo()
        r = CliRunner().invoke(app, ["check", str(MINI), "--set", setting])
        assert r.exit_code == 0, r.output
        return
    refused(["run", MINI, "--out", tmp_path / "o", "--set", setting], "mini.yaml", *pieces)


def test_no_departures_at_all_is_refused_as_no_agent(tmp_path, no_run):
    line = refused(["run", MINI, "--out", tmp_path / "o", "--set", "nationalities.Guatemala.departures.base_per_day=0",
                    "--set", "nationalities.Mexico.departures.base_per_day=0"], "no agent can be expected")
    assert "base_per_day is 0" in line


def test_negative_or_nonfinite_observed_values_refused_by_validate(tmp_path):
    out = tmp_path / "run"
    assert CliRunner().invoke(app, ["run", str(MINI), "--out", str(out), "--no-report", "-q",
                                    "--set", "end=2023-01-31"]).exit_code == 0
    for value, piece in (("-5", "is negative"), ("inf", "not a number"), ("nan", "not a number"), ("1e999", "not a number")):
        obs = tmp_path / "obs.csv"
        obs.write_text(f"month,series,value\n2023-01,sw_encounters,{value}\n")
        refused(["validate", out, "--observed", obs], "obs.csv", "line 2", piece)


def test_internal_errors_are_one_line_and_debug_shows_the_traceback(tmp_path, monkeypatch):
    import corridor.scenario
    monkeypatch.setattr(corridor.scenario, "load", lambda *a, **k: 1 / 0)
    r = CliRunner().invoke(app, ["metrics", str(MINI)])
    assert r.exit_code == 1 and "internal error: ZeroDivisionError" in r.output and "Traceback" not in r.output
    assert len(r.output.strip().splitlines()) == 1
    r = CliRunner().invoke(app, ["--debug", "metrics", str(MINI)])
    assert isinstance(r.exception, ZeroDivisionError)


def test_markup_in_a_bad_value_is_printed_as_given(tmp_path):
    line = refused(["run", MINI, "--out", tmp_path / "o", "--set", "policies.regime=title[/]9"], "title[/]9")
    assert "regime" in line


# ---------------------------------------------------------------------------------------------- shortened
def test_events_after_the_end_do_not_happen():
    """A caravan or a lever step after the end is no error: the run is the run without it."""
    short = ["end=2023-01-31"]
    base = Simulation.from_scenario(MINI, overrides=short).run().to_df()
    later = Simulation.from_scenario(MINI, overrides=short + [
        "caravans=[{date: 2023-03-01, origin: tapachula, size: 500, nationalities: {Guatemala: 1}}]",
        "policies.mexico_enforcement=[{from: 2023-03-01, value: 2.5}]"]).run().to_df()
    pd.testing.assert_frame_equal(base, later)
    inside = Simulation.from_scenario(MINI, overrides=short + [
        "caravans=[{date: 2023-01-10, origin: tapachula, size: 500, nationalities: {Guatemala: 1}}]"]).run()
    n_base = int(base.loc[base["metric"] == "agents_created", "value"].iloc[-1])
    assert inside.info["agents_created"] > n_base + 300       # the same caravan inside the period does happen


def test_bundled_scenario_shortened_runs(tmp_path):
    out = tmp_path / "short"
    r = CliRunner().invoke(app, ["run", "us-mexico", "--out", str(out), "--scale", "400", "--set", "end=2023-01-31",
                                 "--set", "spinup_days=20", "--no-report", "-q"])
    assert r.exit_code == 0, r.output
    info = json.loads((out / "run.json").read_text())
    assert info["end"] == "2023-01-31" and info["agents_created"] > 0
    df = pd.read_parquet(out / "metrics.parquet")
    assert np.isfinite(df["value"]).all() and str(df["date"].max()) == "2023-01-31"
