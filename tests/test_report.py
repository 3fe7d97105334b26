"""Tests for corridor.report: synthetic runs → self-contained HTML report, checked as text and in chromium."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from corridor.report import (SECTION_TITLES, ReportLabels, WorldTables, daily_table, is_stock, monthly_table,
                             report_totals, write_report)

SECTORS = ["San Diego", "El Centro", "Yuma", "Tucson", "El Paso", "Big Bend", "Del Rio", "Laredo",
           "Rio Grande Valley"]
NATIONS = ["Mexico", "Guatemala", "Honduras", "Venezuela", "Cuba", "Haiti", "Colombia",
           "China, Peoples Republic Of", "India", "Other"]
CITIES = ["Tijuana", "Ciudad Juárez", "Reynosa"]
CHROMIUM = "/usr/bin/chromium"


def _world() -> WorldTables:
    places = pd.DataFrame({
        "id": ["tapachula", "cdmx", "juarez", "paso_del_norte"],
        "name": ["Tapachula", "Mexico City", "Ciudad Juárez", "Paso del Norte"],
        "kind": ["transit", "transit", "border_city", "crossing"],
        "country": ["MX", "MX", "MX", "US"],
        "lat": [14.90, 19.43, 31.69, 31.76],
        "lon": [-92.26, -99.13, -106.42, -106.45],
    })
    legs = pd.DataFrame({
        "id": ["tap-cdmx-bus", "tap-cdmx-train", "cdmx-juarez-train"],
        "from_place": ["tapachula", "tapachula", "cdmx"],
        "to_place": ["cdmx", "cdmx", "juarez"],
        "mode": ["bus", "train", "train"],
    })
    # the totals period a scenario's labels file would give (us-mexico's: the half year after the talks)
    return WorldTables(places, legs, labels=ReportLabels(totals_period=("2024-01-01", "2024-06-30")))


def _run(level: float, seed: int, start="2023-11-01", end="2024-02-29", closed=True) -> pd.DataFrame:
    """Daily tidy metrics for one synthetic scenario; `level` scales the flows."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range(start, end, freq="D")
    n = len(dates)
    cols: dict[str, np.ndarray] = {}

    def pois(lam):
        return rng.poisson(lam, n).astype(float)

    for i, s in enumerate(SECTORS):
        cols[f"usbp_encounters:{s}"] = pois(level * (900 - 80 * i))
        cols[f"custody_population:{s}"] = 2000 + 300 * np.sin(np.arange(n) / 9 + i) * level + i * 100
        cols[f"holding_capacity:{s}"] = np.full(n, 2200.0)
    cols["usbp_encounters"] = sum(cols[f"usbp_encounters:{s}"] for s in SECTORS)
    cols["ofo_encounters"] = pois(level * 1400)
    cols["sw_encounters"] = cols["usbp_encounters"] + cols["ofo_encounters"]
    share = np.linspace(3, 1, len(NATIONS))
    share /= share.sum()
    for c, w in zip(NATIONS, share):
        cols[f"sw_encounters:{c}"] = np.round(cols["sw_encounters"] * w)
    cols["darien_crossings"] = pois(level * 1000)
    cols["mexico_detentions"] = pois(2200 / level)
    for c in CITIES:
        cols[f"waiting_population:{c}"] = 3000 * level + 50 * np.arange(n) / 10
    cols["place_population:tapachula"] = np.full(n, 40000.0 * level)
    cols["place_population:cdmx"] = np.full(n, 8000.0)
    cols["place_population:juarez"] = cols["waiting_population:Ciudad Juárez"]
    for leg, lam in {"tap-cdmx-bus": 600, "tap-cdmx-train": 300, "cdmx-juarez-train": 700}.items():
        cols[f"leg_flow:{leg}"] = pois(lam * level)
    cols["releases"] = pois(level * 3000)
    cols["removals"] = pois(500)
    cols["returns_to_mexico"] = pois(400)
    cols["repeat_encounters"] = pois(level * 700)
    cols["agents_created"] = np.cumsum(pois(5000))
    cols["population:in_transit"] = np.full(n, 100000.0)
    cols["crossing_open:paso_del_norte"] = np.where((dates >= "2023-12-18") & closed, 0.0, 1.0)
    cols["trade_blocked_usd"] = (1 - cols["crossing_open:paso_del_norte"]) * 2.5e7
    cols["mexico_personnel"] = np.where(dates >= "2023-12-28", 32000.0 * level, 30000.0)
    cols["stranded_mexico"] = sum(cols[f"waiting_population:{c}"] for c in CITIES) + 20000
    cols["custody_over_capacity"] = sum(np.clip(cols[f"custody_population:{s}"] - 2200, 0, None)
                                        for s in SECTORS)
    cols["rule_active:asylum_proclamation"] = (pd.Series(cols["usbp_encounters"]).rolling(7).mean()
                                               .ge(5200).astype(float).to_numpy())
    wide = pd.DataFrame(cols, index=dates)
    tidy = wide.rename_axis("date").reset_index().melt(id_vars="date", var_name="metric", value_name="value")
    return tidy


