"""The page: scenario and run settings, the levers by side, rules and dated changes on the left; the views in
tabs on the right (the border, Mexico and custody, the map, the comparison, the scenario and downloads)."""
from __future__ import annotations

import secrets

from dash import dcc, html

from ..scenario import bundled_names
from .edits import DEFAULT_BRANCH, MAX_UPLOAD_BYTES

__all__ = ["DEFAULT_SCALE", "MAX_SCALE", "MAX_BANDS", "page"]

DEFAULT_SCALE = 25      # people per agent: a whole us-mexico variant answers in ~10-13 s on 2 shared cores (README)
MAX_SCALE = 1000
MAX_BANDS = 8           # ensemble runs for bands


def _graph(gid: str, height: int = 360) -> dcc.Loading:
    return dcc.Loading(dcc.Graph(id=gid, config={"displaylogo": False}, style={"minHeight": f"{height}px"}),
                       type="dot", delay_show=400)


def _field(label: str, control, tip: str = "") -> html.Div:
    return html.Div([html.Label(label, title=tip), control], className="field", title=tip)


def page() -> html.Div:
    """A fresh page (its own session id: two tabs are two sessions)."""
    presets = [{"label": n, "value": n} for n in bundled_names()]
    left = html.Div([
        html.H3("Scenario"),
        _field("Preset (the talks' options)", dcc.Dropdown(id="preset", options=presets, value="status-quo",
                                                           clearable=False)),
        html.Div(id="preset-desc", className="note"),
        dcc.Upload(id="upload", children=html.Div(["Upload a YAML overlay (", html.B("extends:"),
                                                   " a bundled scenario; at most "
                                                   f"{MAX_UPLOAD_BYTES // 1024} KiB)"]),
                   max_size=MAX_UPLOAD_BYTES, accept=".yaml,.yml,text/yaml", className="upload", multiple=False),
        html.Div(id="upload-msg", className="msg"),
        html.Div([
            _field("Branch date", dcc.Input(id="branch", type="text", value=str(DEFAULT_BRANCH), debounce=True,
                                            className="ctl-date"),
                   "levers set below act from this date on (the talks' options branch on 2023-12-28)"),
            _field("Run to", dcc.Input(id="end", type="text", value="", placeholder="scenario's end",
                                       debounce=True, className="ctl-date"),
                   "last day of the run, within the scenario's period"),
        ], className="row2"),
        html.Div([
            _field("Scale", dcc.Input(id="scale", type="number", value=DEFAULT_SCALE, min=1, max=MAX_SCALE, step=1,
                                      className="ctl-number"),
                   f"people per agent, 1 to {MAX_SCALE}: {DEFAULT_SCALE} answers in about 10 s; 1 (every person an "
                   "agent) takes a few minutes"),
            _field("Seed", dcc.Input(id="seed", type="number", value=1, min=0, max=2 ** 31 - 1, step=1,
                                     className="ctl-number")),
            _field("Bands", dcc.Input(id="bands", type="number", value=0, min=0, max=MAX_BANDS, step=1,
                                      className="ctl-number"),
                   f"0: none; 2 to {MAX_BANDS}: also an ensemble of that many seeds on dask for 5–95 % bands"),
        ], className="row3"),
        html.Div([html.Button("Run", id="run", n_clicks=0, className="primary"),
                  html.Button("Pin this run", id="pin", n_clicks=0),
                  html.Button("Unpin", id="unpin", n_clicks=0)], className="buttons"),
        html.Div(id="run-msg", className="msg"),
        html.Div([html.Progress(id="progress", value="0", max="1"), html.Span(id="status")], className="status"),
        html.Div(id="pin-msg", className="note"),
        html.H3("Levers of the talks"),
        html.P("Each control is one lever of the registry (hover for its meaning); a value changed here holds "
               "from the branch date and replaces the scenario's later dated steps of that lever.", className="note"),
        html.Div(id="lever-panel"),
        html.H3("Conditional rules"),
        html.Div(id="rules-panel"),
        html.H3("Dated changes"),
        html.P("Further steps of any dated lever (e.g. 2024-03-01, policies.contention.train, 0.2).",
               className="note"),
        html.Div(id="changes-panel"),
    ], className="left")
    tabs = dcc.Tabs(id="tabs", value="border", className="tabs", children=[
        dcc.Tab(label="Border", value="border", children=[
            _graph("fig-daily"), _graph("fig-monthly"), _graph("fig-sectors", 700), _graph("fig-nats", 700)]),
        dcc.Tab(label="Mexico & custody", value="mexico", children=[
            _graph("fig-mexico"), _graph("fig-custody", 700), _graph("fig-waiting", 400), _graph("fig-outcomes")]),
        dcc.Tab(label="Map", value="map", children=[
            html.Div([html.Button("▶ Play", id="play", n_clicks=0), html.Span(id="map-date", className="note")],
                     className="buttons"),
            dcc.Slider(id="map-month", min=0, max=0, step=1, value=0, marks={}, included=False,
                       updatemode="mouseup"),
            _graph("fig-map", 620),
            dcc.Interval(id="map-tick", interval=1500, disabled=True)]),
        dcc.Tab(label="Compare", value="compare", children=[_graph("fig-diff", 520), html.Div(id="totals")]),
        dcc.Tab(label="Scenario & downloads", value="files", children=[
            html.Div([html.Button("Results (Parquet)", id="dl-parquet", n_clicks=0),
                      html.Button("Results (CSV)", id="dl-csv", n_clicks=0),
                      html.Button("Scenario (YAML)", id="dl-yaml", n_clicks=0),
                      html.Button("Command line", id="dl-cmd", n_clicks=0)], className="buttons"),
            html.H4("The command line that reproduces the run"),
            html.Pre(id="command", className="code"),
            _graph("fig-timeline", 300),
            html.H4("The scenario that produced it"),
            html.Pre(id="yaml", className="code")]),
    ])
    return html.Div([
        dcc.Store(id="session", data=secrets.token_hex(8)),
        dcc.Store(id="upload-store"), dcc.Store(id="job"), dcc.Store(id="shown"), dcc.Store(id="pinned"),
        dcc.Interval(id="tick", interval=1000, disabled=True),
        dcc.Download(id="download"),
        html.Header([html.H1("corridor"), html.Span("what if? — the levers of the December 2023 US–Mexico talks, "
                                                    "run on an agent-based model of the migration corridor")]),
        html.Div([left, html.Div(tabs, className="right")], className="main"),
    ])
