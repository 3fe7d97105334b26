"""Self-contained HTML report comparing scenario runs.

``write_report`` turns each run's tidy metrics table (date, metric, value) into figures
(matplotlib, Agg canvas, embedded as base64 PNG and also saved under ``figures/``), a map of the
corridor drawn from the bundled Natural Earth outlines, and a table of totals over a period with
differences from a baseline scenario. The page loads nothing from anywhere: no URLs, no scripts.

Nothing here touches global matplotlib state: figures are ``matplotlib.figure.Figure`` objects
rendered with ``FigureCanvasAgg`` inside an ``rc_context``; pyplot is never imported.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from .errors import InputError
from .analysis.observed import is_stock
from .results import atomic_write
from .analysis.validate import TRAINING_MONTHS, VALIDATION_MONTHS, compare

__all__ = ["WorldTables", "write_report", "SECTION_TITLES", "DEFAULT_PERIOD", "report_totals"]

DEFAULT_PERIOD = ("2024-01-01", "2024-06-30")

SECTION_TITLES = {
    "scenarios": "Scenarios",
    "fit": "Fit to the observed record",
    "encounters": "US southwest border encounters",
    "breakdown": "Encounters by sector and nationality",
    "mexico": "Mexican detentions and Darién crossings",
    "custody": "US custody and people waiting in Mexico",
    "outcomes": "Returns, removals, releases and repeat encounters",
    "levers": "Levers over time",
    "map": "Map of the corridor",
    "totals": "Totals and differences from the baseline",
}

SECTORS = ["San Diego", "El Centro", "Yuma", "Tucson", "El Paso", "Big Bend", "Del Rio", "Laredo",
           "Rio Grande Valley"]

MODE_COLOURS = {"foot": "#8c564b", "bus": "#1f77b4", "train": "#9467bd", "truck": "#ff7f0e",
                "boat": "#17becf", "air": "#7f7f7f"}

OBS_COLOUR = "#222222"
OBS_LOOKBACK_MONTHS = 12  # observed months shown before a run starts
GEOJSON = ("data", "geo", "americas-50m.geojson")
MAP_EXTENT = (-120.0, -60.0, -5.0, 35.0)  # lon min, lon max, lat min, lat max


@dataclass
class WorldTables:
    """The corridor's graph for the map.

    places: id, name, kind (origin/transit/checkpoint/border_city/crossing/sector/sink), country, lat, lon.
    legs: id, from_place, to_place, mode (foot/bus/train/truck/boat/air).
    """

    places: pd.DataFrame
    legs: pd.DataFrame

    @classmethod
    def from_scenario(cls, sc) -> "WorldTables":
        """Places and legs of a scenario (`corridor.scenario.Scenario`) for the report's map."""
        places = pd.DataFrame([{"id": p.id, "name": p.name, "kind": p.kind, "country": p.country, "lat": p.lat,
                                "lon": p.lon} for p in sc.places])
        legs = pd.DataFrame([{"id": l.id, "from_place": l.from_place, "to_place": l.to_place, "mode": l.mode}
                             for l in sc.legs])
        return cls(places=places, legs=legs)


# --------------------------------------------------------------------------------------------
# data preparation
# --------------------------------------------------------------------------------------------

def _wide_daily(df: pd.DataFrame) -> pd.DataFrame:
    """Tidy (date, metric, value) → wide table indexed by day, one column per metric."""
    if df is None or len(df) == 0:
        return pd.DataFrame(index=pd.DatetimeIndex([], name="date"))
    t = pd.DataFrame({
        "date": pd.to_datetime(df["date"]).dt.normalize(),
        "metric": df["metric"].astype(str),
        "value": pd.to_numeric(df["value"], errors="coerce").astype(float),
    })
    wide = t.pivot_table(index="date", columns="metric", values="value", aggfunc="sum")
    wide.columns = [str(c) for c in wide.columns]
    return wide.sort_index()


def _monthly(wide: pd.DataFrame) -> pd.DataFrame:
    """Daily wide table → monthly (month-start index): flows summed, stocks averaged.

    Months a run covers only in part are left out for flows (a partial sum would look like a fall),
    unless the run covers no whole month at all.
    """
    if wide.empty:
        return pd.DataFrame(index=pd.DatetimeIndex([], name="month"))
    month = wide.index.to_period("M").to_timestamp()
    grouped = wide.groupby(month)
    flows = [c for c in wide.columns if not is_stock(c)]
    stocks = [c for c in wide.columns if is_stock(c)]
    out = pd.concat([grouped[flows].sum(min_count=1), grouped[stocks].mean()], axis=1)
    ndays = grouped.size()
    full = ndays.values == out.index.days_in_month
    if full.any() and flows:
        out.loc[~full, flows] = np.nan
    out.index.name = "month"
    return out[list(wide.columns)]


def _wide_observed(observed: pd.DataFrame | None) -> pd.DataFrame:
    """Tidy observed (month, series, value) → wide monthly table."""
    if observed is None or len(observed) == 0:
        return pd.DataFrame(index=pd.DatetimeIndex([], name="month"))
    col = "month" if "month" in observed.columns else "date"
    m = observed[col]
    if isinstance(m.dtype, pd.PeriodDtype):
        m = m.dt.to_timestamp()
    else:
        m = pd.to_datetime(m.astype(str))
    t = pd.DataFrame({"month": m.dt.to_period("M").dt.to_timestamp(),
                      "series": observed["series"].astype(str),
                      "value": pd.to_numeric(observed["value"], errors="coerce").astype(float)})
    wide = t.pivot_table(index="month", columns="series", values="value", aggfunc="sum")
    wide.columns = [str(c) for c in wide.columns]
    return wide.sort_index()


_QS = ("q05", "q25", "q50", "q75", "q95")


def _wide_bands(df: pd.DataFrame | None) -> dict[str, pd.DataFrame]:
    """Tidy quantile table (date, metric, q05..q95) → {quantile: wide daily table}."""
    if df is None or len(df) == 0:
        return {}
    t = df.copy()
    t["date"] = pd.to_datetime(t["date"]).dt.normalize()
    t["metric"] = t["metric"].astype(str)
    out = {}
    for q in _QS:
        if q in t.columns:
            w = t.pivot_table(index="date", columns="metric", values=q, aggfunc="sum").sort_index()
            w.columns = [str(c) for c in w.columns]
            out[q] = w
    return out if len(out) == len(_QS) else {}


