"""Which figures a report has, in which section, with which caption: built, rendered, or said to be skipped.

The captions describe the engine's metrics; the observed series' source comes from the scenario's labels.
"""

from __future__ import annotations

from .map import map_figures
from .plotting import ReportFigure, render_png
from .prepare import ReportData
from .series import (fig_custody, fig_darien, fig_levers, fig_mexico_detentions, fig_nationalities, fig_outcomes,
                     fig_sectors, fig_sw_daily, fig_sw_monthly, fig_waiting)
from .world_tables import WorldTables

__all__ = ["build_figures"]


def build_figures(data: ReportData, world: WorldTables | None) -> tuple[list[ReportFigure], list[tuple[str, str]]]:
    """Build every figure; return them and (section, note) pairs for the ones skipped."""
    fan = (" Shaded: ensemble 5–95% (light) and 25–75% (dark) bands"
           + ("; monthly bands are sums of daily quantiles, so wider than the true monthly band."
              if data.bands else ".")) if data.bands else ""
    obs_txt = (f" Open circles: observed ({data.observed_source})." if data.observed_source
               else " Open circles: observed.")
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
        figs.append(ReportFigure(key, section, caption, render_png(fig)))
    maps, map_notes = map_figures(data, world)
    return figs + maps, skipped + map_notes
