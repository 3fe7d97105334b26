"""The bundled 2019 scenario (us-mexico-2019), the observed months it is scored on, and the nationality
comparisons that fall back to Border Patrol's table by citizenship before Oct 2019."""
from __future__ import annotations

import datetime as dt
import hashlib

import pandas as pd
import pytest
import yaml

from corridor.analysis.observed import bundled_path, load_observed
from corridor.analysis.validate import compare
from corridor.batch.calibration.objective import Window, nationality_targets
from corridor.batch.calibration.ratio import model_nationality_totals
from corridor.build import __main__ as build_cli
from corridor.build import monthly
from corridor.build.us_mexico_2019 import SCENARIO_2019, build_2019
from corridor.engine import Simulation
from corridor.scenario import bundled_names, load

# sha256 of observed/monthly.csv as the us-mexico calibration used it (Oct 2019 - Dec 2023, commit a673c80)
MONTHLY_OCT2019_ON = "54042c6c0d2fc964bb2570681ed9f40a8b491f25522b9e64161d35203e4036cc"
SCALE = 200


@pytest.fixture(scope="module")
def short_runs():
    """us-mexico-2019 to the end of Aug 2019, with and without the June 2019 enforcement step."""
    out = {}
    for label, extra in (("step", []), ("no_step", ["policies.mexico_enforcement=0.52"])):
        sim = Simulation.from_scenario("us-mexico-2019", seed=1, scale=SCALE, overrides=["end=2019-08-31", *extra])
        out[label] = sim.run().to_df()
    return out


def test_scenario_loads_with_its_2019_levers():
    assert "us-mexico-2019" in bundled_names()
    sc = load("us-mexico-2019")
    assert (sc.start, sc.end, sc.spinup_days) == (dt.date(2019, 1, 1), dt.date(2020, 2, 29), 120)
    assert sc.policies.regime == "title8"
    raw = SCENARIO_2019.read_text()
    assert "{from: 2019-06-10, value: 0.82}" in raw and "{from: 2019-01-29, value: 1}" in raw
    honduras = next(n for n in sc.nationalities if n.name == "Honduras")
    assert honduras.returnable_to_mexico is False
    # period-specific: the trend is 2019's own (us-mexico-2019.fit.yaml), not us-mexico's
    fit = yaml.safe_load((SCENARIO_2019.parents[1] / "calibration" / "us-mexico-2019.fit.yaml").read_text())
    assert honduras.departures.trend_per_year == fit["values"]["nationalities.Honduras.departures.trend_per_year"]["value"]
    main_honduras = next(n for n in load("us-mexico").nationalities if n.name == "Honduras")
    assert honduras.departures.trend_per_year != main_honduras.departures.trend_per_year
    assert {c.date.year for c in sc.caravans} == {2018, 2019, 2020}


def test_builder_reproduces_the_bundled_files_byte_for_byte():
    assert SCENARIO_2019.read_bytes() == build_2019().encode("utf-8")
    assert bundled_path("monthly.csv").read_bytes() == monthly.text().encode("utf-8")
    assert build_cli.main(["--check"]) == 0          # us-mexico.yaml, us-mexico-2019.yaml and monthly.csv