def _observed() -> pd.DataFrame:
    months = pd.period_range("2022-01", "2023-12", freq="M").astype(str)
    rows = []
    for i, m in enumerate(months):
        rows.append((m, "sw_encounters", 180000 + 3000 * i))
        rows.append((m, "darien_crossings", 20000 + 2000 * i))
        for j, s in enumerate(SECTORS):
            rows.append((m, f"usbp_encounters:{s}", 20000 - 1500 * j + 200 * i))
        rows.append((m, "sw_encounters:Venezuela", 20000 + 800 * i))
    return pd.DataFrame(rows, columns=["month", "series", "value"])


NOTES = {
    "status-quo": "Crossings stay closed; nothing else changes.",
    "contention": "Mexico raises enforcement: more detentions in Mexico, fewer arrivals at the US border.",
}


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report")
    runs = {"status-quo": _run(1.0, 1), "contention": _run(0.8, 2, closed=False)}
    bands = {}
    for name, df in runs.items():
        b = df[df["metric"].isin(["sw_encounters", "darien_crossings"])].copy()
        for q, f in zip(["q05", "q25", "q50", "q75", "q95"], [0.8, 0.9, 1.0, 1.1, 1.2]):
            b[q] = b["value"] * f
        bands[name] = b.drop(columns="value")
    return write_report(out, runs, _world(), observed=_observed(), title="test report", notes=NOTES,
                        bands=bands)


def test_html_exists_with_every_section(report: Path):
    assert report.name == "report.html" and report.exists()
    text = report.read_text(encoding="utf-8")
    for title in SECTION_TITLES.values():
        assert f">{title}</h2>" in text.replace("&amp;", "&"), title
    for note in NOTES.values():
        assert note in text
    assert "Figure skipped" not in text  # every metric is present


def test_fit_section_matches_validate(report: Path):
    """The fit table scores the baseline run on the calibration windows it covers, as `corridor validate` does."""
    from corridor.analysis.validate import VALIDATION_MONTHS, compare
    fit = pd.read_csv(report.parent / "fit.csv")
    assert list(fit["window"]) == ["validation", "whole period"]   # the runs start in Nov 2023: no training months
    expect = compare(_run(1.0, 1), _observed(), VALIDATION_MONTHS).series["sw_encounters"]
    row = fit.set_index("window").loc["validation"]
    assert row["sw_encounters MAPE %"] == pytest.approx(expect.mape)
    assert row["same month last year MAPE %"] == pytest.approx(expect.baseline_same_month_last_year_mape)
    res = compare(_run(1.0, 1), _observed(), VALIDATION_MONTHS)
    d = res.pairs[res.pairs["series"] == "darien_crossings"]
    total_error = row["darien_crossings total error %"]
    assert total_error == pytest.approx(100.0 * (d["model"].sum() / d["observed"].sum() - 1.0))
    assert (total_error > 0) == (res.series["darien_crossings"].bias > 0)   # the same sign as validate's bias
    assert "never on the validation months" in report.read_text(encoding="utf-8")


