"""The bundled scenarios of the December 2023 talks: they load, they say what they change, and short runs
show each lever's effect with the sign its mechanism implies (common random numbers: same seed)."""
from __future__ import annotations

import datetime as dt
import functools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from corridor.cli import app
from corridor.engine import Simulation
from corridor.errors import InputError
from corridor.rules import RuleBook
from corridor.scenario import bundled_dir, bundled_names, load
from corridor.world import compile_world

VARIANTS = ["status-quo", "reopen-only", "contention", "contention-and-reopen", "returns-expanded",
            "pathways-expanded", "root-causes", "sanctions-relief", "caravan", "mexico-package",
            "proclamation-rule", "conditional-reopen"]
CLOSED_IN_DEC = ["san-ysidro-pedwest", "lukeville", "eagle-pass-bridge-1", "nogales-morley-gate"]
BRANCH = dt.date(2023, 12, 28)
# Short runs: Aug 2023 (60 days of spin-up) to Mar 2024, without the observed 2023 caravans (the first left
# in April); the caravan run keeps only the variant's own.
SHORT = {"start": "2023-10-01", "spinup_days": 60, "end": "2024-03-31", "caravans": []}
SCALE = 100


@functools.lru_cache(maxsize=None)
def scenario(name: str):
    return load(name)


@functools.lru_cache(maxsize=None)
def world(name: str):
    return compile_world(scenario(name))


pytestmark = pytest.mark.usefixtures("one_thread")  # small runs: one numba thread (tests/conftest.py)


def day(w, d: str) -> int:
    return w.dates.index(dt.date.fromisoformat(d))


# ----------------------------------------------------------------------------- loading

def test_every_variant_is_bundled_small_and_documented():
    names = bundled_names()
    for v in VARIANTS:
        assert v in names
        raw = yaml.safe_load((bundled_dir() / f"{v}.yaml").read_text())
        assert raw.get("extends") in names, v  # a variant holds only its differences
        assert "places" not in raw and "legs" not in raw and "nationalities" not in raw, v
        assert len(" ".join(raw["description"].split())) < 240, v
        assert len(raw["notes"][v].split()) > 40, v  # one paragraph on the mechanism


@pytest.mark.parametrize("name", sorted(set(VARIANTS) | {"us-mexico"}))
def test_every_bundled_scenario_loads_and_compiles(name):
    sc, w = scenario(name), world(name)
    assert sc.name == name
    RuleBook(sc, w.dates, w.lever_book)  # rules resolve against the compiled levers
    assert sc.notes.get(name)


def test_scenarios_command_lists_each_in_one_line():
    out = CliRunner().invoke(app, ["scenarios"])
    assert out.exit_code == 0
    lines = [l for l in out.output.splitlines() if l.strip()]
    for v in VARIANTS:
        assert sum(l.startswith(v + " ") for l in lines) == 1, v


def test_extends_of_a_missing_scenario_is_a_clear_error(tmp_path):
    p = tmp_path / "v.yaml"
    p.write_text("name: v\nextends: us-mexcio\n")
    with pytest.raises(InputError) as e:
        load(p)
    msg = str(e.value)
    assert msg.startswith(str(p)) and "field 'extends'" in msg and "'us-mexcio' not found" in msg
    assert "status-quo" in msg and "us-mexico" in msg  # what is valid
    out = CliRunner().invoke(app, ["metrics", str(p)])
    assert out.exit_code == 2 and "us-mexcio" in out.output


# ----------------------------------------------------------------------------- what each variant sets

