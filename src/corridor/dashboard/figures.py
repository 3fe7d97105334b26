"""The page's charts (plotly): a run — and the pinned run when there is one — against the observed series.

Each `fig_*` takes a `Views` (wide daily and monthly tables of this run, the pinned run and the observed
series, and ensemble bands when asked) and returns a plotly figure; a metric no run records gives a figure that
says so, never an error.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..report import band_tables, daily_table, monthly_table, observed_table

__all__ = ["Views", "RUN_COLOUR", "PIN_COLOUR", "OBS_COLOUR", "fig_daily", "fig_monthly", "fig_sectors",
           "fig_nationalities", "fig_mexico", "fig_custody", "fig_waiting", "fig_outcomes", "fig_differences",
           "empty_figure"]

RUN_COLOUR, PIN_COLOUR, OBS_COLOUR = "#1f6fb4", "#8a8a8a", "#111111"
OUTCOME_COLOURS = {"releases": "#2ca02c", "removals": "#d62728", "returns_to_mexico": "#ff7f0e",
                   "repeat_encounters": "#9467bd"}


@dataclass
class Views:
    """What the charts draw: `run` and `pin` are (label, wide daily table) or None."""
    run: tuple[str, pd.DataFrame] | None
    pin: tuple[str, pd.DataFrame] | None = None
    observed: pd.DataFrame = field(default_factory=pd.DataFrame)    # wide monthly
    bands: dict[str, pd.DataFrame] = field(default_factory=dict)     # quantile → wide daily, of the run

    @classmethod
    def from_frames(cls, run, pin=None, observed=None, quantiles=None) -> "Views":
        """run / pin: (label, tidy date-metric-value) or None; observed: tidy month-series-value."""
        def wide(x):
            return None if x is None else (x[0], daily_table(x[1]))
        return cls(wide(run), wide(pin), observed_table(observed), band_tables(quantiles))

    def runs(self) -> list[tuple[str, pd.DataFrame, str, str]]:
        """(label, daily table, colour, dash) of the pinned run first, then this run."""
        out = []
        if self.pin is not None:
            out.append((f"pinned: {self.pin[0]}", self.pin[1], PIN_COLOUR, "dash"))
        if self.run is not None:
            out.append((self.run[0], self.run[1], RUN_COLOUR, "solid"))
        return out

    def monthly(self, d: pd.DataFrame) -> pd.DataFrame:
        """The monthly table of one of the runs' daily tables (made once)."""
        cache = self.__dict__.setdefault("_monthly", {})
        if id(d) not in cache:
            cache[id(d)] = monthly_table(d)
        return cache[id(d)]

    def columns(self, prefix: str) -> list[str]:
        seen: dict[str, None] = {}
        for _, d, _, _ in self.runs():
            for c in d.columns:
                if c.startswith(prefix):
                    seen[c] = None
        return list(seen)

    def window(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        days = [d.index for _, d, _, _ in self.runs() if len(d)]
        if not days:
            return None
        return min(i.min() for i in days), max(i.max() for i in days)


def _layout(fig: go.Figure, title: str, y: str, height: int = 360) -> go.Figure:
    fig.update_layout(title=dict(text=title, x=0.01, font=dict(size=15)), height=height, template="plotly_white",
                      margin=dict(l=60, r=20, t=50, b=40), legend=dict(orientation="h", y=-0.18),
                      hovermode="x unified", yaxis_title=y)
    return fig


def empty_figure(text: str, height: int = 300) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=text, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper", font=dict(size=14))
    fig.update_layout(height=height, template="plotly_white", xaxis=dict(visible=False), yaxis=dict(visible=False))
    return fig


def _observed(v: Views, metric: str, per_day: bool = False) -> pd.Series | None:
    if metric not in v.observed.columns:
        return None
    o = v.observed[metric].dropna()
    win = v.window()
    if win is not None:
        o = o[(o.index >= win[0] - pd.DateOffset(months=3)) & (o.index <= win[1])]
    if per_day:
        o = (o / o.index.days_in_month).set_axis(o.index + pd.Timedelta(days=14))
    return o if len(o) else None


def _band(fig, v: Views, metric: str, monthly: bool, row=None, col=None):
    if not v.bands or metric not in v.bands.get("q05", pd.DataFrame()).columns:
        return
    lo, hi = v.bands["q05"][metric], v.bands["q95"][metric]
    if monthly:
        lo, hi = monthly_table(lo.to_frame())[metric], monthly_table(hi.to_frame())[metric]
    else:
        lo, hi = lo.rolling(7, min_periods=1, center=True).mean(), hi.rolling(7, min_periods=1, center=True).mean()
    kw = dict(row=row, col=col) if row else {}
    fig.add_trace(go.Scatter(x=list(hi.index) + list(lo.index[::-1]), y=list(hi.values) + list(lo.values[::-1]),
                             fill="toself", fillcolor="rgba(31,111,180,0.18)", line=dict(width=0), hoverinfo="skip",
                             name="5–95 % of the ensemble", showlegend=row in (None, 1) and col in (None, 1)), **kw)


def fig_daily(v: Views) -> go.Figure:
    """US southwest encounters per day (7-day mean), observed monthly totals per day as dots."""
    fig = go.Figure()
    _band(fig, v, "sw_encounters", monthly=False)
    for label, d, colour, dash in v.runs():
        if "sw_encounters" in d.columns:
            fig.add_trace(go.Scatter(x=d.index, y=d["sw_encounters"].rolling(7, min_periods=1, center=True).mean(),
                                     name=f"{label} (7-day mean)", line=dict(color=colour, dash=dash, width=2)))
    o = _observed(v, "sw_encounters", per_day=True)
    if o is not None:
        fig.add_trace(go.Scatter(x=o.index, y=o.values, mode="markers", name="observed (CBP, monthly / days)",
                                 marker=dict(color="white", line=dict(color=OBS_COLOUR, width=1.5), size=8)))
    return _layout(fig, "US southwest border encounters per day", "people/day")


def fig_monthly(v: Views) -> go.Figure:
    fig = go.Figure()
    _band(fig, v, "sw_encounters", monthly=True)
    for label, d, colour, dash in v.runs():
        if "sw_encounters" in d.columns:
            m = v.monthly(d)["sw_encounters"]
            fig.add_trace(go.Scatter(x=m.index, y=m.values, name=label, mode="lines+markers",
                                     line=dict(color=colour, dash=dash, width=2)))
    o = _observed(v, "sw_encounters")
    if o is not None:
        fig.add_trace(go.Scatter(x=o.index, y=o.values, mode="markers", name="observed (CBP)",
                                 marker=dict(color=OBS_COLOUR, size=7, symbol="circle-open", line=dict(width=2))))
    return _layout(fig, "US southwest border encounters per month", "people/month")


def _small_multiples(v: Views, metrics: list[str], title: str, y: str, names: list[str] | None = None,
                     cols: int = 3, observed: bool = True) -> go.Figure:
    if not metrics:
        return empty_figure(f"{title}: no run records it")
    rows = math.ceil(len(metrics) / cols)
    names = names or [m.split(":", 1)[-1] for m in metrics]
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=names, shared_xaxes=True,
                        vertical_spacing=0.12 / max(rows, 1) * 2, horizontal_spacing=0.06)
    for i, metric in enumerate(metrics):
        r, c = i // cols + 1, i % cols + 1
        _band(fig, v, metric, monthly=True, row=r, col=c)
        for label, d, colour, dash in v.runs():
            if metric in d.columns:
                m = v.monthly(d)[metric]
                fig.add_trace(go.Scatter(x=m.index, y=m.values, name=label, legendgroup=label, showlegend=i == 0,
                                         line=dict(color=colour, dash=dash, width=1.8)), row=r, col=c)
        o = _observed(v, metric) if observed else None
        if o is not None:
            fig.add_trace(go.Scatter(x=o.index, y=o.values, mode="markers", name="observed", legendgroup="obs",
                                     showlegend=i == 0, marker=dict(color=OBS_COLOUR, size=4)), row=r, col=c)
    _layout(fig, title, "", height=220 * rows + 90)
    fig.update_layout(hovermode="closest")
    fig.add_annotation(text=y, xref="paper", yref="paper", x=-0.06, y=0.5, textangle=-90, showarrow=False)
    return fig