@dataclass
class _Data:
    """Everything the figures need, prepared once."""

    names: list[str]
    baseline: str
    colours: dict[str, str]
    daily: dict[str, pd.DataFrame]
    monthly: dict[str, pd.DataFrame]
    obs: pd.DataFrame
    bands: dict[str, dict[str, pd.DataFrame]]
    bands_monthly: dict[str, dict[str, pd.DataFrame]]
    period: tuple[pd.Timestamp, pd.Timestamp] | None
    period_note: str
    notes: list[str] = field(default_factory=list)

    def has(self, metric: str) -> bool:
        return any(metric in d.columns for d in self.daily.values())

    def with_prefix(self, prefix: str) -> list[str]:
        found: dict[str, None] = {}
        for d in self.daily.values():
            for c in d.columns:
                if c.startswith(prefix):
                    found[c] = None
        return list(found)

    def first_month(self) -> pd.Timestamp | None:
        starts = [d.index.min() for d in self.daily.values() if not d.empty]
        return min(starts).to_period("M").to_timestamp() if starts else None


def _scenario_colours(names: list[str], baseline: str) -> dict[str, str]:
    """Baseline in black, the others from tab10 (tab20 beyond ten)."""
    from matplotlib import colormaps

    others = [n for n in names if n != baseline]
    cmap = colormaps["tab10" if len(others) <= 10 else "tab20"]
    out = {baseline: "#000000"}
    for i, n in enumerate(others):
        out[n] = _hex(cmap(i % cmap.N))
    return out


def _hex(rgba) -> str:
    from matplotlib.colors import to_hex

    return to_hex(rgba)


def _resolve_period(daily: dict[str, pd.DataFrame], period) -> tuple[tuple | None, str]:
    """Clip the requested period to the days every run covers; say what happened."""
    want = (pd.Timestamp(period[0]), pd.Timestamp(period[1]))
    covered = [(d.index.min(), d.index.max()) for d in daily.values() if not d.empty]
    if not covered:
        return None, "No run has any data, so no totals."
    lo = max(c[0] for c in covered)
    hi = min(c[1] for c in covered)
    fmt = "%Y-%m-%d"
    if lo > hi:
        lo, hi = min(c[0] for c in covered), max(c[1] for c in covered)
        return (lo, hi), (f"The runs share no common days; totals cover each run's own days within "
                          f"{lo:{fmt}}–{hi:{fmt}}.")
    start, end = max(want[0], lo), min(want[1], hi)
    if start > end:
        return (lo, hi), (f"The runs do not cover the requested period {want[0]:{fmt}}–{want[1]:{fmt}}; "
                          f"totals cover the days all runs share instead: {lo:{fmt}}–{hi:{fmt}}.")
    if (start, end) != want:
        return (start, end), (f"Requested period {want[0]:{fmt}}–{want[1]:{fmt}} shrunk to the days all "
                              f"runs cover: {start:{fmt}}–{end:{fmt}}.")
    return (start, end), f"Period: {start:{fmt}}–{end:{fmt}}."


# --------------------------------------------------------------------------------------------
# plotting helpers
# --------------------------------------------------------------------------------------------

def _new_fig(w: float, h: float, nrows: int = 1, ncols: int = 1, **kw):
    """A Figure on an Agg canvas (no pyplot) and its axes array."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(w, h), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
    return fig, axes


def _date_axis(ax) -> None:
    import matplotlib.dates as mdates

    loc = mdates.AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(loc)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))
    ax.grid(True, alpha=0.3)


def _count_axis(ax, integer: bool = False) -> None:
    """Counts: y from zero, thousands separators, whole-number ticks when `integer`."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    ax.yaxis.set_major_formatter(FuncFormatter(
        lambda v, _p: f"{v:,.0f}" if abs(v) >= 10 or float(v).is_integer() else f"{v:.2g}"))
    if integer:
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    lo, hi = ax.get_ylim()
    if lo < 0 <= hi or lo > 0:
        ax.set_ylim(0, max(hi, 1.0))


def _fan(ax, band: dict[str, pd.DataFrame], metric: str, colour: str) -> bool:
    """Shade the 5–95% and 25–75% ensemble bands of one metric; True if drawn."""
    if not band or metric not in band["q05"].columns:
        return False
    x = band["q05"].index
    ax.fill_between(x, band["q05"][metric], band["q95"][metric], color=colour, alpha=0.12, lw=0)
    ax.fill_between(x, band["q25"][metric], band["q75"][metric], color=colour, alpha=0.25, lw=0)
    return True


def _obs_window(data: _Data) -> pd.DataFrame:
    """Observed months from OBS_LOOKBACK_MONTHS before the first run month onwards."""
    first = data.first_month()
    if first is None or data.obs.empty:
        return data.obs
    return data.obs[data.obs.index >= first - pd.DateOffset(months=OBS_LOOKBACK_MONTHS)]


def _plot_monthly(ax, data: _Data, metric: str, obs: pd.DataFrame, legend_seen: set | None = None) -> bool:
    """Lines of one metric per scenario (monthly) + observed markers + fans; True if anything drawn."""
    drawn = False
    for name in data.names:
        m = data.monthly[name]
        if metric in m.columns and m[metric].notna().any():
            c = data.colours[name]
            _fan(ax, data.bands_monthly.get(name, {}), metric, c)
            ax.plot(m.index, m[metric], color=c, lw=1.8, marker=".", ms=4, label=name)
            drawn = True
    if metric in obs.columns and obs[metric].notna().any():
        ax.plot(obs.index, obs[metric], ls="none", marker="o", ms=3.5, color=OBS_COLOUR,
                mfc="white", label="observed")
        drawn = True
    _date_axis(ax)
    return drawn