def test_status_quo_keeps_closed_crossings_closed_and_drops_the_assumed_step():
    base, sq = world("us-mexico"), world("status-quo")
    jan = day(sq, "2024-01-04")
    for c in CLOSED_IN_DEC:
        i = sq.crossing_ids.index(c)
        assert sq.levers.crossings_closed[day(sq, "2023-12-27"), i]
        assert sq.levers.crossings_closed[jan:, i].all(), c  # never reopens
        assert not base.levers.crossings_closed[jan:, base.crossing_ids.index(c)].any(), c  # us-mexico reopens
    assert (sq.levers.mexico_enforcement[day(sq, "2023-12-28"):] == 1.0).all()
    assert base.levers.mexico_enforcement[day(base, "2024-01-01")] > 1.0      # us-mexico's measured 2024 step
    # nothing else differs from us-mexico
    for f in sq.levers._fields:
        if f not in ("crossings_closed", "mexico_enforcement"):
            np.testing.assert_array_equal(getattr(sq.levers, f), getattr(base.levers, f), err_msg=f)


def test_variants_differ_from_status_quo_only_from_the_branch_date():
    sq = world("status-quo")
    cut = sq.dates.index(BRANCH)
    for v in VARIANTS:
        if v in ("status-quo", "proclamation-rule"):
            continue
        w = world(v)
        changed = [f for f in w.levers._fields if not np.array_equal(getattr(w.levers, f), getattr(sq.levers, f))]
        assert changed or v == "caravan", v
        for f in w.levers._fields:
            np.testing.assert_array_equal(getattr(w.levers, f)[:cut], getattr(sq.levers, f)[:cut], err_msg=f"{v}: {f}")


def test_caravan_variant_adds_to_the_observed_caravans():
    base, car = scenario("status-quo"), scenario("caravan")
    assert len(car.caravans) == len(base.caravans) + 1
    new = car.caravans[-1]
    assert (new.date, new.origin, new.size) == (BRANCH, "tapachula", 6000)


def test_proclamation_rule_replaces_the_fixed_date():
    sc, w = scenario("proclamation-rule"), world("proclamation-rule")
    assert (w.levers.regime[day(w, "2024-06-05"):] == w.levers.regime[day(w, "2024-06-04")]).all()
    (rule,) = sc.rules
    assert rule.condition.window_days == 7 and rule.condition.threshold == 2500
    assert rule.release.threshold == 1500 and rule.release_after_days == 14


# ----------------------------------------------------------------------------- signs, from short runs

@pytest.fixture(scope="module")
def runs():
    out = {}
    new_caravan = scenario("caravan").caravans[-1].model_dump(mode="json", by_alias=True)
    for name in ("status-quo", "contention", "reopen-only", "caravan"):
        over = dict(SHORT, caravans=[new_caravan]) if name == "caravan" else SHORT
        sim = Simulation.from_scenario(name, seed=1, scale=SCALE, overrides=over).run()
        out[name] = sim.to_df().pivot(index="date", columns="metric", values="value")
    return out


def window(w: pd.DataFrame, lo: str, hi: str) -> pd.DataFrame:
    return w.loc[dt.date.fromisoformat(lo): dt.date.fromisoformat(hi)]


def test_contention_lowers_us_encounters_and_raises_mexican_detentions(runs):
    sq, ct = (window(runs[n], "2024-01-01", "2024-03-31") for n in ("status-quo", "contention"))
    assert ct["sw_encounters"].sum() < 0.95 * sq["sw_encounters"].sum()
    assert ct["mexico_detentions"].sum() > 1.3 * sq["mexico_detentions"].sum()
    # before the branch date the two runs are the same run (common random numbers)
    pd.testing.assert_frame_equal(window(runs["status-quo"], "2023-10-01", "2023-12-27"),
                                  window(runs["contention"], "2023-10-01", "2023-12-27"))


def test_reopening_restores_trade_and_takes_officers_back(runs):
    sq, ro = (window(runs[n], "2024-01-04", "2024-03-31") for n in ("status-quo", "reopen-only"))
    assert sq["trade_blocked_usd"].sum() > 0
    assert ro["trade_blocked_usd"].sum() < 0.1 * sq["trade_blocked_usd"].sum()
    for c in CLOSED_IN_DEC:
        assert (ro[f"crossing_open:{c}"] == 1).all() and (sq[f"crossing_open:{c}"] == 0).all()
    drop = (ro.filter(like="processing_capacity:").mean() - sq.filter(like="processing_capacity:").mean())
    drop.index = [c.split(":", 1)[1] for c in drop.index]
    affected = {"San Diego", "Tucson", "Del Rio"}  # the sectors of the four reopened crossings
    assert (drop[list(affected)] < 0).all(), drop
    assert (drop.drop(list(affected)) == 0).all(), drop