def fig_sectors(v: Views, sectors: list[str]) -> go.Figure:
    have = set(v.columns("usbp_encounters:"))
    metrics = [f"usbp_encounters:{s}" for s in sectors if f"usbp_encounters:{s}" in have]
    return _small_multiples(v, metrics, "Border Patrol encounters per month, by sector", "people/month")


def _top(v: Views, prefix: str, n: int) -> list[str]:
    if v.run is None:
        return []
    d = v.run[1]
    cols = [c for c in d.columns if c.startswith(prefix)]
    return sorted(cols, key=lambda c: -float(d[c].sum()))[:n]


def fig_nationalities(v: Views, n: int = 9) -> go.Figure:
    return _small_multiples(v, _top(v, "sw_encounters:", n),
                            f"Southwest encounters per month, the {n} largest nationalities", "people/month")


def fig_mexico(v: Views) -> go.Figure:
    """Mexico's detentions per month: the total, and by nationality for the largest."""
    fig = go.Figure()
    for label, d, colour, dash in v.runs():
        if "mexico_detentions" in d.columns:
            m = v.monthly(d)["mexico_detentions"]
            fig.add_trace(go.Scatter(x=m.index, y=m.values, name=f"{label}: all", line=dict(color=colour, dash=dash, width=2.5)))
    if v.run is not None:
        for i, c in enumerate(_top(v, "mexico_detentions:", 5)):
            m = v.monthly(v.run[1])[c]
            fig.add_trace(go.Scatter(x=m.index, y=m.values, name=c.split(":", 1)[1], line=dict(width=1.2),
                                     opacity=0.8))
    _band(fig, v, "mexico_detentions", monthly=True)
    if not fig.data:
        return empty_figure("Mexico's detentions: no run records them")
    return _layout(fig, "Detentions in Mexico per month (INM events; no monthly observed series is bundled)",
                   "people/month")


