"""A run against the pinned run: `compare`'s totals over the labels' period, grouped by the side that bears
each cost or gain (the US, Mexico, the people on the move, as the deal explorer groups its objectives)."""
from __future__ import annotations

import math

import pandas as pd
from dash import html

from ..report.prepare import pick_baseline, resolve_period
from ..report.totals import TOTALS, format_value, totals_table as _totals
from ..report.world_tables import WorldTables

__all__ = ["SIDE_OF", "totals_rows", "totals_table"]

# Each quantity of `report.totals.TOTALS` and the side it counts for; a quantity not named here (a rule's
# active days) is listed under "rules".
SIDE_OF = {
    "US southwest encounters": "US", "Border Patrol encounters (between ports)": "US",
    "OFO encounters (at ports)": "US", "Released into the US": "US", "Removed (deported)": "US",
    "Sector-days with custody over capacity": "US",
    "Detentions in Mexico": "Mexico", "Returned to Mexico": "Mexico", "Mean people stranded in Mexico": "Mexico",
    "Days of crossing closure (summed over crossings)": "Mexico", "Trade through closed crossings": "Mexico",
    "Mean Mexican enforcement personnel": "Mexico",
    "Mean people waiting in Mexican border cities": "people on the move",
    "Person-days in US custody over holding capacity": "people on the move",
    "Repeat encounters": "people on the move", "Darién crossings": "people on the move",
}
SIDE_ORDER = ("US", "Mexico", "people on the move", "rules")
assert set(SIDE_OF) == {label for label, _, _ in TOTALS}


def totals_rows(world: WorldTables, pin: tuple[str, pd.DataFrame], run: tuple[str, pd.DataFrame]) -> pd.DataFrame:
    """Tidy totals of both runs' wide daily tables (as `corridor compare` makes them: `report_totals`), the
    pinned run as baseline, with the side each quantity counts for."""
    names = [pin[0], run[0]] if pin[0] != run[0] else [pin[0], run[0] + " (this run)"]
    daily = {names[0]: pin[1], names[1]: run[1]}
    per, _note = resolve_period(daily, world.labels.totals_period)
    tot = _totals(daily, per, pick_baseline(names, names[0], None))
    tot["side"] = tot["quantity"].map(SIDE_OF).fillna("rules")
    return tot


def totals_table(tot: pd.DataFrame) -> html.Div:
    if tot.empty:
        return html.P("No totals: the two runs share no days.", className="note")
    base = tot["scenario"].iloc[0]
    other = [n for n in tot["scenario"].unique() if n != base][0]
    lo, hi = pd.Timestamp(tot["start"].iloc[0]), pd.Timestamp(tot["end"].iloc[0])
    head = html.Tr([html.Th("side"), html.Th("quantity"), html.Th("unit"), html.Th(f"pinned: {base}"),
                    html.Th(f"this run: {other}"), html.Th("difference")])
    body = []
    for side in SIDE_ORDER:
        g = tot[tot["side"] == side]
        for i, (q, gq) in enumerate(g.groupby("quantity", sort=False)):
            r = gq.set_index("scenario")
            unit = r["unit"].iloc[0]
            b, v, diff = r.at[base, "value"], r.at[other, "value"], r.at[other, "difference"]
            pct = f" ({diff / b * 100:+.1f}%)" if b and not math.isnan(b) and not math.isnan(diff) else ""
            cls = "same" if not diff or math.isnan(diff) else ("up" if diff > 0 else "down")
            body.append(html.Tr([html.Th(side if i == 0 else "", className="side"), html.Td(q), html.Td(unit),
                                 html.Td(format_value(b, unit)), html.Td(format_value(v, unit)),
                                 html.Td(format_value(diff, unit, signed=True) + pct, className=f"d {cls}")]))
    return html.Div([html.P(f"Totals from {lo:%Y-%m-%d} to {hi:%Y-%m-%d} (the scenario family's totals period, "
                            f"clipped to the days both runs cover), as `corridor compare` reports them.",
                            className="note"),
                     html.Table([html.Thead(head), html.Tbody(body)], className="totals", id="totals-table")])
