"""Calibration: the same seed and trials give the same parameters, an interrupted study resumes, bad input is refused.

All on tests/data/mini.yaml at a small scale, with a handful of trials (these tests check the machinery,
not the quality of a fit).
"""
from __future__ import annotations

import json

import optuna
import pytest
from typer.testing import CliRunner

import corridor.batch.calibration as cal
from corridor.batch.calibration import objective, study
from corridor.batch.calibration.params import default_params
from corridor.batch.calibration.targets import catalogue, load_targets, read_targets, targets_file
from corridor.cli import app
from corridor.errors import InputError
from corridor.scenario import load, load_raw

MINI = "tests/data/mini.yaml"
# Most tests fit the shared parameters only (one run per trial); one covers the ratio scaling of base rates.
FAST = dict(scale=10.0, workers=0, seed=7, batch=2, ratio_iterations=1, fit_bases=False)
PARAMS = ["behaviour.crossing_hazard=0.05:0.5:log", "behaviour.retry_after_return=0.2:0.9",
          "nationalities.*.departures.seasonal_peak_month=1:12:int",
          "nationalities.{Guatemala|Mexico}.departures.elasticity=0:3"]


pytestmark = pytest.mark.usefixtures("one_thread")  # tiny runs: one numba thread (tests/conftest.py)


@pytest.fixture(scope="module")
def straight(tmp_path_factory, one_thread):
    """A 5-trial study run from start to end in one call: the reference the other runs must reproduce."""
    out = tmp_path_factory.mktemp("straight") / "fit"
    return out, cal.calibrate(MINI, trials=5, out=out, params=PARAMS, **FAST)


def trials_of(out) -> list[optuna.trial.FrozenTrial]:
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(out / study.JOURNAL)))
    return optuna.load_study(study_name=study.STUDY_NAME, storage=storage).trials


def fingerprint(out) -> list[tuple]:
    return [(t.number, t.state.name, t.params, t.value) for t in trials_of(out)]


def test_same_seed_and_trials_give_the_same_parameters(tmp_path, straight):
    ref_dir, ref = straight
    again = cal.calibrate(MINI, trials=5, out=tmp_path / "again", params=PARAMS, **FAST)
    assert fingerprint(tmp_path / "again") == fingerprint(ref_dir)
    assert again.best_values == ref.best_values
    assert len({json.dumps(t.params, sort_keys=True) for t in trials_of(ref_dir)}) == 5   # it did search
    other = cal.calibrate(MINI, trials=2, out=tmp_path / "other", params=PARAMS, **{**FAST, "seed": 8})
    assert trials_of(tmp_path / "other")[1].params != trials_of(ref_dir)[1].params      # trial 0 is the start


def test_parallel_workers_give_the_same_parameters_as_one_process(tmp_path, straight):
    ref_dir, ref = straight
    dask = cal.calibrate(MINI, trials=5, out=tmp_path / "dask", params=PARAMS, **{**FAST, "workers": 2})
    assert fingerprint(tmp_path / "dask") == fingerprint(ref_dir)
    assert dask.best_values == ref.best_values


def test_base_rates_by_ratio_scaling_and_the_outputs(tmp_path):
    res = cal.calibrate(MINI, trials=2, out=tmp_path / "fit", params=PARAMS, **{**FAST, "fit_bases": True})
    initial = {n.name: n.departures.base_per_day for n in load(MINI).nationalities}
    assert res.bases != initial and all(v > 0 for v in res.bases.values())
    # the overlay is a scenario: it loads, extends mini, and carries every fitted value
    sc = load(tmp_path / "fit" / "best.yaml")
    assert sc.behaviour.crossing_hazard == pytest.approx(res.best_values["behaviour.crossing_hazard"])
    assert {n.name: n.departures.base_per_day for n in sc.nationalities} == pytest.approx(res.bases)
    assert {n.departures.seasonal_peak_month for n in sc.nationalities} == \
        {res.best_values["nationalities.*.departures.seasonal_peak_month"]}
    fit = json.loads((tmp_path / "fit" / "fit.json").read_text())
    assert fit["n_parameters"] == len(PARAMS) + 2 and fit["observations"]["total"] > fit["n_parameters"]
    assert list(fit["targets"]) == list(catalogue(None))   # mini has no targets file: the generic terms only
    report = (tmp_path / "fit" / "report.md").read_text()
    assert "parameters fitted" in report and "observed numbers" in report and "Naive baselines" in report
    text = cal.defaults_text(fit, "corridor calibrate ...", "mini")
    assert "nationalities.Mexico.departures.base_per_day" in text and "ratio scaling" in text


