"""Runs and observed series as the figures and tables want them: wide daily and monthly tables, bands, period.

Every figure reads one `ReportData`, prepared once, so each table is pivoted once and every figure agrees on
the baseline, the colours and the period.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..analysis.observed import is_stock
from .world_tables import WorldTables

__all__ = ["ReportData", "QUANTILES", "daily_table", "monthly_table", "observed_table", "band_tables",
           "scenario_colours", "resolve_period", "pick_baseline", "prepare"]

QUANTILES = ("q05", "q25", "q50", "q75", "q95")


def daily_table(df: pd.DataFrame) -> pd.DataFrame:
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


def monthly_table(wide: pd.DataFrame) -> pd.DataFrame:
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


def observed_table(observed: pd.DataFrame | None) -> pd.DataFrame:
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


def band_tables(df: pd.DataFrame | None) -> dict[str, pd.DataFrame]:
    """Tidy quantile table (date, metric, q05..q95) → {quantile: wide daily table}."""
    if df is None or len(df) == 0:
        return {}
    t = df.copy()
    t["date"] = pd.to_datetime(t["date"]).dt.normalize()
    t["metric"] = t["metric"].astype(str)
    out = {}
    for q in QUANTILES:
        if q in t.columns:
            w = t.pivot_table(index="date", columns="metric", values=q, aggfunc="sum").sort_index()
            w.columns = [str(c) for c in w.columns]
            out[q] = w
    return out if len(out) == len(QUANTILES) else {}


@dataclass
class ReportData:
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
    sectors: list[str] = field(default_factory=list)   # the scenario's order for per-sector panels
    observed_source: str | None = None                 # who published the observed series

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

    def in_scenario_order(self, prefix: str) -> list[str]:
        """Metrics `prefix<sector>` the runs report: the scenario's sectors first, in its order, then the rest."""
        metrics = [m for m in (f"{prefix}{s}" for s in self.sectors) if self.has(m)]
        return metrics + [m for m in self.with_prefix(prefix) if m not in metrics]


def scenario_colours(names: list[str], baseline: str) -> dict[str, str]:
    """Baseline in black, the others from tab10 (tab20 beyond ten)."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    others = [n for n in names if n != baseline]
    cmap = colormaps["tab10" if len(others) <= 10 else "tab20"]
    out = {baseline: "#000000"}
    for i, n in enumerate(others):
        out[n] = to_hex(cmap(i % cmap.N))
    return out


def resolve_period(daily: dict[str, pd.DataFrame], period) -> tuple[tuple | None, str]:
    """Clip the requested period (None: every day the runs share) to the days every run covers; say what happened."""
    want = (pd.Timestamp(period[0]), pd.Timestamp(period[1])) if period is not None else None
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
    if want is None:
        return (lo, hi), f"Period: {lo:{fmt}}–{hi:{fmt}}, the days all runs cover."
    start, end = max(want[0], lo), min(want[1], hi)
    if start > end:
        return (lo, hi), (f"The runs do not cover the requested period {want[0]:{fmt}}–{want[1]:{fmt}}; "
                          f"totals cover the days all runs share instead: {lo:{fmt}}–{hi:{fmt}}.")
    if (start, end) != want:
        return (start, end), (f"Requested period {want[0]:{fmt}}–{want[1]:{fmt}} shrunk to the days all "
                              f"runs cover: {start:{fmt}}–{end:{fmt}}.")
    return (start, end), f"Period: {start:{fmt}}–{end:{fmt}}."


def pick_baseline(names: list[str], baseline: str | None, preferred: str | None = None) -> str:
    """`baseline` if given (it must be a run); else `preferred` (the labels' baseline) if it is a run; else the first."""
    if baseline is not None:
        if baseline not in names:
            raise ValueError(f"baseline {baseline!r} is not one of the runs: {', '.join(names)}")
        return baseline
    return preferred if preferred is not None and preferred in names else names[0]


def prepare(runs: dict[str, pd.DataFrame], world: WorldTables | None, observed, bands, baseline,
            period) -> ReportData:
    """Pivot every run, band and the observed series; pick the baseline and the period (`period` None: the
    labels' totals period, else every day the runs share)."""
    labels = world.labels if world is not None else None
    names = list(runs)
    base = pick_baseline(names, baseline, labels.baseline if labels else None)
    daily = {n: daily_table(runs[n]) for n in names}
    wide_bands = {n: band_tables(b) for n, b in (bands or {}).items() if n in runs}
    wide_bands = {n: b for n, b in wide_bands.items() if b}
    bands_monthly = {}
    for n, b in wide_bands.items():
        bands_monthly[n] = {q: monthly_table(w) for q, w in b.items()}
    if period is None and labels is not None:
        period = labels.totals_period
    per, per_note = resolve_period(daily, period)
    data = ReportData(names=names, baseline=base, colours=scenario_colours(names, base), daily=daily,
                      monthly={n: monthly_table(d) for n, d in daily.items()}, obs=observed_table(observed),
                      bands=wide_bands, bands_monthly=bands_monthly, period=per, period_note=per_note,
                      sectors=list(world.sectors) if world is not None else [],
                      observed_source=labels.observed_source if labels else None)
    for n, d in daily.items():
        if d.empty:
            data.notes.append(f"Run {n!r} has no rows.")
    return data