def test_observed_2019_rows_exist_and_later_rows_did_not_move():
    obs = load_observed()
    sw = obs[obs.series == "sw_encounters"].set_index("month")["value"]
    assert sw["2019-05"] == 144116 and sw["2019-09"] == 52546 and sw["2018-10"] == 60781
    nat = obs[obs.series.str.startswith("usbp_nationality:")]
    assert sorted(nat.month.unique()) == [f"{y}-{m:02d}" for y, m in [(2018, 10), (2018, 11), (2018, 12)]
                                          + [(2019, m) for m in range(1, 10)]]
    # labels the model lacks are folded into Other; OHSS's Chinese label is mapped to the model's
    assert "usbp_nationality:China, Peoples Republic Of" in set(nat.series)
    by_month = nat.groupby("month").value.sum()
    usbp = obs[obs.series == "usbp_encounters"].set_index("month")["value"]
    assert ((by_month - usbp[by_month.index]).abs() <= 100).all()      # OHSS rounds to 10
    assert not obs[(obs.month < "2019-10") & obs.series.str.startswith("sw_encounters:")].shape[0]
    text = bundled_path("monthly.csv").read_bytes().decode()
    lines = text.split("\r\n")
    later = "\r\n".join([lines[0]] + [ln for ln in lines[1:] if ln and ln[:7] >= "2019-10"]) + "\r\n"
    assert hashlib.sha256(later.encode()).hexdigest() == MONTHLY_OCT2019_ON


def _pairs_tables(with_sw: bool):
    """A model's monthly table and an observed one for 2019-05, with or without sw_encounters:<n> rows."""
    model = pd.DataFrame({"date": pd.to_datetime(["2019-05-%02d" % d for d in range(1, 32)])})
    rows = []
    for d in model.date:
        rows += [(d, "sw_encounters", 120.0), (d, "usbp_encounters", 100.0),
                 (d, "sw_encounters:Honduras", 60.0), (d, "sw_encounters:Mexico", 60.0),
                 (d, "usbp_nationality:Honduras", 70.0), (d, "usbp_nationality:Mexico", 30.0)]
    daily = pd.DataFrame(rows, columns=["date", "metric", "value"])
    obs = [("2019-05", "sw_encounters", 3720.0), ("2019-05", "usbp_encounters", 3100.0),
           ("2019-05", "usbp_nationality:Honduras", 1550.0), ("2019-05", "usbp_nationality:Mexico", 1550.0)]
    if with_sw:
        obs += [("2019-05", "sw_encounters:Honduras", 1860.0), ("2019-05", "sw_encounters:Mexico", 1860.0)]
    return daily, pd.DataFrame(obs, columns=["month", "series", "value"])


def test_nationality_shares_fall_back_to_border_patrol_by_citizenship():
    daily, obs = _pairs_tables(with_sw=False)
    s = compare(daily, obs).summary
    assert s["nationality_share_series"] == "usbp_nationality 2019-05..2019-05"
    assert s["nationality_share_mae_pp"] == pytest.approx(20.0)   # model 70/30 against observed 50/50
    daily, obs = _pairs_tables(with_sw=True)
    s = compare(daily, obs).summary
    assert s["nationality_share_series"] == "sw_encounters 2019-05..2019-05"
    assert s["nationality_share_mae_pp"] == pytest.approx(0.0)    # model 50/50 against observed 50/50

    w = Window("2019-05", "2019-05")
    names = ["Honduras", "Mexico", "Other"]
    model_monthly = daily.assign(month=daily.date.dt.strftime("%Y-%m")).groupby(["month", "metric"], as_index=False
                                                                               ).value.sum()
    model_monthly = model_monthly.rename(columns={"metric": "series"})
    _, obs_usbp = _pairs_tables(with_sw=False)
    assert nationality_targets(obs_usbp, names, w) == {"Honduras": 1550.0, "Mexico": 1550.0, "Other": 0.0}
    assert model_nationality_totals(model_monthly, names, w, obs_usbp)["Honduras"] == 70.0 * 31
    assert nationality_targets(obs, names, w)["Honduras"] == 1860.0
    assert model_nationality_totals(model_monthly, names, w, obs)["Honduras"] == 60.0 * 31
    assert model_nationality_totals(model_monthly, names, w)["Honduras"] == 60.0 * 31   # no observed: as before