def test_more_trials_resume_the_study_without_recomputing(tmp_path, monkeypatch, straight):
    out = tmp_path / "fit"
    cal.calibrate(MINI, trials=3, out=out, params=PARAMS, **FAST)
    first = trials_of(out)
    calls = []
    real = study.evaluate
    monkeypatch.setattr(study, "evaluate", lambda *a, **k: calls.append(1) or real(*a, **k))
    cal.calibrate(MINI, trials=5, out=out, params=PARAMS, **FAST)
    after = trials_of(out)
    assert len(calls) == 2 and len(after) == 5
    for t0, t1 in zip(first, after):    # trials already told are kept as they were
        assert (t0.params, t0.value, t0.datetime_complete) == (t1.params, t1.value, t1.datetime_complete)
    assert fingerprint(out) == fingerprint(straight[0])


def test_an_interrupted_study_resumes_where_it_stopped(tmp_path, monkeypatch, straight):
    out = tmp_path / "fit"
    real = study.evaluate
    calls = []

    def killed_on_fourth(*a, **k):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt  # as if the process were killed mid-batch
        return real(*a, **k)

    monkeypatch.setattr(study, "evaluate", killed_on_fourth)
    with pytest.raises(KeyboardInterrupt):
        cal.calibrate(MINI, trials=5, out=out, params=PARAMS, **FAST)
    states = [t.state.name for t in trials_of(out)]
    assert states == ["COMPLETE", "COMPLETE", "RUNNING", "RUNNING"]   # batch 2 asked, never told
    monkeypatch.setattr(study, "evaluate", real)
    resumed = cal.calibrate(MINI, trials=5, out=out, params=PARAMS, **FAST)
    assert fingerprint(out) == fingerprint(straight[0])
    assert resumed.best_values == straight[1].best_values


def test_resuming_with_other_settings_is_refused(tmp_path):
    cal.calibrate(MINI, trials=2, out=tmp_path / "fit", params=PARAMS, **FAST)
    with pytest.raises(InputError, match="different settings"):
        cal.calibrate(MINI, trials=3, out=tmp_path / "fit", params=PARAMS[:2], **FAST)


def test_writing_the_fitted_values_back_keeps_the_study(tmp_path):
    """The fitted values become the scenario's defaults; rerunning the command on it resumes the same study."""
    import yaml
    cal.calibrate(MINI, trials=2, out=tmp_path / "fit", params=PARAMS, **FAST)
    data = yaml.safe_load(open(MINI))
    data["behaviour"] = {"crossing_hazard": 0.3, "retry_after_return": 0.7}       # fitted fields: same study
    fitted = tmp_path / "mini.yaml"
    fitted.write_text(yaml.safe_dump(data))
    cal.calibrate(fitted, trials=3, out=tmp_path / "fit", params=PARAMS, **FAST)
    assert len(trials_of(tmp_path / "fit")) == 3
    data["behaviour"]["give_up_hazard"] = 0.01                                    # not fitted: another study
    fitted.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError, match="scenario_sha"):
        cal.calibrate(fitted, trials=4, out=tmp_path / "fit", params=PARAMS, **FAST)


@pytest.mark.parametrize("spec, message", [
    ("behaviour.no_such_thing=0:1", "unknown field 'no_such_thing'"),
    ("nationalities.Atlantis.departures.elasticity=0:1", "no item 'Atlantis'"),
    ("nationalities.{Mexico|Atlantis}.departures.elasticity=0:1", "no item 'Atlantis'"),
    ("behaviour.crossing_hazard=0.5:0.1", "LOW < HIGH"),
    ("behaviour.crossing_hazard=0:2", "not valid"),
    ("behaviour.crossing_hazard", "PATH=LOW:HIGH"),
    ("policies.regime=0:1", "not a number"),
])
def test_a_bad_parameter_is_an_input_error(tmp_path, spec, message):
    with pytest.raises(InputError, match=message):
        cal.calibrate(MINI, trials=1, out=tmp_path / "fit", params=[spec], **FAST)


