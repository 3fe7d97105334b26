"""The map of the corridor for one month: flows along legs and crowds at places, drawn offline.

Country outlines are the bundled Natural Earth GeoJSON drawn as plain plotly scatter traces on x/y axes (no geo
base map, no tiles, no topojson: nothing is fetched). Legs are lines whose width grows with the people who
started them that month (colour = mode, as in the report's map); places are dots sized by the mean number of
people there that month.
"""
from __future__ import annotations

import json
import math
from functools import lru_cache
from importlib.resources import files

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..report.map import GEOJSON, MODE_COLOURS, bezier, map_extent
from ..report.world_tables import WorldTables

__all__ = ["outline_xy", "month_starts", "fig_corridor_map", "scale_of"]

WIDTH_CLASSES = (0.8, 1.6, 3.0, 5.0, 8.0, 12.0)


@lru_cache(maxsize=1)
def outline_xy() -> tuple[list, list]:
    """Every ring of the bundled outlines as one line with gaps (None) between rings."""
    feats = json.loads(files("corridor").joinpath(*GEOJSON).read_text(encoding="utf-8"))["features"]
    xs: list = []
    ys: list = []
    for f in feats:
        g = f.get("geometry") or {}
        polys = [g["coordinates"]] if g.get("type") == "Polygon" else g.get("coordinates", []) \
            if g.get("type") == "MultiPolygon" else []
        for poly in polys:
            ring = poly[0]
            if len(ring) < 4:
                continue
            step = max(1, len(ring) // 400)   # thin long rings: the map is a few hundred pixels wide
            pts = ring[::step] + [ring[0]]
            xs.extend([p[0] for p in pts] + [None])
            ys.extend([p[1] for p in pts] + [None])
    return xs, ys


def month_starts(daily: pd.DataFrame) -> list[pd.Timestamp]:
    if daily is None or daily.empty:
        return []
    return list(pd.date_range(daily.index.min().to_period("M").to_timestamp(), daily.index.max(), freq="MS"))


def fig_corridor_map(world: WorldTables, daily: pd.DataFrame, month: pd.Timestamp, label: str,
                     max_flow: float | None = None, max_pop: float | None = None) -> go.Figure:
    """The corridor in `month`; max_flow / max_pop fix the scale (the run's largest month) so months compare."""
    d = daily[(daily.index >= month) & (daily.index < month + pd.offsets.MonthBegin(1))]
    flows = {c.split(":", 1)[1]: float(d[c].sum()) for c in d.columns if c.startswith("leg_flow:")}
    pops = {c.split(":", 1)[1]: float(d[c].mean()) for c in d.columns if c.startswith("place_population:")}
    if max_flow is None:
        max_flow = max(flows.values(), default=0.0)
    if max_pop is None:
        max_pop = max(pops.values(), default=0.0)
    places = world.places.set_index(world.places["id"].astype(str))
    coords = {pid: (float(r["lon"]), float(r["lat"])) for pid, r in places.iterrows()}
    fig = go.Figure()
    xs, ys = outline_xy()
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", fill="toself", fillcolor="#f4efe4",
                             line=dict(color="#9a9a9a", width=0.6), hoverinfo="skip", showlegend=False))
    groups: dict[tuple[str, int], tuple[list, list]] = {}
    mids = ([], [], [])
    pair_n: dict[tuple, int] = {}
    for _, lg in world.legs.iterrows():
        pair_n[tuple(sorted((str(lg["from_place"]), str(lg["to_place"]))))] = \
            pair_n.get(tuple(sorted((str(lg["from_place"]), str(lg["to_place"])))), 0) + 1
    seen: dict[tuple, int] = {}
    for _, lg in world.legs.iterrows():
        a, b = str(lg["from_place"]), str(lg["to_place"])
        if a not in coords or b not in coords or a == b:
            continue
        key = tuple(sorted((a, b)))
        k = seen.get(key, 0)
        seen[key] = k + 1
        bend = 0.0 if pair_n[key] == 1 else (k - (pair_n[key] - 1) / 2) * 0.6
        pts = bezier(coords[a], coords[b], -bend if a > b else bend, n=12)
        flow = flows.get(str(lg["id"]), 0.0)
        cls = 0 if flow <= 0 or max_flow <= 0 else min(len(WIDTH_CLASSES) - 1,
                                                        1 + int(math.sqrt(flow / max_flow) * (len(WIDTH_CLASSES) - 1)))
        gx, gy = groups.setdefault((str(lg["mode"]), cls), ([], []))
        gx.extend(list(pts[:, 0]) + [None])
        gy.extend(list(pts[:, 1]) + [None])
        m = pts[len(pts) // 2]
        mids[0].append(m[0])
        mids[1].append(m[1])
        mids[2].append(f"{places.loc[a, 'name']} → {places.loc[b, 'name']} ({lg['mode']}): {flow:,.0f} people")
    widest = {}
    for mode, cls in groups:
        widest[mode] = max(widest.get(mode, 0), cls)
    for (mode, cls), (gx, gy) in sorted(groups.items(), key=lambda kv: kv[0][1]):
        fig.add_trace(go.Scatter(x=gx, y=gy, mode="lines", hoverinfo="skip", name=mode, legendgroup=mode,
                                 showlegend=cls == widest[mode], opacity=0.85 if cls else 0.35,
                                 line=dict(color=MODE_COLOURS.get(mode, "#333333"), width=WIDTH_CLASSES[cls],
                                           dash="dot" if cls == 0 else "solid")))
        fig.add_trace(go.Scatter(x=mids[0], y=mids[1], mode="markers", marker=dict(size=6, opacity=0),
                             hovertext=mids[2], hoverinfo="text", showlegend=False))
    px, py, ps, pt = [], [], [], []
    for pid, (lon, lat) in coords.items():
        if str(places.loc[pid, "kind"]) == "sink":
            continue
        pop = max(pops.get(pid, 0.0), 0.0)
        px.append(lon)
        py.append(lat)
        ps.append(4 + 26 * math.sqrt(pop / max_pop) if max_pop > 0 else 4)
        pt.append(f"{places.loc[pid, 'name']} ({places.loc[pid, 'kind']}): {pop:,.0f} people")
    fig.add_trace(go.Scatter(x=px, y=py, mode="markers", name="people at a place (mean)", hovertext=pt,
                             hoverinfo="text", marker=dict(size=ps, color="rgba(192,57,43,0.55)",
                                                           line=dict(color="#5b1a13", width=0.8))))
    closed = [coords[c.split(":", 1)[1]] for c in d.columns if c.startswith("crossing_open:")
              and c.split(":", 1)[1] in coords and len(d) and float(d[c].mean()) < 0.5]
    if closed:
        fig.add_trace(go.Scatter(x=[c[0] for c in closed], y=[c[1] for c in closed], mode="markers",
                                 name="crossing closed", marker=dict(symbol="x", size=9, color="black")))
    x0, x1, y0, y1 = map_extent(world)
    fig.update_layout(
        title=dict(text=f"{label}: {month:%B %Y} — line width ∝ people starting a leg (widest = "
                        f"{max_flow:,.0f}), dots ∝ people at a place (largest = {max_pop:,.0f})",
                   x=0.01, font=dict(size=14)),
        height=620, template="plotly_white", plot_bgcolor="#dbe9f4", margin=dict(l=40, r=10, t=50, b=30),
        xaxis=dict(range=[x0, x1], showgrid=False, zeroline=False, title="longitude", constrain="domain"),
        yaxis=dict(range=[y0, y1], showgrid=False, zeroline=False, title="latitude", constrain="domain",
                   scaleanchor="x", scaleratio=1 / math.cos(math.radians((y0 + y1) / 2))),
        legend=dict(orientation="h", y=-0.08))
    return fig


def scale_of(world: WorldTables, daily: pd.DataFrame) -> tuple[float, float]:
    """The largest monthly leg flow and monthly mean place population of a run: the map's fixed scale."""
    month = daily.index.to_period("M")
    fl = [c for c in daily.columns if c.startswith("leg_flow:")]
    pp = [c for c in daily.columns if c.startswith("place_population:")
          and c.split(":", 1)[1] not in set(world.places.loc[world.places["kind"] == "sink", "id"].astype(str))]
    max_flow = float(np.nanmax(daily[fl].groupby(month).sum().values)) if fl else 0.0
    max_pop = float(np.nanmax(daily[pp].groupby(month).mean().values)) if pp else 0.0
    return max_flow, max_pop