def test_a_window_across_oct_2019_takes_each_month_from_its_own_table():
    """Sep 2019 has only Border Patrol by citizenship, Oct 2019 CBP's SW table: each month uses its own."""
    daily_sep, obs_sep = _pairs_tables(with_sw=False)
    daily_oct, obs_oct = _pairs_tables(with_sw=True)
    daily_sep = daily_sep.assign(date=daily_sep.date - pd.Timedelta(days=243))      # 2018-09-..: shift to Sep 2018
    obs_sep = obs_sep.assign(month="2018-09")
    daily_oct = daily_oct.assign(date=daily_oct.date.map(lambda d: d.replace(month=10)))
    obs_oct = obs_oct.assign(month="2019-10")
    daily = pd.concat([daily_sep, daily_oct], ignore_index=True)
    daily = daily[daily.date.dt.strftime("%Y-%m").isin(["2018-09", "2019-10"])]
    obs = pd.concat([obs_sep, obs_oct], ignore_index=True)
    s = compare(daily, obs).summary
    assert s["nationality_share_series"] == "usbp_nationality 2018-09..2018-09; sw_encounters 2019-10..2019-10"
    assert s["nationality_share_mae_pp"] == pytest.approx(10.0)     # 20 pp in Sep, 0 in Oct
    w = Window("2018-09", "2019-10")
    assert nationality_targets(obs, ["Honduras", "Mexico"], w)["Honduras"] == 1550.0 + 1860.0


def test_short_run_balances_and_the_june_step_raises_mexicos_detentions(short_runs):
    df = short_runs["step"]
    last = df[df.date == df.date.max()]
    created = float(last[last.metric == "agents_created"].value.iloc[0])     # a stock: everyone created so far
    assert created > 0
    assert last[last.metric.str.startswith("population:")].value.sum() == pytest.approx(created)
    det = {k: v[v.metric == "mexico_detentions"].set_index("date").value for k, v in short_runs.items()}
    step = pd.Timestamp("2019-06-10")
    days = pd.to_datetime(det["step"].index)
    before = det["step"][days < step]
    assert len(before) > 100 and (before == det["no_step"][before.index]).all()   # the same run before the step
    after = det["step"].index[days >= step]
    assert det["step"][after].sum() > 1.3 * det["no_step"][after].sum()


def test_usbp_nationality_sums_to_usbp_encounters(short_runs):
    df = short_runs["step"]
    nat = df[df.metric.str.startswith("usbp_nationality:")].groupby("date").value.sum()
    usbp = df[df.metric == "usbp_encounters"].set_index("date").value
    assert usbp.sum() > 0
    assert (nat - usbp[nat.index]).abs().max() < 1e-6


def test_the_fit_runs_keep_border_patrol_encounters_by_nationality():
    """Ratio scaling of the 2019 base rates compares like with like: the fit's runs keep usbp_nationality."""
    from corridor.batch.calibration.objective import SCORED_PREFIXES
    assert any("usbp_nationality:Mexico".startswith(p) for p in SCORED_PREFIXES)


def test_the_report_scores_2019_on_its_own_calibration_windows():
    """A run of us-mexico-2019 is reported on 2019's training months (us-mexico.targets.yaml `joint:`), not on
    us-mexico's 2022-23 windows, which it does not cover."""
    from corridor.report.fit import fit_table, fit_windows
    assert fit_windows("us-mexico-2019")[0] == ("training", ("2019-01", "2019-12"))
    assert fit_windows("us-mexico")[0] == ("training", ("2022-10", "2023-09"))
    run = Simulation.from_scenario("us-mexico-2019", seed=1, scale=SCALE, overrides=["end=2019-12-31"]).run().to_df()
    table = fit_table(run, load_observed(), "us-mexico-2019")
    assert table.window.iloc[0] == "training" and table.months.iloc[0] == "2019-01..2019-12"
    assert "validation" not in set(table.window)                     # Jan - Feb 2020 lie after this run
    assert table["sw_encounters MAPE %"].iloc[0] > 0
    assert fit_table(run, load_observed(), "us-mexico").empty      # us-mexico's windows lie after this run