def test_cli_bad_input_exits_2_with_one_clear_line(tmp_path):
    runner = CliRunner()
    res = runner.invoke(app, ["calibrate", MINI, "--trials", "1", "--out", str(tmp_path / "a"), "--workers", "0",
                              "--params", "behaviour.crossing_hazzard=0:1"])
    assert res.exit_code == 2 and "crossing_hazzard" in res.output
    bad = tmp_path / "bad.csv"
    bad.write_text("month,series,value\n2023-01,sw_encounters,lots\n")
    res = runner.invoke(app, ["calibrate", MINI, "--trials", "1", "--out", str(tmp_path / "b"), "--workers", "0",
                              "--observed", str(bad)])
    assert res.exit_code == 2 and "not a number" in res.output
    res = runner.invoke(app, ["calibrate", MINI, "--trials", "1", "--out", str(tmp_path / "c"), "--workers", "0",
                              "--train", "2023-09:2023-01"])
    assert res.exit_code == 2 and "--train" in res.output


def test_validate_names_the_series_it_skipped(tmp_path):
    from corridor.engine import Simulation
    from corridor.analysis.validate import compare
    df = Simulation.from_scenario(MINI, scale=20).run().to_df()
    obs = tmp_path / "obs.csv"
    obs.write_text("month,series,value\n2023-01,sw_encounters,1000\n2023-01,sw_encouters:Mexico,10\n")
    res = compare(df, obs)
    assert res.summary["series_not_in_run"] == ["sw_encouters:Mexico"]


def test_darien_mix_term_compares_shares_over_its_months_only():
    """The Darién-mix term: each named nationality's share of the model's Darién crossings in Jan-Sep 2023 against
    the published share; absent when the window does not hold those months."""
    import pandas as pd
    months = [f"2023-{m:02d}" for m in range(1, 10)]
    rows = []
    for m in months:
        rows += [(m, "darien_crossings", 1000.0), (m, "darien_crossings:Venezuela", 700.0),
                 (m, "darien_crossings:Ecuador", 100.0)]          # Colombia: none
    table = pd.DataFrame(rows, columns=["month", "series", "value"])
    darien = load_targets("us-mexico").crossing_mix
    mix = {r["nationality"]: r for r in objective.mix_in(table, objective.parse_window("2022-10..2023-09", "train"), darien)}
    assert set(mix) == set(darien.crossed)
    assert mix["Venezuela"]["model_pct"] == pytest.approx(70.0)
    assert mix["Venezuela"]["error_pp"] == pytest.approx(70.0 - 100 * 252_000 / 400_000)
    assert mix["Colombia"]["model_pct"] == 0.0
    assert objective.mix_in(table, objective.parse_window("2023-10..2023-12", "validation"), darien) == []
    assert objective.mix_in(table[table["month"] != "2023-05"], objective.parse_window("2022-10..2023-09", "train"),
                            darien) == []
    assert "darien_mix_pp" in objective.scenario_terms(load("us-mexico"), load_targets("us-mexico"))


def test_custody_term_is_the_mean_relative_error_on_the_published_days_inside_the_window():
    """custody_pct: the model's people in custody on each published day inside the window against the count; the
    Nov and Dec 2023 counts fall in the validation window only; a day the run does not record is left out."""
    import pandas as pd
    days = pd.date_range("2023-05-01", "2023-12-31")
    daily = pd.DataFrame({"date": days, "metric": "us_custody_population", "value": 20_000.0})
    spec = load_targets("us-mexico").custody_counts
    train = objective.custody_in(daily, objective.parse_window("2022-10..2023-09", "train"), spec)
    assert [r["date"] for r in train] == ["2023-05-10", "2023-06-08", "2023-08-10", "2023-09-19"]
    errors = [100 * (20_000 - o) / o for o in (26_354, 7_696, 17_000, 22_000)]
    assert [r["error_pct"] for r in train] == pytest.approx(errors)
    valid = objective.custody_in(daily, objective.parse_window("2023-10..2023-12", "validation"), spec)
    assert [(r["date"], r["observed"]) for r in valid] == [("2023-11-29", 20_000.0), ("2023-12-19", 27_159.0)]
    assert valid[0]["error_pct"] == 0.0
    short = daily[daily["date"] < "2023-06-01"]
    assert [r["date"] for r in objective.custody_in(short, objective.parse_window("2022-10..2023-09", "t"), spec)] \
        == ["2023-05-10"]
    assert "custody_pct" in objective.scenario_terms(load("us-mexico"), load_targets("us-mexico"))
    assert "us_custody_population" in objective.SCORED_PREFIXES


