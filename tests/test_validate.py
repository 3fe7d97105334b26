"""observed.py and validate.py on small synthetic tables whose errors are computed by hand."""
from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from rich.console import Console

from corridor.errors import InputError
from corridor.analysis.observed import bundled_path, is_stock, load_observed, monthly_from_run, shift_month
from corridor.analysis.validate import compare


def daily(metric: str, start: str, end: str, per_day) -> pd.DataFrame:
    """One metric, one row per day; per_day is a number or a function of the date."""
    days = pd.date_range(start, end)
    values = [per_day(d) if callable(per_day) else per_day for d in days]
    return pd.DataFrame({"date": days.date, "metric": metric, "value": pd.Series(values, dtype="float64")})


def write_run(tmp_path, *tables, name: str = "run") -> str:
    run = tmp_path / name
    run.mkdir()
    pd.concat(tables, ignore_index=True).to_parquet(run / "metrics.parquet", index=False)
    (run / "run.json").write_text("{}")
    return str(run)


def write_csv(tmp_path, text: str, name: str = "obs.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


# Model: 100/day in Jan 2023 (3100), 100/day in Feb (2800). Observed: 3000, 2000.
# Errors: +100 (3.333%), +800 (40%). MAPE 21.667, bias 450, MAE 450, ARD 900/5000 = 0.18.
OBS = """month,series,value
2022-01,sw_encounters,1000
2022-02,sw_encounters,4000
2022-12,sw_encounters,1500
2023-01,sw_encounters,3000
2023-02,sw_encounters,2000
2023-01,darien_crossings,50
"""


@pytest.fixture
def simple(tmp_path):
    run = write_run(tmp_path, daily("sw_encounters", "2023-01-01", "2023-02-28", 100.0))
    return run, write_csv(tmp_path, OBS)


def test_errors_and_baselines_match_hand_computation(simple):
    run, obs = simple
    score = compare(run, obs).series["sw_encounters"]
    assert score.months == 2
    assert score.mape == pytest.approx((100 / 3000 + 800 / 2000) / 2 * 100)
    assert score.bias == pytest.approx(450.0)
    assert score.mae == pytest.approx(450.0)
    assert score.ard == pytest.approx(900 / 5000)
    # last value: Dec 2022 = 1500 for both months -> (1500/3000 + 500/2000)/2
    assert score.baseline_last_value_mape == pytest.approx((1500 / 3000 + 500 / 2000) / 2 * 100)
    # same month last year: 1000 for Jan, 4000 for Feb -> (2000/3000 + 2000/2000)/2
    assert score.baseline_same_month_last_year_mape == pytest.approx((2000 / 3000 + 1.0) / 2 * 100)
    assert score.beats_baselines


def test_baselines_are_none_when_their_months_are_missing(tmp_path):
    run = write_run(tmp_path, daily("sw_encounters", "2023-01-01", "2023-01-31", 100.0))
    obs = write_csv(tmp_path, "month,series,value\n2023-01,sw_encounters,3000\n")
    score = compare(run, obs).series["sw_encounters"]
    assert score.mape == pytest.approx(100 / 3000 * 100)
    assert score.baseline_last_value_mape is None
    assert score.baseline_same_month_last_year_mape is None
    assert not score.beats_baselines


def test_window_restricts_months_but_baselines_see_before_it(simple):
    run, obs = simple
    result = compare(run, obs, months=("2023-02", None))
    score = result.series["sw_encounters"]
    assert score.months == 1
    assert score.mape == pytest.approx(40.0)
    assert score.baseline_last_value_mape == pytest.approx(1000 / 2000 * 100)  # Jan 2023 = 3000 forecasts Feb
    assert result.summary["window"] == ["2023-02", None]
    with pytest.raises(InputError, match="2024-01"):
        compare(run, obs, months=("2024-01", "2024-06"))
    with pytest.raises(InputError, match="'2023-2'"):
        compare(run, obs, months=("2023-2", None))


def test_flows_sum_complete_months_only_and_stocks_average(tmp_path):
    metrics = pd.concat([
        daily("sw_encounters", "2023-01-15", "2023-03-10", 10.0),  # Jan and Mar partial
        daily("custody_population:Tucson", "2023-01-15", "2023-03-10", lambda d: float(d.day)),
    ])
    monthly = monthly_from_run(metrics)
    flows = monthly[monthly["series"] == "sw_encounters"]
    assert list(flows["month"]) == ["2023-02"]
    assert flows["value"].tolist() == [280.0]
    stocks = monthly[monthly["series"] == "custody_population:Tucson"].set_index("month")["value"]
    assert stocks["2023-01"] == pytest.approx(sum(range(15, 32)) / 17)  # mean over days present
    assert stocks["2023-02"] == pytest.approx(sum(range(1, 29)) / 28)
    assert stocks["2023-03"] == pytest.approx(5.5)
    assert monthly["value"].dtype == "float64"


def test_is_stock():
    assert is_stock("custody_population:Tucson")
    assert is_stock("agents_created")
    assert is_stock("mexico_enforcement")
    assert not is_stock("sw_encounters:Venezuela")
    assert not is_stock("usbp_encounters:Tucson")


def test_series_only_on_one_side_are_ignored(simple):
    run, obs = simple
    result = compare(run, obs)
    assert set(result.series) == {"sw_encounters"}  # darien_crossings is observed but not simulated


def test_sector_and_nationality_shares(tmp_path):
    # Model splits 60/40 between two sectors every day; observed is 50/50 -> 10 pp error.
    # Nationality: model Venezuela 30 of 100 a day, observed 20 of 100 -> 10 pp.
    run = write_run(
        tmp_path,
        daily("usbp_encounters:Tucson", "2023-01-01", "2023-01-31", 6.0),
        daily("usbp_encounters:Del Rio", "2023-01-01", "2023-01-31", 4.0),
        daily("sw_encounters", "2023-01-01", "2023-01-31", 100.0),
        daily("sw_encounters:Venezuela", "2023-01-01", "2023-01-31", 30.0),
        daily("sw_encounters:Other", "2023-01-01", "2023-01-31", 70.0),
    )
    obs = write_csv(tmp_path, """month,series,value
2023-01,usbp_encounters:Tucson,155
2023-01,usbp_encounters:Del Rio,155
2023-01,sw_encounters,3100
2023-01,sw_encounters:Venezuela,620
2023-01,sw_encounters:Other,2480
""")
    summary = compare(run, obs).summary
    assert summary["sector_share_mae_pp"] == pytest.approx(10.0)
    assert summary["sector_share_sectors"] == ["Del Rio", "Tucson"]
    assert summary["nationality_share_mae_pp"] == pytest.approx(10.0)
    assert summary["nationality_share_top"] == ["Venezuela"]


def test_json_shape_and_render(simple):
    run, obs = simple
    result = compare(run, obs)
    data = json.loads(json.dumps(result.to_json()))  # plain JSON types only
    assert set(data) == {"series", "summary"}
    assert set(data["series"]["sw_encounters"]) == {
        "mape", "mae", "bias", "ard", "months", "baseline_last_value_mape", "baseline_same_month_last_year_mape",
    }
    assert data["summary"]["sector_share_mae_pp"] is None  # no sectors: null, not NaN
    assert data["summary"]["mean_mape"] == pytest.approx(result.series["sw_encounters"].mape)
    out = io.StringIO()
    result.render(Console(file=out, width=160))
    text = out.getvalue()
    assert "sw_encounters" in text and "21.7%" in text and "✓" in text


def test_accepts_a_metrics_table_and_an_observed_table(simple, tmp_path):
    run, obs = simple
    metrics = pd.read_parquet(f"{run}/metrics.parquet")
    score = compare(metrics, load_observed(obs)).series["sw_encounters"]
    assert score.bias == pytest.approx(450.0)


def test_bundled_monthly_loads():
    observed = load_observed()
    assert list(observed.columns) == ["month", "series", "value"]
    dec = observed[(observed["series"] == "sw_encounters") & (observed["month"] == "2023-12")]
    assert dec["value"].tolist() == [301981.0]
    assert "sw_encounters:China, Peoples Republic Of" in set(observed["series"])  # quoted comma survives
    assert bundled_path("monthly.csv").is_file()


def test_shift_month():
    assert shift_month("2023-01", -1) == "2022-12"
    assert shift_month("2023-12", -12) == "2022-12"
    assert shift_month("2023-12", 1) == "2024-01"


@pytest.mark.parametrize(
    "text, fragments",
    [
        ("month,series,value\n2023-13,sw_encounters,5\n", ["line 2", "'2023-13'", "YYYY-MM"]),
        ("month,series,value\n2023-01,a,1\nJan 2023,sw_encounters,5\n", ["line 3", "'Jan 2023'"]),
        ("month,series,value\n2023-01,sw_encounters,lots\n", ["line 2", "'lots'", "not a number"]),
        ("month,series,value\n2023-01,sw_encounters,\n", ["line 2", "''", "not a number"]),
        ("month,series,value\n2023-01,a,1\n2023-01,a,2\n", ["lines 2, 3", "duplicate", "'a'"]),
        ("month,series\n2023-01,a\n", ["lacks column(s) value", "found month, series"]),
        ("", ["is empty"]),
        ("month,series,value\n", ["no rows"]),
    ],
)
def test_bad_observed_files_name_file_and_value(tmp_path, text, fragments):
    path = write_csv(tmp_path, text, "bad.csv")
    with pytest.raises(InputError) as err:
        load_observed(path)
    message = str(err.value)
    assert str(path) in message and "\n" not in message
    for fragment in fragments:
        assert fragment in message


def test_missing_observed_file(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_observed(tmp_path / "nope.csv")


def test_bad_runs(tmp_path, simple):
    _, obs = simple
    empty = tmp_path / "empty_run"
    empty.mkdir()
    with pytest.raises(InputError, match="has no metrics.parquet"):
        compare(empty, obs)

    wrong = tmp_path / "wrong_run"
    wrong.mkdir()
    pd.DataFrame({"day": ["2023-01-01"], "name": ["x"], "value": [1.0]}).to_parquet(wrong / "metrics.parquet")
    with pytest.raises(InputError, match=r"lacks column\(s\) date, metric"):
        compare(wrong, obs)

    other = write_run(tmp_path, daily("custody_population:Tucson", "2023-01-01", "2023-01-31", 5.0), name="other")
    with pytest.raises(InputError) as err:
        compare(other, obs)
    message = str(err.value)
    assert "no series in common" in message and "custody_population:Tucson" in message and "darien_crossings" in message
    assert str(obs) in message

    later = tmp_path / "later"
    later.mkdir()
    daily("sw_encounters", "2024-01-01", "2024-01-31", 1.0).to_parquet(later / "metrics.parquet")
    with pytest.raises(InputError, match="no months in common.*2024-01"):
        compare(later, obs)


def test_duplicate_days_in_metrics_are_refused():
    metrics = pd.concat([daily("sw_encounters", "2023-01-01", "2023-01-02", 1.0)] * 2)
    with pytest.raises(InputError, match="more than one row for 2023-01-01"):
        monthly_from_run(metrics)