def _small_multiples(data: _Data, metrics: list[tuple[str, str]], title: str, ylabel: str,
                     monthly: bool, obs: pd.DataFrame | None = None, ncols: int = 3,
                     extra: Callable | None = None):
    """Grid of panels, one per (metric, panel title); lines per scenario; one shared legend."""
    n = len(metrics)
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig, axes = _new_fig(4.0 * ncols, 2.7 * nrows + 0.8, nrows, ncols, sharex=True)
    for i, (metric, panel) in enumerate(metrics):
        ax = axes[i // ncols][i % ncols]
        if monthly:
            _plot_monthly(ax, data, metric, obs if obs is not None else data.obs.iloc[0:0])
        else:
            for name in data.names:
                d = data.daily[name]
                if metric in d.columns:
                    _fan(ax, data.bands.get(name, {}), metric, data.colours[name])
                    ax.plot(d.index, d[metric], color=data.colours[name], lw=1.3, label=name)
            _date_axis(ax)
        if extra is not None:
            extra(ax, metric)
        _count_axis(ax)
        ax.set_title(panel, fontsize=10)
        if i % ncols == 0:
            ax.set_ylabel(ylabel)
        if i // ncols == nrows - 1 or i + ncols >= n:
            ax.set_xlabel("month" if monthly else "date")
            ax.tick_params(labelbottom=True)
    for j in range(n, nrows * ncols):
        axes[j // ncols][j % ncols].set_visible(False)
    _figure_legend(fig, axes)
    fig.suptitle(title, fontsize=13, fontweight="bold")
    return fig


def _figure_legend(fig, axes) -> None:
    """One legend for the whole figure, from the labels of every axis, without duplicates."""
    handles: dict[str, object] = {}
    for ax in np.ravel(axes):
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if not lab.startswith("_"):
                handles.setdefault(lab, h)
    if handles:
        fig.legend(list(handles.values()), list(handles.keys()), loc="outside lower center",
                   ncol=min(6, len(handles)), fontsize=9, frameon=False)


def _legend_right(ax) -> None:
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)


# --------------------------------------------------------------------------------------------
# figures: each returns a Figure, or None when the runs lack the metric
# --------------------------------------------------------------------------------------------

def fig_sw_daily(data: _Data):
    """US southwest encounters per day: 7-day mean per scenario, raw days faint, observed monthly means."""
    metric = "sw_encounters"
    if not data.has(metric):
        return None
    fig, axes = _new_fig(11, 4.6)
    ax = axes[0][0]
    for name in data.names:
        d = data.daily[name]
        if metric not in d.columns:
            continue
        c = data.colours[name]
        _fan(ax, data.bands.get(name, {}), metric, c)
        ax.plot(d.index, d[metric], color=c, lw=0.6, alpha=0.3)
        ax.plot(d.index, d[metric].rolling(7, min_periods=1, center=True).mean(), color=c, lw=1.8,
                label=f"{name} (7-day mean)")
    obs = _obs_window(data)
    first = data.first_month()
    if metric in obs.columns:
        o = obs[metric].dropna()
        if first is not None:
            o = o[o.index >= first - pd.DateOffset(months=3)]
        if len(o):
            per_day = o / o.index.days_in_month
            ax.plot(o.index + pd.Timedelta(days=14), per_day, ls="none", marker="o", ms=5,
                    mfc="white", color=OBS_COLOUR, label="observed (monthly total / days)")
    ax.set_title("US southwest border encounters per day")
    ax.set_xlabel("date")
    ax.set_ylabel("encounters (people/day)")
    _date_axis(ax)
    _count_axis(ax)
    _legend_right(ax)
    return fig


def fig_sw_monthly(data: _Data):
    """US southwest encounters per month, scenarios against the observed series."""
    if not data.has("sw_encounters"):
        return None
    fig, axes = _new_fig(11, 4.6)
    ax = axes[0][0]
    _plot_monthly(ax, data, "sw_encounters", _obs_window(data))
    ax.set_title("US southwest border encounters per month, scenarios and observed")
    ax.set_xlabel("month")
    ax.set_ylabel("encounters (people/month)")
    _count_axis(ax)
    _legend_right(ax)
    return fig


def fig_sectors(data: _Data):
    """Border Patrol encounters by sector, monthly small multiples with observed."""
    metrics = [m for m in (f"usbp_encounters:{s}" for s in SECTORS) if data.has(m)]
    metrics += [m for m in data.with_prefix("usbp_encounters:") if m not in metrics]
    if not metrics:
        return None
    return _small_multiples(data, [(m, m.split(":", 1)[1]) for m in metrics],
                            "Border Patrol encounters by sector (between ports)",
                            "people/month", monthly=True, obs=_obs_window(data))


def top_nationalities(data: _Data, n: int = 9) -> list[str]:
    """The n citizenships with most encounters in the baseline run (observed if the run has none)."""
    cols = [c for c in data.with_prefix("sw_encounters:")]
    base = data.daily.get(data.baseline, pd.DataFrame())
    totals = {c: float(base[c].sum()) if c in base.columns else 0.0 for c in cols}
    if not any(totals.values()):
        for name in data.names:
            d = data.daily[name]
            for c in cols:
                if c in d.columns:
                    totals[c] += float(d[c].sum())
    return sorted(cols, key=lambda c: -totals[c])[:n]


def fig_nationalities(data: _Data):
    """US southwest encounters by top nationalities, monthly small multiples with observed."""
    metrics = top_nationalities(data)
    if not metrics:
        return None
    return _small_multiples(data, [(m, m.split(":", 1)[1]) for m in metrics],
                            "US southwest encounters by citizenship (top in baseline)",
                            "people/month", monthly=True, obs=_obs_window(data))


def fig_single_monthly(data: _Data, metric: str, title: str, ylabel: str):
    """One metric per month, scenarios and (if any) observed."""
    if not data.has(metric):
        return None
    fig, axes = _new_fig(11, 4.2)
    ax = axes[0][0]
    _plot_monthly(ax, data, metric, _obs_window(data))
    ax.set_title(title)
    ax.set_xlabel("month")
    ax.set_ylabel(ylabel)
    _count_axis(ax)
    _legend_right(ax)
    return fig


def fig_mexico_detentions(data: _Data):
    """Migrants detected/detained by Mexican authorities per month."""
    return fig_single_monthly(data, "mexico_detentions", "Detentions of migrants in Mexico per month",
                              "detentions (people/month)")


def fig_darien(data: _Data):
    """Darién Gap crossings per month, with the observed (Panama) series."""
    return fig_single_monthly(data, "darien_crossings", "Darién Gap crossings per month (Panama)",
                              "crossings (people/month)")


def fig_custody(data: _Data):
    """People in US custody per sector per day against holding capacity (dashed)."""
    sectors = [s for s in SECTORS if data.has(f"custody_population:{s}")]
    sectors += [m.split(":", 1)[1] for m in data.with_prefix("custody_population:")
                if m.split(":", 1)[1] not in sectors]
    if not sectors:
        return None

    def capacity(ax, metric):
        cap = "holding_capacity:" + metric.split(":", 1)[1]
        series = [(n, data.daily[n][cap]) for n in data.names if cap in data.daily[n].columns]
        if not series:
            return
        same = all(len(s) == len(series[0][1]) and np.allclose(s.values, series[0][1].values, equal_nan=True)
                   for _, s in series)
        if same:
            ax.plot(series[0][1].index, series[0][1], color="#555555", ls="--", lw=1.4,
                    label="holding capacity")
        else:
            for n, s in series:
                ax.plot(s.index, s, color=data.colours[n], ls="--", lw=1.1, label=f"{n} holding capacity")

    return _small_multiples(data, [(f"custody_population:{s}", s) for s in sectors],
                            "People in US custody by sector (solid) against holding capacity (dashed)",
                            "people in custody", monthly=False, extra=capacity)


def fig_waiting(data: _Data):
    """People waiting in Mexican border cities per day, one panel per city (+ all stranded in Mexico)."""
    metrics = [(m, m.split(":", 1)[1]) for m in sorted(data.with_prefix("waiting_population:"))]
    if data.has("stranded_mexico"):
        metrics.insert(0, ("stranded_mexico", "All stranded in Mexico"))
    if not metrics:
        return None
    return _small_multiples(data, metrics, "People waiting in Mexican border cities",
                            "people waiting", monthly=False, ncols=3)


def fig_outcomes(data: _Data):
    """Returns to Mexico, removals, releases and repeat encounters per month."""
    wanted = [("returns_to_mexico", "Returned to Mexico"), ("removals", "Removed (deported)"),
              ("releases", "Released into the US"), ("repeat_encounters", "Repeat encounters")]
    metrics = [(m, t) for m, t in wanted if data.has(m)]
    if not metrics:
        return None
    return _small_multiples(data, metrics, "Outcomes of US encounters per month", "people/month",
                            monthly=True, obs=_obs_window(data), ncols=2)


def fig_levers(data: _Data):
    """Crossings open, Mexican personnel and conditional rules active, per day."""
    panels = []
    if data.with_prefix("crossing_open:"):
        panels.append("crossings")
    if data.has("mexico_personnel"):
        panels.append("personnel")
    rules = sorted(data.with_prefix("rule_active:"))
    if rules:
        panels.append("rules")
    if not panels:
        return None
    fig, axes = _new_fig(11, 2.6 * len(panels) + 0.8, len(panels), 1, sharex=True)
    n = len(data.names)
    for ax, panel in zip(axes[:, 0], panels):
        for i, name in enumerate(data.names):
            d = data.daily[name]
            c = data.colours[name]
            lw = 1.2 + 3.0 * (n - 1 - i) / max(n - 1, 1)  # earlier runs wider, so overlaps stay visible
            if panel == "crossings":
                cols = [x for x in d.columns if x.startswith("crossing_open:")]
                if cols:
                    ax.step(d.index, d[cols].sum(axis=1), where="post", color=c, lw=lw, label=name)
                ax.set_title("US crossings open (ports and rail bridges)", fontsize=10)
                ax.set_ylabel("crossings open")
            elif panel == "personnel":
                if "mexico_personnel" in d.columns:
                    ax.plot(d.index, d["mexico_personnel"], color=c, lw=lw, label=name)
                ax.set_title("Mexican enforcement personnel deployed", fontsize=10)
                ax.set_ylabel("personnel (people)")
            else:
                cols = [x for x in rules if x in d.columns]
                if cols:
                    ax.step(d.index, d[cols].sum(axis=1), where="post", color=c, lw=lw, label=name)
                ax.set_title("Conditional rules active: " + ", ".join(r.split(":", 1)[1] for r in rules),
                             fontsize=10)
                ax.set_ylabel("rules active (count)")
        _date_axis(ax)
        _count_axis(ax, integer=panel != "personnel")
    axes[-1][0].set_xlabel("date")
    _figure_legend(fig, axes)
    fig.suptitle("Levers over time", fontsize=13, fontweight="bold")
    return fig


# --------------------------------------------------------------------------------------------
# map
# --------------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _country_paths():
    """Country outlines from the bundled GeoJSON as matplotlib Paths (exterior and hole rings)."""
    from matplotlib.path import Path as MPath

    text = files("corridor").joinpath(*GEOJSON).read_text(encoding="utf-8")
    paths = []
    for feat in json.loads(text)["features"]:
        geom = feat.get("geometry") or {}
        polys = geom.get("coordinates", [])
        if geom.get("type") == "Polygon":
            polys = [polys]
        elif geom.get("type") != "MultiPolygon":
            continue
        for poly in polys:
            verts, codes = [], []
            for ring in poly:
                if len(ring) < 3:
                    continue
                verts.extend(ring)
                codes.extend([MPath.MOVETO] + [MPath.LINETO] * (len(ring) - 2) + [MPath.CLOSEPOLY])
            if verts:
                paths.append(MPath(np.asarray(verts, dtype=float), codes))
    return tuple(paths)


def _place_sizes(world: WorldTables, d: pd.DataFrame) -> pd.Series:
    """Mean number of people at each place over the period (place_population, else waiting_population)."""
    out = {}
    for _, p in world.places.iterrows():
        pid, name = str(p["id"]), str(p.get("name", ""))
        for col in (f"place_population:{pid}", f"waiting_population:{name}", f"waiting_population:{pid}"):
            if col in d.columns:
                out[pid] = float(d[col].mean())
                break
    return pd.Series(out, dtype=float)


def _leg_flows(world: WorldTables, d: pd.DataFrame) -> pd.Series:
    """People starting each leg, summed over the period."""
    out = {}
    for lid in world.legs["id"].astype(str):
        col = f"leg_flow:{lid}"
        if col in d.columns:
            out[lid] = float(d[col].sum())
    return pd.Series(out, dtype=float)


def _bezier(p0, p1, bend: float, n: int = 24) -> np.ndarray:
    """Points on a quadratic curve from p0 to p1 bent sideways by `bend` degrees (parallel legs apart)."""
    p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
    mid = (p0 + p1) / 2
    v = p1 - p0
    norm = np.hypot(*v) or 1.0
    ctrl = mid + bend * np.array([-v[1], v[0]]) / norm
    t = np.linspace(0, 1, n)[:, None]
    return (1 - t) ** 2 * p0 + 2 * (1 - t) * t * ctrl + t ** 2 * p1


def _fmt_people(v: float) -> str:
    return f"{v:,.0f}"


def fig_map(data: _Data, world: WorldTables, name: str, max_flow: float, max_pop: float):
    """Map of the corridor for one scenario: legs (width ∝ flow, colour = mode), places (size ∝ people)."""
    from matplotlib.collections import PathCollection
    from matplotlib.lines import Line2D

    if data.period is None:
        return None
    lo, hi = data.period
    d = data.daily[name]
    d = d[(d.index >= lo) & (d.index <= hi)]
    places = world.places.copy()
    places["id"] = places["id"].astype(str)
    places = places.set_index("id")
    coords = {pid: (float(r["lon"]), float(r["lat"])) for pid, r in places.iterrows()
              if pd.notna(r.get("lon")) and pd.notna(r.get("lat"))}
    flows = _leg_flows(world, d)
    sizes = _place_sizes(world, d)

    fig, axes = _new_fig(8.0, 5.9)
    ax = axes[0][0]
    x0, x1, y0, y1 = MAP_EXTENT
    ax.set_facecolor("#dbe9f4")
    ax.add_collection(PathCollection(list(_country_paths()), facecolor="#f4efe4", edgecolor="#9a9a9a",
                                     linewidth=0.5, zorder=1))

    # legs: curves bent apart when several join the same two places
    legs = world.legs.copy()
    legs["id"] = legs["id"].astype(str)
    pair_count: dict[tuple, int] = {}
    pair_seen: dict[tuple, int] = {}
    for _, lg in legs.iterrows():
        key = tuple(sorted((str(lg["from_place"]), str(lg["to_place"]))))
        pair_count[key] = pair_count.get(key, 0) + 1
    unit = max_flow if max_flow > 0 else 1.0
    for _, lg in legs.iterrows():
        a, b = str(lg["from_place"]), str(lg["to_place"])
        if a not in coords or b not in coords or a == b:
            continue
        key = tuple(sorted((a, b)))
        k = pair_seen.get(key, 0)
        pair_seen[key] = k + 1
        bend = 0.0 if pair_count[key] == 1 else (k - (pair_count[key] - 1) / 2) * 0.6
        if a > b:
            bend = -bend  # same side convention whatever the direction
        pts = _bezier(coords[a], coords[b], bend)
        flow = float(flows.get(lg["id"], 0.0))
        colour = MODE_COLOURS.get(str(lg.get("mode", "")), "#333333")
        if flow > 0:
            ax.plot(pts[:, 0], pts[:, 1], color=colour, lw=0.6 + 9.0 * flow / unit, alpha=0.8,
                    solid_capstyle="round", zorder=3)
        else:
            ax.plot(pts[:, 0], pts[:, 1], color=colour, lw=0.6, alpha=0.5, ls=":", zorder=2)

    # places
    pop_unit = max_pop if max_pop > 0 else 1.0
    xs, ys, ss, labels = [], [], [], []
    for pid, (lon, lat) in coords.items():
        kind = str(places.loc[pid].get("kind", ""))
        pop = float(sizes.get(pid, 0.0)) if kind != "sink" else 0.0
        xs.append(lon)
        ys.append(lat)
        ss.append(8 + 700 * max(pop, 0.0) / pop_unit)
        labels.append((pop, str(places.loc[pid].get("name", pid)), lon, lat))
    ax.scatter(xs, ys, s=ss, c="#c0392b", alpha=0.55, edgecolors="#5b1a13", linewidths=0.6, zorder=4)
    for pop, label, lon, lat in sorted(labels, reverse=True)[:14]:
        if pop > 0 and x0 <= lon <= x1 and y0 <= lat <= y1:
            ax.annotate(label, (lon, lat), xytext=(4, 4), textcoords="offset points", fontsize=8,
                        zorder=5, color="#222222")
    # closed crossings
    closed = []
    for pid in coords:
        col = f"crossing_open:{pid}"
        if col in d.columns and len(d) and float(d[col].mean()) < 0.5:
            closed.append(coords[pid])
    if closed:
        cx, cy = zip(*closed)
        ax.scatter(cx, cy, marker="x", s=45, c="#000000", linewidths=1.6, zorder=6)

    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect(1 / math.cos(math.radians((y0 + y1) / 2)))
    ax.set_xlabel("longitude (degrees)")
    ax.set_ylabel("latitude (degrees)")
    fmt = "%Y-%m-%d"
    ax.set_title(f"{name}: flows along legs and people at places\n{lo:{fmt}} to {hi:{fmt}}", fontsize=10.5)

    # legend: modes, flow widths, place sizes, closures
    handles = [Line2D([], [], color=c, lw=3, label=m) for m, c in MODE_COLOURS.items()
               if m in set(legs.get("mode", pd.Series(dtype=str)).astype(str))]
    if max_flow > 0:
        for f in (max_flow, max_flow / 4):
            handles.append(Line2D([], [], color="#555555", lw=0.6 + 9.0 * f / unit,
                                  label=f"{_fmt_people(f)} people (leg flow)"))
    handles.append(Line2D([], [], color="#555555", lw=0.6, ls=":", label="no flow in period"))
    if max_pop > 0:
        for p in (max_pop, max_pop / 4):
            handles.append(Line2D([], [], ls="none", marker="o", color="#c0392b", alpha=0.55,
                                  markeredgecolor="#5b1a13", markersize=math.sqrt(8 + 700 * p / pop_unit),
                                  label=f"{_fmt_people(p)} people (mean at place)"))
    if closed:
        handles.append(Line2D([], [], ls="none", marker="x", color="#000000", markersize=7,
                              label="crossing closed most of period"))
    ax.legend(handles=handles, loc="lower left", fontsize=7.5, framealpha=0.9, labelspacing=0.9,
              borderpad=0.7, handlelength=3.2, title="mode / flow / people", title_fontsize=7.5)
    return fig


# --------------------------------------------------------------------------------------------
# totals table
# --------------------------------------------------------------------------------------------

def _sum(metric):
    return lambda d: float(d[metric].sum()) if metric in d.columns else None


def _mean(metric):
    return lambda d: float(d[metric].mean()) if metric in d.columns and len(d) else None


def _mean_waiting(d):
    cols = [c for c in d.columns if c.startswith("waiting_population:")]
    return float(d[cols].sum(axis=1).mean()) if cols and len(d) else None


def _closure_days(d):
    cols = [c for c in d.columns if c.startswith("crossing_open:")]
    return float((1.0 - d[cols].clip(0, 1)).sum().sum()) if cols else None


def _sector_days_over(d):
    pairs = [(c, "holding_capacity:" + c.split(":", 1)[1]) for c in d.columns
             if c.startswith("custody_population:")]
    pairs = [(c, k) for c, k in pairs if k in d.columns]
    if not pairs:
        return None
    return float(sum(int((d[c] > d[k]).sum()) for c, k in pairs))


# label, unit, function of the period's daily wide table
TOTALS: list[tuple[str, str, Callable]] = [
    ("US southwest encounters", "people", _sum("sw_encounters")),
    ("Border Patrol encounters (between ports)", "people", _sum("usbp_encounters")),
    ("OFO encounters (at ports)", "people", _sum("ofo_encounters")),
    ("Detentions in Mexico", "people", _sum("mexico_detentions")),
    ("Darién crossings", "people", _sum("darien_crossings")),
    ("Released into the US", "people", _sum("releases")),
    ("Removed (deported)", "people", _sum("removals")),
    ("Returned to Mexico", "people", _sum("returns_to_mexico")),
    ("Repeat encounters", "people", _sum("repeat_encounters")),
    ("Mean people waiting in Mexican border cities", "people", _mean_waiting),
    ("Mean people stranded in Mexico", "people", _mean("stranded_mexico")),
    ("Person-days in US custody over holding capacity", "person-days", _sum("custody_over_capacity")),
    ("Sector-days with custody over capacity", "sector-days", _sector_days_over),
    ("Days of crossing closure (summed over crossings)", "crossing-days", _closure_days),
    ("Trade through closed crossings", "USD", _sum("trade_blocked_usd")),
    ("Mean Mexican enforcement personnel", "people", _mean("mexico_personnel")),
]


def report_totals(runs: dict[str, pd.DataFrame], period=DEFAULT_PERIOD,
                  baseline: str | None = None) -> pd.DataFrame:
    """Totals per scenario over `period` (clipped to what the runs cover) and differences from baseline.

    Returns a tidy table: scenario, quantity, unit, value, baseline_value, difference, start, end.
    """
    daily = {n: _wide_daily(df) for n, df in runs.items()}
    base = _pick_baseline(list(runs), baseline)
    per, _note = _resolve_period(daily, period)
    return _totals(daily, per, base)


def _totals(daily: dict[str, pd.DataFrame], per, base: str) -> pd.DataFrame:
    rows = []
    if per is None:
        return pd.DataFrame(columns=["scenario", "quantity", "unit", "value", "baseline_value",
                                     "difference", "start", "end"])
    lo, hi = per
    clipped = {n: d[(d.index >= lo) & (d.index <= hi)] for n, d in daily.items()}
    extra = sorted({c for d in clipped.values() for c in d.columns if c.startswith("rule_active:")})
    specs = TOTALS + [(f"Days rule active: {r.split(':', 1)[1]}", "days", _sum(r)) for r in extra]
    for label, unit, fn in specs:
        bval = fn(clipped[base]) if base in clipped else None
        for n, d in clipped.items():
            v = fn(d)
            diff = (v - bval) if (v is not None and bval is not None) else None
            rows.append({"scenario": n, "quantity": label, "unit": unit, "value": v,
                         "baseline_value": bval, "difference": diff, "start": lo, "end": hi})
    out = pd.DataFrame(rows)
    for c in ("value", "baseline_value", "difference"):
        out[c] = pd.to_numeric(out[c], errors="coerce").astype(float)
    return out


def _fmt_value(v: float | None, unit: str, signed: bool = False) -> str:
    """Thousands separators; USD in millions/billions; a sign when `signed`."""
    if v is None or math.isnan(v):
        return "n/a"
    sign = ("+" if v > 0 else "−" if v < 0 else "") if signed else ("-" if v < 0 else "")
    a = abs(v)
    if unit == "USD":
        for div, suf in ((1e9, " bn"), (1e6, " m")):
            if a >= div:
                return f"{sign}${a / div:,.2f}{suf}"
        return f"{sign}${a:,.0f}"
    return f"{sign}{a:,.0f}"


def _totals_html(tot: pd.DataFrame, names: list[str], base: str, colours: dict[str, str]) -> str:
    """Rows = quantities, columns = scenarios; each cell the total and, below, the difference."""
    if tot.empty:
        return "<p class='note'>No totals: the runs have no days.</p>"
    head = "".join(
        f"<th><span class='sw' style='background:{colours[n]}'></span>{html.escape(n)}"
        f"{' <small>(baseline)</small>' if n == base else ''}</th>" for n in names)
    body = []
    for (label, unit), g in tot.groupby(["quantity", "unit"], sort=False):
        g = g.set_index("scenario")
        cells = []
        for n in names:
            v, diff, bval = g.at[n, "value"], g.at[n, "difference"], g.at[n, "baseline_value"]
            cell = _fmt_value(v, unit)
            if n != base and not math.isnan(diff):
                pct = f" ({diff / bval * 100:+.1f}%)" if bval and not math.isnan(bval) and bval != 0 else ""
                cls = "up" if diff > 0 else ("down" if diff < 0 else "same")
                cell += f"<br><span class='d {cls}'>Δ {_fmt_value(diff, unit, signed=True)}{pct}</span>"
            cells.append(f"<td>{cell}</td>")
        body.append(f"<tr><th scope='row'>{html.escape(label)}</th><td class='u'>{html.escape(unit)}</td>"
                    + "".join(cells) + "</tr>")
    return ("<div class='tablewrap'><table><thead><tr><th>quantity</th><th>unit</th>" + head
            + "</tr></thead><tbody>" + "".join(body) + "</tbody></table></div>")


# --------------------------------------------------------------------------------------------
# page
# --------------------------------------------------------------------------------------------

CSS = """
body{font-family:'DejaVu Sans',Arial,sans-serif;margin:0;color:#222;background:#fafafa;line-height:1.45}
header{background:#1f3a5f;color:#fff;padding:18px 28px}
header h1{margin:0 0 4px;font-size:1.6em}
header p{margin:0;opacity:.85}
nav{padding:8px 28px;background:#e9eef4;font-size:.92em}
nav a{margin-right:14px;color:#1f3a5f}
main{padding:8px 28px 40px;max-width:1250px}
section{margin:22px 0 30px}
h2{border-bottom:2px solid #1f3a5f;padding-bottom:4px;color:#1f3a5f}
figure{margin:14px 0 24px;background:#fff;padding:10px;border:1px solid #ddd}
figure img{max-width:100%;height:auto;display:block}
figcaption{font-size:.9em;color:#444;margin-top:6px}
.note{color:#7a4b00;background:#fff6e0;border-left:4px solid #e0a800;padding:6px 10px}
.sw{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:6px;vertical-align:middle}
dl.scen dt{font-weight:bold;margin-top:10px}
dl.scen dd{margin:2px 0 0 18px}
.tablewrap{overflow-x:auto}
table{border-collapse:collapse;font-size:.86em;background:#fff}
th,td{border:1px solid #ccc;padding:5px 8px;text-align:right;vertical-align:top}
thead th{background:#e9eef4;text-align:center}
tbody th{text-align:left;font-weight:normal;max-width:260px}
td.u{color:#666;text-align:left}
.d{font-size:.85em}
.d.up{color:#8b1a1a}.d.down{color:#1a5e8b}.d.same{color:#666}
.maps{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:12px}
"""


@dataclass
class _Fig:
    key: str
    section: str
    caption: str
    png: bytes


def _render(fig, dpi: int = 100) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white", metadata={"Software": None})
    return buf.getvalue()


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "scenario"


def _pick_baseline(names: list[str], baseline: str | None) -> str:
    if baseline is not None:
        if baseline not in names:
            raise ValueError(f"baseline {baseline!r} is not one of the runs: {', '.join(names)}")
        return baseline
    return "status-quo" if "status-quo" in names else names[0]


def _prepare(runs, observed, bands, baseline, period) -> _Data:
    names = list(runs)
    base = _pick_baseline(names, baseline)
    daily = {n: _wide_daily(runs[n]) for n in names}
    wide_bands = {n: _wide_bands(b) for n, b in (bands or {}).items() if n in runs}
    wide_bands = {n: b for n, b in wide_bands.items() if b}
    bands_monthly = {}
    for n, b in wide_bands.items():
        bands_monthly[n] = {q: _monthly(w) for q, w in b.items()}
    per, per_note = _resolve_period(daily, period)
    data = _Data(names=names, baseline=base, colours=_scenario_colours(names, base), daily=daily,
                 monthly={n: _monthly(d) for n, d in daily.items()}, obs=_wide_observed(observed),
                 bands=wide_bands, bands_monthly=bands_monthly, period=per, period_note=per_note)
    for n, d in daily.items():
        if d.empty:
            data.notes.append(f"Run {n!r} has no rows.")
    return data


def _figures(data: _Data, world: WorldTables | None) -> tuple[list[_Fig], list[tuple[str, str]]]:
    """Build every figure; return them and (section, note) pairs for the ones skipped."""
    fan = (" Shaded: ensemble 5–95% (light) and 25–75% (dark) bands"
           + ("; monthly bands are sums of daily quantiles, so wider than the true monthly band."
              if data.bands else ".")) if data.bands else ""
    obs_txt = " Open circles: observed (CBP / Panama / Mexico, to December 2023)."
    partial = " Months a run covers only in part are left out of monthly totals."
    specs = [
        ("sw_daily", "encounters", fig_sw_daily, "sw_encounters",
         "Encounters per day at the US southwest border (Border Patrol + OFO). Thin lines: daily values; "
         "thick: 7-day centred mean. Circles: observed monthly totals divided by days in the month." + fan),
        ("sw_monthly", "encounters", fig_sw_monthly, "sw_encounters",
         "Encounters per month; each scenario against the observed series." + obs_txt + partial + fan),
        ("sectors", "breakdown", fig_sectors, "usbp_encounters:<sector>",
         "Border Patrol encounters between ports, by sector, per month." + obs_txt + fan),
        ("nationalities", "breakdown", fig_nationalities, "sw_encounters:<citizenship>",
         "Southwest encounters by citizenship, the nine largest in the baseline run, per month." + obs_txt + fan),
        ("mexico_detentions", "mexico", fig_mexico_detentions, "mexico_detentions",
         "Migrants detained by Mexican authorities (INM) per month." + partial + fan),
        ("darien", "mexico", fig_darien, "darien_crossings",
         "Crossings of the Darién Gap into Panama per month." + obs_txt + fan),
        ("custody", "custody", fig_custody, "custody_population:<sector>",
         "People held in US custody at the end of each day, by Border Patrol sector, with the sector's "
         "holding capacity dashed (one grey line when every scenario has the same capacity)." + fan),
        ("waiting", "custody", fig_waiting, "waiting_population:<city> / stranded_mexico",
         "People waiting in each Mexican border city at the end of each day; the first panel counts "
         "everyone stranded in Mexico (border cities and southern hubs)." + fan),
        ("outcomes", "outcomes", fig_outcomes, "returns_to_mexico / removals / releases / repeat_encounters",
         "What happens after a US encounter, per month: returned to Mexico, removed to the country of "
         "origin, released into the US (notice to appear or parole), and encounters of people encountered "
         "before." + partial + fan),
        ("levers", "levers", fig_levers, "crossing_open:* / mexico_personnel / rule_active:*",
         "The levers as they moved in each run: how many US crossings were open, Mexican personnel "
         "deployed, and how many conditional rules were switched on."),
    ]
    figs, skipped = [], []
    for key, section, fn, metric, caption in specs:
        fig = fn(data)
        if fig is None:
            skipped.append((section, f"Figure skipped: no run reports {metric}."))
            continue
        figs.append(_Fig(key, section, caption, _render(fig)))
    # maps: one per scenario, on a common scale so widths and dots compare across scenarios
    if world is None or data.period is None or world.places is None or len(world.places) == 0:
        skipped.append(("map", "Map skipped: no world tables or no days to summarise."))
        return figs, skipped
    lo, hi = data.period
    max_flow = max_pop = 0.0
    for n in data.names:
        d = data.daily[n]
        d = d[(d.index >= lo) & (d.index <= hi)]
        f = _leg_flows(world, d)
        places = world.places[world.places["kind"].astype(str) != "sink"] if "kind" in world.places else world.places
        s = _place_sizes(WorldTables(places, world.legs), d)
        max_flow = max(max_flow, float(f.max()) if len(f) else 0.0)
        max_pop = max(max_pop, float(s.max()) if len(s) else 0.0)
    if max_flow == 0:
        skipped.append(("map", "No leg_flow:<leg id> metrics in the runs: legs drawn without flows."))
    if max_pop == 0:
        skipped.append(("map", "No place_population:<id> or waiting_population:<name> metrics: "
                               "places drawn without sizes."))
    for n in data.names:
        fig = fig_map(data, world, n, max_flow, max_pop)
        if fig is not None:
            figs.append(_Fig(f"map_{_slug(n)}", "map",
                             f"{n}: line width ∝ people starting the leg over the period (same scale in every "
                             f"map), colour = mode; red dots ∝ mean people at the place; × = crossing closed "
                             f"more than half the period.", _render(fig, dpi=110)))
    return figs, skipped


FIT_WINDOWS = (("training", TRAINING_MONTHS), ("validation", VALIDATION_MONTHS),
               ("whole period", (TRAINING_MONTHS[0], VALIDATION_MONTHS[1])))


def fit_table(run: pd.DataFrame, observed: pd.DataFrame | None) -> pd.DataFrame:
    """How one run matches the observed record on the calibration windows it covers (`corridor validate`'s
    figures): SW encounters against the two naive baselines, the Darién, the nationality and sector mix."""
    rows = []
    if observed is None or len(observed) == 0:
        return pd.DataFrame(rows)
    for label, (start, end) in FIT_WINDOWS:
        try:
            r = compare(run, observed, (start, end))
        except InputError:          # the run does not cover this window
            continue
        sw, darien = r.series.get("sw_encounters"), r.series.get("darien_crossings")
        d = r.pairs[r.pairs["series"] == "darien_crossings"]
        darien_total = (100.0 * (d["model"].sum() / d["observed"].sum() - 1.0)
                        if darien and d["observed"].sum() > 0 else None)
        rows.append({
            "window": label, "months": f"{start}..{end}",
            "sw_encounters MAPE %": sw.mape if sw else None,
            "last value MAPE %": sw.baseline_last_value_mape if sw else None,
            "same month last year MAPE %": sw.baseline_same_month_last_year_mape if sw else None,
            "darien_crossings MAPE %": darien.mape if darien else None,
            "darien_crossings total error %": darien_total,
            "nationality shares pp": r.summary["nationality_share_mae_pp"],
            "sector shares pp": r.summary["sector_share_mae_pp"],
        })
    return pd.DataFrame(rows)


def _fit_html(fit: pd.DataFrame, baseline: str) -> str:
    if fit.empty:
        return "<p class='note'>No observed months in the calibration windows are covered by the baseline run.</p>"
    esc = html.escape
    head = "".join(f"<th>{esc(c)}</th>" for c in fit.columns)
    body = "".join("<tr>" + "".join(
        f"<td>{esc(v) if isinstance(v, str) else ('–' if v is None or pd.isna(v) else f'{v:.1f}')}</td>"
        for v in row) + "</tr>" for row in fit.itertuples(index=False))
    return (f"<p>{esc(baseline)} against the observed monthly series (as `corridor validate` computes them): "
            f"the model was fitted on the training months ({TRAINING_MONTHS[0]} to {TRAINING_MONTHS[1]}) and never "
            f"on the validation months ({VALIDATION_MONTHS[0]} to {VALIDATION_MONTHS[1]}). MAPE: mean absolute "
            "percentage error of monthly totals; the two naive baselines forecast from the observed series alone "
            "(the last month before the window carried forward; the same month a year earlier); pp: mean absolute "
            "error of monthly shares in percentage points (top 10 nationalities; Border Patrol sectors); total "
            "error: the window's model total against the observed total. Also in "
            "fit.csv.</p>"
            f"<div class='tablewrap'><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")


def write_report(out_dir: Path, runs: dict[str, pd.DataFrame], world: WorldTables,
                 observed: pd.DataFrame | None = None, title: str = "corridor report",
                 notes: dict[str, str] | None = None, bands: dict[str, pd.DataFrame] | None = None,
                 baseline: str | None = None, period: tuple[str, str] = DEFAULT_PERIOD) -> Path:
    """Write ``out_dir/report.html`` (self-contained) and ``out_dir/figures/*.png``; return the HTML path.

    runs: scenario → tidy (date, metric, value) daily table. world: places and legs for the map.
    observed: tidy (month, series, value) real data. notes: scenario → paragraph. bands: scenario →
    (date, metric, q05, q25, q50, q75, q95). baseline: scenario to difference against (default
    ``status-quo`` if present, else the first). period: (start, end) of the totals table and maps,
    clipped to the days the runs cover. Also writes ``out_dir/totals.csv``.
    """
    import matplotlib

    if not runs:
        raise ValueError("write_report needs at least one run")
    data = _prepare(runs, observed, bands, baseline, period)  # validates before touching the disk
    out_dir = Path(out_dir)
    fig_dir = out_dir / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)

    rc = {"font.size": 9.5, "axes.titlesize": 11, "axes.labelsize": 9.5, "legend.fontsize": 9,
          "axes.spines.top": False, "axes.spines.right": False, "figure.dpi": 100}
    with matplotlib.rc_context(rc):
        figs, skipped = _figures(data, world)
    for f in figs:
        atomic_write(fig_dir / f"{f.key}.png", f.png)

    tot = _totals(data.daily, data.period, data.baseline)
    atomic_write(out_dir / "totals.csv", tot.to_csv(index=False).encode("utf-8"))
    fit = fit_table(runs[data.baseline], observed)
    atomic_write(out_dir / "fit.csv", fit.to_csv(index=False).encode("utf-8"))

    page = _page(data, figs, skipped, tot, fit, title, notes or {})
    path = out_dir / "report.html"
    atomic_write(path, page.encode("utf-8"))
    return path