# ---------------------------------------------------------------------------------------------- targets files
def test_the_targets_file_of_us_mexico_loads():
    t = load_targets("us-mexico")
    assert targets_file("us-mexico").name == "us-mexico.targets.yaml" and t.scenario == "us-mexico"
    cat = catalogue(t)
    assert list(cat)[:5] == ["sw_mape", "darien_mape", "nationality_pp", "sector_pp", "mexico_pct"]
    assert [k for k, term in cat.items() if term.target] == list(cat)[:5] + ["custody_pct"]
    assert cat["custody_pct"].normaliser == 25.0 and [d.date for d in t.custody_counts.dates] == [
        "2023-05-10", "2023-06-08", "2023-08-10", "2023-09-19", "2023-11-29", "2023-12-19"]
    assert cat["removals_pct"].normaliser == 15.0 and "Title 42" in cat["removals_pct"].label
    assert all("facts_us.csv row" in p.source for pt in t.period_totals for p in pt.periods)
    assert t.crossing_mix.crossed["Ecuador"] == 47_724.0 and "row 181" in t.crossing_mix.source
    # its groups and corridor-specific parameters join the shared behaviour in the default set
    raw, _ = load_raw("us-mexico")
    params = {p.name: p for p in default_params(raw, t)}
    assert "nationalities.Ecuador.origins.guayaquil" in params
    assert params["nationalities.Venezuela.departures.elasticity"].label == "elasticity: Venezuela"
    assert params["nationalities.{Guatemala|Honduras|El Salvador}.title8_removal"].label == \
        "title8_removal: Central America"


def test_a_variant_finds_the_targets_file_of_the_scenario_it_extends(tmp_path):
    base = targets_file("us-mexico")
    assert targets_file("status-quo") == base and targets_file("caravan") == base   # caravan -> status-quo -> us-mexico
    variant = tmp_path / "my-variant.yaml"
    variant.write_text("name: my-variant\nextends: us-mexico\n")
    assert targets_file(variant) == base
    assert load_targets(MINI) is None            # no file for mini nor anything it extends: generic terms only
    assert set(objective.scenario_terms(load(MINI), None)) <= set(catalogue(None))
    assert "mexico_pct" not in catalogue(None) and "removals_pct" not in catalogue(None)


@pytest.mark.parametrize("edit, field, value, valid", [
    (("terms", 0, "normaliser", -1), "terms[0] (sw_mape).normaliser", "-1", "greater than 0"),
    (("terms", 6, "term", "removal_pct"), "terms[6].term", "'removal_pct'", "valid: sw_mape"),
    (("repeat_shares", "months", 0, "month", "2023-13"), "repeat_shares.months[0].month", "'2023-13'", "YYYY-MM"),
    (("seasons", 1, "groups", 0, "Andes"), "seasons[1].groups", "'Andes'", "valid: Mexico, Central America"),
    (("detentions", "colour", "red"), "detentions.colour", None, "valid fields here: term, key, name"),
    (("custody_counts", "dates", 1, "date", "2023-06-31"), "custody_counts.dates[1].date", "'2023-06-31'",
     "YYYY-MM-DD"),
    (("custody_counts", "dates", 0, "observed", "many"), "custody_counts.dates[0].observed", "'many'",
     "valid number"),
    (("custody_counts", "dates", 0, "observed", -5), "custody_counts.dates[0].observed", "-5", "greater than 0"),
])
def test_a_bad_targets_file_is_refused_naming_file_field_and_value(tmp_path, edit, field, value, valid):
    import yaml
    data = yaml.safe_load(targets_file("us-mexico").read_text(encoding="utf-8"))
    node = data
    for k in edit[:-2]:
        node = node[k]
    node[edit[-2]] = edit[-1]
    bad = tmp_path / "bad.targets.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError) as e:
        read_targets(bad)
    msg = str(e.value)
    assert str(bad) in msg and f"'{field}'" in msg and valid in msg, msg
    assert value is None or f"bad value {value}" in msg, msg



