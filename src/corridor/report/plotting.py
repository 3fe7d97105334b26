"""The drawing vocabulary every figure shares: an Agg canvas, date and count axes, ensemble fans, panels.

Figures are ``matplotlib.figure.Figure`` objects on their own ``FigureCanvasAgg``; pyplot is never imported,
so a report touches no global matplotlib state. ``render_png`` fixes the PNG metadata so the bytes repeat.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from .prepare import ReportData

__all__ = ["ReportFigure", "OBS_COLOUR", "OBS_LOOKBACK_MONTHS", "new_figure", "date_axis", "count_axis", "fan", "observed_window",
           "plot_monthly", "small_multiples", "figure_legend", "legend_right", "render_png"]

OBS_COLOUR = "#222222"
OBS_LOOKBACK_MONTHS = 12  # observed months shown before a run starts


@dataclass
class ReportFigure:
    """One rendered figure: its file name stem, the page section it goes in, its caption, its PNG."""

    key: str
    section: str
    caption: str
    png: bytes


def new_figure(w: float, h: float, nrows: int = 1, ncols: int = 1, **kw):
    """A Figure on an Agg canvas (no pyplot) and its axes array."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(w, h), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
    return fig, axes


def render_png(fig, dpi: int = 100) -> bytes:
    """The figure as PNG bytes on white, without a Software stamp (same figure, same bytes)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white", metadata={"Software": None})
    return buf.getvalue()


def date_axis(ax) -> None:
    import matplotlib.dates as mdates

    loc = mdates.AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(loc)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))
    ax.grid(True, alpha=0.3)


def count_axis(ax, integer: bool = False) -> None:
    """Counts: y from zero, thousands separators, whole-number ticks when `integer`."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    ax.yaxis.set_major_formatter(FuncFormatter(
        lambda v, _p: f"{v:,.0f}" if abs(v) >= 10 or float(v).is_integer() else f"{v:.2g}"))
    if integer:
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    lo, hi = ax.get_ylim()
    if lo < 0 <= hi or lo > 0:
        ax.set_ylim(0, max(hi, 1.0))


def fan(ax, band: dict[str, pd.DataFrame], metric: str, colour: str) -> bool:
    """Shade the 5–95% and 25–75% ensemble bands of one metric; True if drawn."""
    if not band or metric not in band["q05"].columns:
        return False
    x = band["q05"].index
    ax.fill_between(x, band["q05"][metric], band["q95"][metric], color=colour, alpha=0.12, lw=0)
    ax.fill_between(x, band["q25"][metric], band["q75"][metric], color=colour, alpha=0.25, lw=0)
    return True


def observed_window(data: ReportData) -> pd.DataFrame:
    """Observed months from OBS_LOOKBACK_MONTHS before the first run month onwards."""
    first = data.first_month()
    if first is None or data.obs.empty:
        return data.obs
    return data.obs[data.obs.index >= first - pd.DateOffset(months=OBS_LOOKBACK_MONTHS)]


def plot_monthly(ax, data: ReportData, metric: str, obs: pd.DataFrame) -> bool:
    """Lines of one metric per scenario (monthly) + observed markers + fans; True if anything drawn."""
    drawn = False
    for name in data.names:
        m = data.monthly[name]
        if metric in m.columns and m[metric].notna().any():
            c = data.colours[name]
            fan(ax, data.bands_monthly.get(name, {}), metric, c)
            ax.plot(m.index, m[metric], color=c, lw=1.8, marker=".", ms=4, label=name)
            drawn = True
    if metric in obs.columns and obs[metric].notna().any():
        ax.plot(obs.index, obs[metric], ls="none", marker="o", ms=3.5, color=OBS_COLOUR,
                mfc="white", label="observed")
        drawn = True
    date_axis(ax)
    return drawn


def small_multiples(data: ReportData, metrics: list[tuple[str, str]], title: str, ylabel: str,
                    monthly: bool, obs: pd.DataFrame | None = None, ncols: int = 3,
                    extra: Callable | None = None):
    """Grid of panels, one per (metric, panel title); lines per scenario; one shared legend."""
    n = len(metrics)
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig, axes = new_figure(4.0 * ncols, 2.7 * nrows + 0.8, nrows, ncols, sharex=True)
    for i, (metric, panel) in enumerate(metrics):
        ax = axes[i // ncols][i % ncols]
        if monthly:
            plot_monthly(ax, data, metric, obs if obs is not None else data.obs.iloc[0:0])
        else:
            for name in data.names:
                d = data.daily[name]
                if metric in d.columns:
                    fan(ax, data.bands.get(name, {}), metric, data.colours[name])
                    ax.plot(d.index, d[metric], color=data.colours[name], lw=1.3, label=name)
            date_axis(ax)
        if extra is not None:
            extra(ax, metric)
        count_axis(ax)
        ax.set_title(panel, fontsize=10)
        if i % ncols == 0:
            ax.set_ylabel(ylabel)
        if i // ncols == nrows - 1 or i + ncols >= n:
            ax.set_xlabel("month" if monthly else "date")
            ax.tick_params(labelbottom=True)
    for j in range(n, nrows * ncols):
        axes[j // ncols][j % ncols].set_visible(False)
    figure_legend(fig, axes)
    fig.suptitle(title, fontsize=13, fontweight="bold")
    return fig


def figure_legend(fig, axes) -> None:
    """One legend for the whole figure, from the labels of every axis, without duplicates."""
    handles: dict[str, object] = {}
    for ax in np.ravel(axes):
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if not lab.startswith("_"):
                handles.setdefault(lab, h)
    if handles:
        fig.legend(list(handles.values()), list(handles.keys()), loc="outside lower center",
                   ncol=min(6, len(handles)), fontsize=9, frameon=False)


def legend_right(ax) -> None:
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)