def test_self_contained(report: Path):
    text = report.read_text(encoding="utf-8")
    assert "http://" not in text and "https://" not in text
    assert not re.search(r"<script", text, re.I)
    srcs = re.findall(r"<img[^>]*src='([^']*)'", text)
    assert len(srcs) >= 12
    assert all(s.startswith("data:image/png;base64,") for s in srcs)
    assert not re.search(r"(href|src)=['\"](?!data:|#)", text)
    figs = sorted(p.name for p in (report.parent / "figures").glob("*.png"))
    assert {"sw_daily.png", "sw_monthly.png", "sectors.png", "nationalities.png", "custody.png", "waiting.png",
            "outcomes.png", "mexico_detentions.png", "darien.png", "map_status-quo.png",
            "map_contention.png"} <= set(figs)
    assert not [p for p in report.parent.iterdir() if p.name.endswith(".tmp")]


def test_totals_period_shrinks_and_differences(report: Path):
    tot = pd.read_csv(report.parent / "totals.csv")
    assert set(tot["scenario"]) == {"status-quo", "contention"}
    assert str(tot["start"].iloc[0]).startswith("2024-01-01") and str(tot["end"].iloc[0]).startswith("2024-02-29")
    text = report.read_text(encoding="utf-8")
    assert "shrunk to the days all runs cover: 2024-01-01–2024-02-29" in text
    row = tot[(tot["quantity"] == "Days of crossing closure (summed over crossings)")].set_index("scenario")
    assert row.at["status-quo", "value"] == 60  # Jan + Feb 2024 closed
    assert row.at["contention", "value"] == 0 and row.at["contention", "difference"] == -60
    trade = tot[tot["quantity"] == "Trade through closed crossings"].set_index("scenario")
    assert trade.at["status-quo", "value"] == pytest.approx(60 * 2.5e7)
    enc = tot[tot["quantity"] == "US southwest encounters"].set_index("scenario")
    assert enc.at["contention", "difference"] < 0
    assert enc.at["status-quo", "difference"] == 0


def test_missing_metrics_are_skipped_and_said(tmp_path: Path):
    runs = {"a": _run(1.0, 3, end="2023-12-15"), "b": _run(1.2, 4, end="2023-12-15")}
    runs = {k: v[~v["metric"].str.startswith(("custody_population:", "darien", "leg_flow:"))]
            for k, v in runs.items()}
    path = write_report(tmp_path, runs, _world(), baseline="b")
    text = path.read_text(encoding="utf-8")
    assert "Figure skipped: no run reports custody_population:&lt;sector&gt;." in text
    assert "Figure skipped: no run reports darien_crossings." in text
    assert "No leg_flow:&lt;leg id&gt; metrics" in text
    assert "do not cover the requested period" in text
    tot = pd.read_csv(tmp_path / "totals.csv")
    assert tot.loc[tot["quantity"] == "Darién crossings", "value"].isna().all()
    assert (tot.loc[tot["scenario"] == "b", "difference"].dropna() == 0).all()


def test_monthly_aggregation_sums_flows_and_averages_stocks():
    df = pd.DataFrame({"date": list(pd.date_range("2024-01-01", "2024-02-10")) * 2,
                       "metric": ["sw_encounters"] * 41 + ["stranded_mexico"] * 41, "value": [2.0] * 82})
    m = monthly_table(daily_table(df))
    assert m.loc["2024-01-01", "sw_encounters"] == 62
    assert np.isnan(m.loc["2024-02-01", "sw_encounters"])  # partial month left out
    assert m.loc["2024-02-01", "stranded_mexico"] == 2
    assert is_stock("custody_population:Yuma") and not is_stock("leg_flow:x")


def test_report_totals_and_bad_baseline(tmp_path: Path):
    runs = {"x": _run(1.0, 5, end="2024-01-31"), "status-quo": _run(1.0, 5, end="2024-01-31")}
    tot = report_totals(runs)
    assert (tot["difference"].dropna() == 0).all()  # same seed, same run
    with pytest.raises(ValueError, match="baseline"):
        write_report(tmp_path / "out", runs, _world(), baseline="nope")
    assert not (tmp_path / "out").exists()