def fig_custody(v: Views, sectors: list[str]) -> go.Figure:
    """People in Border Patrol custody against holding capacity, by sector (daily)."""
    have = set(v.columns("custody_population:"))
    sectors = [s for s in sectors if f"custody_population:{s}" in have]
    if not sectors:
        return empty_figure("Custody: no run records it")
    cols = 3
    rows = math.ceil(len(sectors) / cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=sectors, shared_xaxes=True, horizontal_spacing=0.06,
                        vertical_spacing=0.24 / max(rows, 1))
    for i, s in enumerate(sectors):
        r, c = i // cols + 1, i % cols + 1
        for label, d, colour, dash in v.runs():
            if f"custody_population:{s}" in d.columns:
                fig.add_trace(go.Scatter(x=d.index, y=d[f"custody_population:{s}"].rolling(7, min_periods=1, center=True).mean(),
                                         name=f"{label}: in custody (7-day mean)",
                                         legendgroup=label, showlegend=i == 0,
                                         line=dict(color=colour, dash=dash, width=1.5)), row=r, col=c)
        d = v.run[1] if v.run is not None else v.runs()[0][1]
        if f"holding_capacity:{s}" in d.columns:
            fig.add_trace(go.Scatter(x=d.index, y=d[f"holding_capacity:{s}"], name="holding capacity",
                                     legendgroup="cap", showlegend=i == 0,
                                     line=dict(color="#d62728", width=1.2, dash="dot")), row=r, col=c)
    _layout(fig, "People in Border Patrol custody against holding capacity, by sector", "", height=220 * rows + 90)
    fig.update_layout(hovermode="closest")
    return fig


