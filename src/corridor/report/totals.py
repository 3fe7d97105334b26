"""Totals and costs over a period per scenario, with each one's difference from the baseline.

``report_totals`` is the table behind the report's last section and ``totals.csv``; `corridor compare`
prints a few of its rows. Quantities are named after the engine's metrics; a run lacking one gets n/a.
"""

from __future__ import annotations

import html
import math
from typing import Callable

import pandas as pd

from .labels import ReportLabels
from .prepare import daily_table, pick_baseline, resolve_period

__all__ = ["DEFAULT_PERIOD", "TOTALS", "report_totals", "totals_table", "format_value", "totals_html"]

# No period given: the scenario's labels' totals period (write_report), else every day the runs share.
DEFAULT_PERIOD = None

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


def report_totals(runs: dict[str, pd.DataFrame], period=DEFAULT_PERIOD, baseline: str | None = None,
                  labels: ReportLabels | None = None) -> pd.DataFrame:
    """Totals per scenario over `period` (clipped to what the runs cover) and differences from baseline.

    period None: `labels.totals_period`, else every day the runs share. baseline None: `labels.baseline`
    when it is among the runs, else the first run. Returns a tidy table: scenario, quantity, unit, value,
    baseline_value, difference, start, end.
    """
    labels = labels or ReportLabels()
    daily = {n: daily_table(df) for n, df in runs.items()}
    base = pick_baseline(list(runs), baseline, labels.baseline)
    per, _note = resolve_period(daily, period if period is not None else labels.totals_period)
    return totals_table(daily, per, base)


def totals_table(daily: dict[str, pd.DataFrame], per, base: str) -> pd.DataFrame:
    """The totals of wide daily tables over a resolved period `per` ((start, end) or None), against `base`."""
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


def format_value(v: float | None, unit: str, signed: bool = False) -> str:
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


def totals_html(tot: pd.DataFrame, names: list[str], base: str, colours: dict[str, str]) -> str:
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
            cell = format_value(v, unit)
            if n != base and not math.isnan(diff):
                pct = f" ({diff / bval * 100:+.1f}%)" if bval and not math.isnan(bval) and bval != 0 else ""
                cls = "up" if diff > 0 else ("down" if diff < 0 else "same")
                cell += f"<br><span class='d {cls}'>Δ {format_value(diff, unit, signed=True)}{pct}</span>"
            cells.append(f"<td>{cell}</td>")
        body.append(f"<tr><th scope='row'>{html.escape(label)}</th><td class='u'>{html.escape(unit)}</td>"
                    + "".join(cells) + "</tr>")
    return ("<div class='tablewrap'><table><thead><tr><th>quantity</th><th>unit</th>" + head
            + "</tr></thead><tbody>" + "".join(body) + "</tbody></table></div>")