def test_report_in_chromium(report: Path, tmp_path: Path):
    """Open the report from disk in Debian's chromium: no failed requests, no console errors, images decode."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is absent (CI installs Debian's chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    failed, errors, requests = [], [], []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-sync"])
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            page.on("requestfailed", lambda r: failed.append(f"{r.url} {r.failure}"))
            page.on("request", lambda r: requests.append(r.url))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(report.resolve().as_uri(), wait_until="load")
            widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")
            titles = page.eval_on_selector_all("h2", "hs => hs.map(h => h.textContent)")
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        finally:
            browser.close()
    assert not failed, failed
    assert not errors, errors
    assert widths and all(w > 0 for w in widths), widths
    assert titles == list(SECTION_TITLES.values())
    assert all(u.startswith(("file://", "data:")) for u in requests), requests
    assert (tmp_path / "report.png").stat().st_size > 10_000


# ----------------------------------------------------------------------------- the scenario's sectors and labels

def _two_sector_run(sectors: list[str]) -> pd.DataFrame:
    """A small run whose sector metrics name `sectors` (listed in the table in reverse alphabetical order)."""
    dates = pd.date_range("2024-01-01", "2024-02-29", freq="D")
    cols = {"sw_encounters": np.full(len(dates), 100.0)}
    for i, s in enumerate(sorted(sectors, reverse=True)):
        cols[f"usbp_encounters:{s}"] = np.full(len(dates), 10.0 * (i + 1))
        cols[f"custody_population:{s}"] = np.full(len(dates), 50.0)
        cols[f"holding_capacity:{s}"] = np.full(len(dates), 80.0)
    wide = pd.DataFrame(cols, index=dates)
    return wide.rename_axis("date").reset_index().melt(id_vars="date", var_name="metric", value_name="value")


def _panel_titles(fig) -> list[str]:
    return [ax.get_title() for ax in fig.axes if ax.get_visible()]


def test_sector_panels_follow_the_scenario_order():
    """Sector panels go in the order the scenario lists its sectors, not alphabetically nor by a list in code."""
    from corridor.report.prepare import prepare
    from corridor.report.series import fig_custody, fig_sectors
    order = ["Yuma", "Alpha Sector", "Mid"]
    world = _world()
    world.sectors = order
    data = prepare({"a": _two_sector_run(order)}, world, None, None, None, None)
    assert _panel_titles(fig_sectors(data)) == order
    assert _panel_titles(fig_custody(data)) == order
    # a sector the scenario does not list comes after the listed ones
    world.sectors = ["Mid"]
    data = prepare({"a": _two_sector_run(order)}, world, None, None, None, None)
    assert _panel_titles(fig_sectors(data))[0] == "Mid"


def test_world_tables_carry_the_scenario_sectors_and_labels():
    from corridor.report import labels_for
    from corridor.scenario import load
    us = load("us-mexico")
    tables = WorldTables.from_scenario(us)
    assert tables.sectors == [s.name for s in us.sectors]          # file order, west to east
    assert tables.labels.baseline == "status-quo" and tables.labels.map_extent is not None
    assert labels_for("caravan") == tables.labels                 # caravan extends status-quo extends us-mexico
    mini = WorldTables.from_scenario(load(Path(__file__).parent / "data" / "mini.yaml"))
    assert mini.sectors == ["Rio Grande Valley", "El Paso"]
    assert mini.labels == ReportLabels()                          # no labels file: generic choices
    assert labels_for("no-such-scenario") == ReportLabels()


def test_a_scenario_with_other_sectors_and_no_labels_renders(tmp_path: Path):
    """Sectors the us-mexico corridor does not have, no labels file: every figure drawn, totals over the
    days the runs share, the first run as baseline."""
    sectors = ["Côte Nord", "Sud"]
    world = WorldTables(_world().places, _world().legs, sectors=sectors)
    first = _two_sector_run(sectors)
    runs = {"first": first[first["date"] <= "2024-02-15"], "status-quo": _two_sector_run(sectors)}
    path = write_report(tmp_path, runs, world)
    text = path.read_text(encoding="utf-8")
    assert "usbp_encounters:&lt;sector&gt;" not in text and "custody_population:&lt;sector&gt;" not in text
    assert {"sectors.png", "custody.png", "map_first.png"} <= {p.name for p in (tmp_path / "figures").iterdir()}
    assert "Period: 2024-01-01–2024-02-15, the days all runs cover." in text
    assert "first (baseline)" in text
    tot = pd.read_csv(tmp_path / "totals.csv")
    enc = tot[tot["quantity"] == "US southwest encounters"].set_index("scenario")
    assert enc.at["first", "difference"] == 0 and enc.at["status-quo", "baseline_value"] == 100 * 46