def fig_waiting(v: Views) -> go.Figure:
    """People waiting in Mexican border cities (this run stacked by city; the pinned run's total dashed)."""
    fig = go.Figure()
    if v.run is not None:
        d = v.run[1]
        for c in sorted((c for c in d.columns if c.startswith("waiting_population:")), key=lambda c: -d[c].mean()):
            fig.add_trace(go.Scatter(x=d.index, y=d[c], name=c.split(":", 1)[1], stackgroup="w", line=dict(width=0.5)))
    if v.pin is not None:
        d = v.pin[1]
        cols = [c for c in d.columns if c.startswith("waiting_population:")]
        if cols:
            fig.add_trace(go.Scatter(x=d.index, y=d[cols].sum(axis=1), name=f"pinned: {v.pin[0]} (all cities)",
                                     line=dict(color=OBS_COLOUR, dash="dash", width=2)))
    if not fig.data:
        return empty_figure("Waiting in border cities: no run records it")
    return _layout(fig, "People waiting in Mexican border cities", "people", height=400)


def fig_outcomes(v: Views) -> go.Figure:
    """Releases, removals, returns to Mexico and repeat encounters per month."""
    fig = go.Figure()
    for label, d, _, dash in v.runs():
        for metric, colour in OUTCOME_COLOURS.items():
            if metric in d.columns:
                m = v.monthly(d)[metric]
                fig.add_trace(go.Scatter(x=m.index, y=m.values, name=f"{metric.replace('_', ' ')}"
                                         + (" (pinned)" if label.startswith("pinned") else ""),
                                         line=dict(color=colour, dash=dash, width=2)))
    if not fig.data:
        return empty_figure("Outcomes: no run records them")
    return _layout(fig, "Releases, removals, returns to Mexico and repeat encounters per month", "people/month")


DIFFERENCE_METRICS = [("sw_encounters", "US southwest encounters"), ("mexico_detentions", "detentions in Mexico"),
                      ("releases", "released into the US"), ("removals", "removed"),
                      ("returns_to_mexico", "returned to Mexico"), ("repeat_encounters", "repeat encounters")]


def fig_differences(v: Views) -> go.Figure:
    """This run minus the pinned run, per month, for the main flows, and people waiting (daily mean)."""
    if v.run is None or v.pin is None:
        return empty_figure("Pin a run, then run another: its differences from the pinned run appear here")
    a, b = v.monthly(v.run[1]), v.monthly(v.pin[1])
    fig = make_subplots(rows=2, cols=4, subplot_titles=[t for _, t in DIFFERENCE_METRICS]
                        + ["people waiting at the border", "people stranded in Mexico"],
                        horizontal_spacing=0.06, vertical_spacing=0.18)
    items = DIFFERENCE_METRICS + [("waiting_population:", ""), ("stranded_mexico", "")]
    for i, (metric, _) in enumerate(items):
        r, c = i // 4 + 1, i % 4 + 1
        if metric.endswith(":"):
            cols_a = [x for x in a.columns if x.startswith(metric)]
            cols_b = [x for x in b.columns if x.startswith(metric)]
            if not cols_a or not cols_b:
                continue
            diff = a[cols_a].sum(axis=1) - b[cols_b].sum(axis=1)
        elif metric in a.columns and metric in b.columns:
            diff = a[metric] - b[metric]
        else:
            continue
        diff = diff.dropna()
        fig.add_trace(go.Bar(x=diff.index, y=diff.values, showlegend=False,
                             marker_color=["#d62728" if x > 0 else "#2ca02c" for x in diff.values],
                             name=metric), row=r, col=c)
    _layout(fig, f"{v.run[0]} minus pinned {v.pin[0]}, per month (red: more, green: fewer)", "", height=520)
    fig.update_layout(hovermode="closest")
    return fig
