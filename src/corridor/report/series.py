"""Time-series figures: the border, its sectors and nationalities, Mexico and the Darién, custody, levers.

Each ``fig_*`` takes the prepared `ReportData` and returns a Figure, or None when no run reports the
metric (the page then says the figure was skipped). Per-sector panels follow the scenario's sector order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .plotting import (OBS_COLOUR, count_axis, date_axis, fan, figure_legend, legend_right, new_figure,
                       observed_window, plot_monthly, small_multiples)
from .prepare import ReportData

__all__ = ["fig_sw_daily", "fig_sw_monthly", "fig_sectors", "top_nationalities", "fig_nationalities",
           "fig_single_monthly", "fig_mexico_detentions", "fig_darien", "fig_custody", "fig_waiting",
           "fig_outcomes", "fig_levers"]

def fig_sw_daily(data: ReportData):
    """US southwest encounters per day: 7-day mean per scenario, raw days faint, observed monthly means."""
    metric = "sw_encounters"
    if not data.has(metric):
        return None
    fig, axes = new_figure(11, 4.6)
    ax = axes[0][0]
    for name in data.names:
        d = data.daily[name]
        if metric not in d.columns:
            continue
        c = data.colours[name]
        fan(ax, data.bands.get(name, {}), metric, c)
        ax.plot(d.index, d[metric], color=c, lw=0.6, alpha=0.3)
        ax.plot(d.index, d[metric].rolling(7, min_periods=1, center=True).mean(), color=c, lw=1.8,
                label=f"{name} (7-day mean)")
    obs = observed_window(data)
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
    date_axis(ax)
    count_axis(ax)
    legend_right(ax)
    return fig


def fig_sw_monthly(data: ReportData):
    """US southwest encounters per month, scenarios against the observed series."""
    if not data.has("sw_encounters"):
        return None
    fig, axes = new_figure(11, 4.6)
    ax = axes[0][0]
    plot_monthly(ax, data, "sw_encounters", observed_window(data))
    ax.set_title("US southwest border encounters per month, scenarios and observed")
    ax.set_xlabel("month")
    ax.set_ylabel("encounters (people/month)")
    count_axis(ax)
    legend_right(ax)
    return fig


def fig_sectors(data: ReportData):
    """Border Patrol encounters by sector, monthly small multiples with observed."""
    metrics = data.in_scenario_order("usbp_encounters:")
    if not metrics:
        return None
    return small_multiples(data, [(m, m.split(":", 1)[1]) for m in metrics],
                           "Border Patrol encounters by sector (between ports)",
                           "people/month", monthly=True, obs=observed_window(data))


def top_nationalities(data: ReportData, n: int = 9) -> list[str]:
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


def fig_nationalities(data: ReportData):
    """US southwest encounters by top nationalities, monthly small multiples with observed."""
    metrics = top_nationalities(data)
    if not metrics:
        return None
    return small_multiples(data, [(m, m.split(":", 1)[1]) for m in metrics],
                           "US southwest encounters by citizenship (top in baseline)",
                           "people/month", monthly=True, obs=observed_window(data))


def fig_single_monthly(data: ReportData, metric: str, title: str, ylabel: str):
    """One metric per month, scenarios and (if any) observed."""
    if not data.has(metric):
        return None
    fig, axes = new_figure(11, 4.2)
    ax = axes[0][0]
    plot_monthly(ax, data, metric, observed_window(data))
    ax.set_title(title)
    ax.set_xlabel("month")
    ax.set_ylabel(ylabel)
    count_axis(ax)
    legend_right(ax)
    return fig


def fig_mexico_detentions(data: ReportData):
    """Migrants detected/detained by Mexican authorities per month."""
    return fig_single_monthly(data, "mexico_detentions", "Detentions of migrants in Mexico per month",
                              "detentions (people/month)")


def fig_darien(data: ReportData):
    """Darién Gap crossings per month, with the observed (Panama) series."""
    return fig_single_monthly(data, "darien_crossings", "Darién Gap crossings per month (Panama)",
                              "crossings (people/month)")


def fig_custody(data: ReportData):
    """People in US custody per sector per day against holding capacity (dashed)."""
    sectors = [m.split(":", 1)[1] for m in data.in_scenario_order("custody_population:")]
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

    return small_multiples(data, [(f"custody_population:{s}", s) for s in sectors],
                           "People in US custody by sector (solid) against holding capacity (dashed)",
                           "people in custody", monthly=False, extra=capacity)


def fig_waiting(data: ReportData):
    """People waiting in Mexican border cities per day, one panel per city (+ all stranded in Mexico)."""
    metrics = [(m, m.split(":", 1)[1]) for m in sorted(data.with_prefix("waiting_population:"))]
    if data.has("stranded_mexico"):
        metrics.insert(0, ("stranded_mexico", "All stranded in Mexico"))
    if not metrics:
        return None
    return small_multiples(data, metrics, "People waiting in Mexican border cities",
                           "people waiting", monthly=False, ncols=3)


def fig_outcomes(data: ReportData):
    """Returns to Mexico, removals, releases and repeat encounters per month."""
    wanted = [("returns_to_mexico", "Returned to Mexico"), ("removals", "Removed (deported)"),
              ("releases", "Released into the US"), ("repeat_encounters", "Repeat encounters")]
    metrics = [(m, t) for m, t in wanted if data.has(m)]
    if not metrics:
        return None
    return small_multiples(data, metrics, "Outcomes of US encounters per month", "people/month",
                           monthly=True, obs=observed_window(data), ncols=2)


def fig_levers(data: ReportData):
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
    fig, axes = new_figure(11, 2.6 * len(panels) + 0.8, len(panels), 1, sharex=True)
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
        date_axis(ax)
        count_axis(ax, integer=panel != "personnel")
    axes[-1][0].set_xlabel("date")
    figure_legend(fig, axes)
    fig.suptitle("Levers over time", fontsize=13, fontweight="bold")
    return fig