def test_caravan_raises_people_in_transit_and_at_the_border_in_the_weeks_after(runs):
    on_the_way = ["population:in_transit", "population:waiting_border", "population:regrouping",
                  "population:crossing"]
    sq, cv = (window(runs[n], "2023-12-28", "2024-01-24") for n in ("status-quo", "caravan"))
    extra = cv[on_the_way].sum(axis=1).mean() - sq[on_the_way].sum(axis=1).mean()
    assert extra > 0.3 * 6000 / SCALE  # agents (population:* counts agents); most of the caravan is still on its way
    assert cv["stranded_mexico"].mean() > sq["stranded_mexico"].mean()
    pd.testing.assert_frame_equal(window(runs["status-quo"], "2023-10-01", "2023-12-27"),
                                  window(runs["caravan"], "2023-10-01", "2023-12-27"))


# ----------------------------------------------------------------------------- corridor compare

def test_compare_writes_each_run_and_one_report(tmp_path, monkeypatch):
    """Runs, seeds, notes and baseline handed to report.write_report (tested on its own in test_report.py)."""
    import corridor.compare
    seen = {}

    def fake_write_report(out_dir, runs, world, observed=None, title="", notes=None, bands=None, baseline=None, **kw):
        seen.update(out_dir=out_dir, runs=runs, world=world, observed=observed, notes=notes, baseline=baseline)
        (Path(out_dir) / "report.html").write_text("ok")
        return Path(out_dir) / "report.html"

    monkeypatch.setattr(corridor.compare, "write_report", fake_write_report)
    out = tmp_path / "cmp"
    args = ["compare", "status-quo", "conditional-reopen", "--out", str(out), "--scale", "400", "--seed", "3", "-q",
            "--set", "start=2023-12-01", "--set", "spinup_days=30", "--set", "end=2024-01-31",
            "--set", "caravans=[]"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    for n in ("status-quo", "conditional-reopen"):
        info = json.loads((out / n / "run.json").read_text())
        assert info["seed"] == 3 and info["scale"] == 400 and info["scenario"] == n
    info = json.loads((out / "conditional-reopen" / "run.json").read_text())
    assert [(s["rule"], s["switch"], s["date"]) for s in info["rule_switches"]] == \
        [("reopen-on-enforcement", "on", "2024-01-11")]
    # written beside --out, then swapped in whole: the staging folder is gone
    assert (out / "report.html").exists() and Path(seen["out_dir"]).parent == out.parent
    assert not Path(seen["out_dir"]).exists() and sorted(p.name for p in tmp_path.iterdir()) == ["cmp"]
    assert list(seen["runs"]) == ["status-quo", "conditional-reopen"] and seen["baseline"] == "status-quo"
    assert "rule_active:reopen-on-enforcement" in set(seen["runs"]["conditional-reopen"]["metric"])
    assert seen["notes"]["conditional-reopen"].startswith("The US position") and "nothing changes" in seen["notes"]["status-quo"]
    assert seen["observed"] is not None and len(seen["observed"]) > 0
    assert {"id", "lat", "lon"} <= set(seen["world"].places.columns)
    # each saved run is the run handed to the report
    saved = pd.read_parquet(out / "status-quo" / "metrics.parquet")
    np.testing.assert_array_equal(saved["value"].to_numpy(), seen["runs"]["status-quo"]["value"].to_numpy())


def test_compare_rejects_a_bad_scenario_before_running(tmp_path):
    res = CliRunner().invoke(app, ["compare", "status-quo", "no-such-scenario", "--out", str(tmp_path / "x")])
    assert res.exit_code == 2 and "no-such-scenario" in res.output
    assert not (tmp_path / "x").exists()