EARLY = "tests/data/mini-early.yaml"
JOINT = dict(with_periods=[f"{EARLY}=2022-10:2022-11,2022-12:2022-12,0.5"], period_specific=["departures.trend_per_year"])
JOINT_PARAMS = ["behaviour.crossing_hazard=0.05:0.5:log",
                "nationalities.{Guatemala|Mexico}.departures.trend_per_year=-0.3:0.3"]


def test_a_joint_fit_shares_the_behaviour_and_fits_each_period_its_own(tmp_path):
    res = cal.calibrate(MINI, trials=3, out=tmp_path / "fit", params=JOINT_PARAMS, **{**FAST, "fit_bases": True}, **JOINT)
    names = [p.name for p in res.params]
    assert names == ["behaviour.crossing_hazard", "mini@" + JOINT_PARAMS[1].split("=")[0],
                     "mini-early@" + JOINT_PARAMS[1].split("=")[0]]
    main, early = load(tmp_path / "fit" / "best.yaml"), load(tmp_path / "fit" / "best-mini-early.yaml")
    assert (main.start, early.start) == (load(MINI).start, load(EARLY).start)
    # one behaviour in both periods; each period its own trend and base rates
    assert main.behaviour.crossing_hazard == early.behaviour.crossing_hazard == \
        pytest.approx(res.best_values["behaviour.crossing_hazard"])
    assert main.nationalities[0].departures.trend_per_year == pytest.approx(res.best_values[names[1]])
    assert early.nationalities[0].departures.trend_per_year == pytest.approx(res.best_values[names[2]])
    assert {n.name: n.departures.base_per_day for n in early.nationalities} == \
        pytest.approx({k.split("@")[1]: v for k, v in res.bases.items() if k.startswith("mini-early@")})
    fit = json.loads((tmp_path / "fit" / "fit.json").read_text())
    assert fit["n_parameters"] == 3 + 2 + 2
    assert fit["periods"]["mini-early"]["train"]["window"] == "2022-10..2022-11"
    assert "Joint period `mini-early`" in (tmp_path / "fit" / "report.md").read_text()
    # the study's objective is the first period's plus the weighted other's, each over its own training months
    t = trials_of(tmp_path / "fit")[0]
    assert t.value == pytest.approx(t.user_attrs["mini-early"]["objective"] * 0.5 + sum(
        v / catalogue(None)[k].normaliser for k, v in t.user_attrs["terms"].items() if "@" not in k and v is not None))


def test_single_fits_the_scenario_alone(tmp_path):
    res = cal.calibrate(MINI, trials=1, out=tmp_path / "fit", params=JOINT_PARAMS, **FAST, **JOINT, joint=False)
    assert [p.name for p in res.params] == [p.split("=")[0] for p in JOINT_PARAMS]
    assert not (tmp_path / "fit" / "best-mini-early.yaml").exists()


@pytest.mark.parametrize("spec, needle", [
    ("mini-early", "expected SCENARIO=START:END"),
    (f"{EARLY}=2022-13:2022-12", "field train: bad value '2022-13:2022-12'"),
    (f"{EARLY}=2022-10:2022-11,0", "field weight: bad value '0'"),
])
def test_a_bad_joint_period_is_refused_by_name(tmp_path, spec, needle):
    r = CliRunner().invoke(app, ["calibrate", MINI, "--out", str(tmp_path / "fit"), "--trials", "1", "--workers", "0",
                                 "--with", spec])
    assert r.exit_code == 2 and needle in r.output and "Traceback" not in r.output
