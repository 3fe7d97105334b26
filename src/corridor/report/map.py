"""The map of the corridor: country outlines, legs as curves (width ∝ flow, colour = mode), places as dots.

Outlines come from the bundled Natural Earth GeoJSON and are drawn with matplotlib alone (no downloads, no
map library). The window is the scenario's labels' ``map_extent``, else fitted to its places. Every
scenario's map shares one scale, so widths and dots compare across maps.
"""

from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from importlib.resources import files

import numpy as np
import pandas as pd

from .plotting import ReportFigure, new_figure, render_png
from .prepare import ReportData
from .world_tables import WorldTables

__all__ = ["MODE_COLOURS", "country_paths", "map_extent", "place_sizes", "leg_flows", "fig_map", "map_figures",
           "file_stem"]

MODE_COLOURS = {"foot": "#8c564b", "bus": "#1f77b4", "train": "#9467bd", "truck": "#ff7f0e",
                "boat": "#17becf", "air": "#7f7f7f"}

GEOJSON = ("data", "geo", "americas-50m.geojson")
MAP_MARGIN_DEG = 2.0  # around the places when the labels give no window


@lru_cache(maxsize=1)
def country_paths():
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


def map_extent(world: WorldTables) -> tuple[float, float, float, float]:
    """(lon min, lon max, lat min, lat max): the labels' window, else the places' box with a margin."""
    if world.labels.map_extent is not None:
        return world.labels.map_extent
    lon = pd.to_numeric(world.places.get("lon", pd.Series(dtype=float)), errors="coerce").dropna()
    lat = pd.to_numeric(world.places.get("lat", pd.Series(dtype=float)), errors="coerce").dropna()
    if lon.empty or lat.empty:
        return (-180.0, 180.0, -90.0, 90.0)
    m = MAP_MARGIN_DEG
    return (float(lon.min()) - m, float(lon.max()) + m, float(lat.min()) - m, float(lat.max()) + m)


def place_sizes(world: WorldTables, d: pd.DataFrame) -> pd.Series:
    """Mean number of people at each place over the period (place_population, else waiting_population)."""
    out = {}
    for _, p in world.places.iterrows():
        pid, name = str(p["id"]), str(p.get("name", ""))
        for col in (f"place_population:{pid}", f"waiting_population:{name}", f"waiting_population:{pid}"):
            if col in d.columns:
                out[pid] = float(d[col].mean())
                break
    return pd.Series(out, dtype=float)


def leg_flows(world: WorldTables, d: pd.DataFrame) -> pd.Series:
    """People starting each leg, summed over the period."""
    out = {}
    for lid in world.legs["id"].astype(str):
        col = f"leg_flow:{lid}"
        if col in d.columns:
            out[lid] = float(d[col].sum())
    return pd.Series(out, dtype=float)


def bezier(p0, p1, bend: float, n: int = 24) -> np.ndarray:
    """Points on a quadratic curve from p0 to p1 bent sideways by `bend` degrees (parallel legs apart)."""
    p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
    mid = (p0 + p1) / 2
    v = p1 - p0
    norm = np.hypot(*v) or 1.0
    ctrl = mid + bend * np.array([-v[1], v[0]]) / norm
    t = np.linspace(0, 1, n)[:, None]
    return (1 - t) ** 2 * p0 + 2 * (1 - t) * t * ctrl + t ** 2 * p1


def format_people(v: float) -> str:
    return f"{v:,.0f}"


def fig_map(data: ReportData, world: WorldTables, name: str, max_flow: float, max_pop: float):
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
    flows = leg_flows(world, d)
    sizes = place_sizes(world, d)

    fig, axes = new_figure(8.0, 5.9)
    ax = axes[0][0]
    x0, x1, y0, y1 = map_extent(world)
    ax.set_facecolor("#dbe9f4")
    ax.add_collection(PathCollection(list(country_paths()), facecolor="#f4efe4", edgecolor="#9a9a9a",
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
        pts = bezier(coords[a], coords[b], bend)
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
                                  label=f"{format_people(f)} people (leg flow)"))
    handles.append(Line2D([], [], color="#555555", lw=0.6, ls=":", label="no flow in period"))
    if max_pop > 0:
        for p in (max_pop, max_pop / 4):
            handles.append(Line2D([], [], ls="none", marker="o", color="#c0392b", alpha=0.55,
                                  markeredgecolor="#5b1a13", markersize=math.sqrt(8 + 700 * p / pop_unit),
                                  label=f"{format_people(p)} people (mean at place)"))
    if closed:
        handles.append(Line2D([], [], ls="none", marker="x", color="#000000", markersize=7,
                              label="crossing closed most of period"))
    ax.legend(handles=handles, loc="lower left", fontsize=7.5, framealpha=0.9, labelspacing=0.9,
              borderpad=0.7, handlelength=3.2, title="mode / flow / people", title_fontsize=7.5)
    return fig



def map_figures(data: ReportData, world: WorldTables | None) -> tuple[list[ReportFigure], list[tuple[str, str]]]:
    """One map per scenario on a common scale, and (section, note) pairs saying what could not be drawn."""
    figs: list[ReportFigure] = []
    skipped: list[tuple[str, str]] = []
    if world is None or data.period is None or world.places is None or len(world.places) == 0:
        skipped.append(("map", "Map skipped: no world tables or no days to summarise."))
        return figs, skipped
    lo, hi = data.period
    max_flow = max_pop = 0.0
    for n in data.names:
        d = data.daily[n]
        d = d[(d.index >= lo) & (d.index <= hi)]
        f = leg_flows(world, d)
        places = world.places[world.places["kind"].astype(str) != "sink"] if "kind" in world.places else world.places
        s = place_sizes(WorldTables(places, world.legs), d)
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
            figs.append(ReportFigure(f"map_{file_stem(n)}", "map",
                                     f"{n}: line width ∝ people starting the leg over the period (same scale in "
                                     f"every map), colour = mode; red dots ∝ mean people at the place; × = crossing "
                                     f"closed more than half the period.", render_png(fig, dpi=110)))
    return figs, skipped


def file_stem(name: str) -> str:
    """A scenario name as a safe file-name stem."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "scenario"