def _page(data: _Data, figs: list[_Fig], skipped: list[tuple[str, str]], tot: pd.DataFrame, fit: pd.DataFrame,
          title: str, notes: dict[str, str]) -> str:
    """Assemble the HTML page (escaped text, inline CSS, images as data: URIs)."""
    from corridor import __version__

    esc = html.escape
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; img-src data:; "
        "style-src 'unsafe-inline'\">",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        "<link rel='icon' href='data:,'>",
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>",
        f"<header><h1>{esc(title)}</h1><p>corridor {esc(__version__)} · {len(data.names)} scenario(s) · "
        f"baseline: {esc(data.baseline)} · {esc(data.period_note)}</p></header>",
        "<nav>" + "".join(f"<a href='#{k}'>{esc(t)}</a>" for k, t in SECTION_TITLES.items()) + "</nav><main>",
    ]
    for n in data.notes:
        parts.append(f"<p class='note'>{esc(n)}</p>")

    # scenarios
    parts.append(f"<section id='scenarios'><h2>{esc(SECTION_TITLES['scenarios'])}</h2><dl class='scen'>")
    for n in data.names:
        d = data.daily[n]
        span = (f"{d.index.min():%Y-%m-%d} to {d.index.max():%Y-%m-%d}, {len(d)} days, {d.shape[1]} metrics"
                if not d.empty else "no data")
        parts.append(f"<dt><span class='sw' style='background:{data.colours[n]}'></span>{esc(n)}"
                     f"{' (baseline)' if n == data.baseline else ''} <small>· {esc(span)}</small></dt>"
                     f"<dd>{esc(notes.get(n, 'No description given.'))}</dd>")
    parts.append("</dl></section>")
    parts.append(f"<section id='fit'><h2>{esc(SECTION_TITLES['fit'])}</h2>{_fit_html(fit, data.baseline)}</section>")

    for key in ("encounters", "breakdown", "mexico", "custody", "outcomes", "levers", "map", "totals"):
        parts.append(f"<section id='{key}'><h2>{esc(SECTION_TITLES[key])}</h2>")
        for sec, msg in skipped:
            if sec == key:
                parts.append(f"<p class='note'>{esc(msg)}</p>")
        if key == "map":
            parts.append("<div class='maps'>")
        for f in figs:
            if f.section == key:
                b64 = base64.b64encode(f.png).decode("ascii")
                parts.append(f"<figure><img alt='{esc(f.key)}' src='data:image/png;base64,{b64}'>"
                             f"<figcaption>{esc(f.caption)} <small>(figures/{esc(f.key)}.png)</small>"
                             f"</figcaption></figure>")
        if key == "map":
            parts.append("</div><p><small>Country outlines: Natural Earth 1:50m (public domain), bundled "
                         "with corridor.</small></p>")
        if key == "totals":
            parts.append(f"<p>{esc(data.period_note)} Each cell: the scenario's total (or mean, where the "
                         f"quantity says so) over the period; below it, Δ = scenario − baseline "
                         f"({esc(data.baseline)}). Also in totals.csv.</p>")
            parts.append(_totals_html(tot, data.names, data.baseline, data.colours))
        parts.append("</section>")
    parts.append("</main></body></html>")
    return "\n".join(parts)
