"""What the page does: load a preset or an upload, read the controls, queue a run, follow it, draw it, pin it,
compare and download. Every failure becomes a message on the page in the CLI's words; the page keeps working."""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from functools import lru_cache

import pandas as pd
import plotly.graph_objects as go
from dash import ALL, MATCH, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from ..analysis.observed import load_observed
from ..report import band_tables, daily_table, observed_table
from ..errors import InputError
from ..report.world_tables import WorldTables
from ..results import read_run
from ..scenario import load
from .compare_view import totals_rows, totals_table
from .controls import changes_panel, key_rows, lever_panel, read_edits, rules_panel
from .corridor_map import fig_corridor_map, month_starts, scale_of
from .edits import MAX_UPLOAD_BYTES, base_map, base_scenario, check_upload, overlay, overlay_yaml, safe_name, validate
from .figures import (Views, empty_figure, fig_custody, fig_daily, fig_differences, fig_mexico, fig_monthly,
                      fig_nationalities, fig_outcomes, fig_sectors, fig_waiting)
from .layout import MAX_BANDS, MAX_SCALE
from .runqueue import JOB_ID, Job, RunQueue

__all__ = ["register"]


@lru_cache(maxsize=1)
def _observed() -> pd.DataFrame:
    return load_observed()


@lru_cache(maxsize=16)
def _results(jid: str, folder: str) -> tuple[pd.DataFrame, dict, pd.DataFrame | None]:
    from pathlib import Path
    df, info = read_run(Path(folder) / "run")
    q = Path(folder) / "ensemble" / "quantiles.parquet"
    return df, info, (pd.read_parquet(q) if q.exists() else None)


@lru_cache(maxsize=1)
def _observed_wide() -> pd.DataFrame:
    return observed_table(_observed())


@lru_cache(maxsize=16)
def _scenario(yaml_text: str):
    return validate(yaml_text, "scenario.yaml")


@lru_cache(maxsize=16)
def _world(jid: str, yaml_text: str) -> WorldTables:
    """The run's places, legs and sectors, with the labels (baseline, totals period, map window) of the bundled
    scenario it extends when it has none of its own."""
    from dataclasses import replace
    from ..report.labels import labels_for
    world = WorldTables.from_scenario(_scenario(yaml_text))
    if not world.labels.source:
        import yaml as _yaml
        parent = (_yaml.safe_load(yaml_text) or {}).get("extends")
        if parent:
            world = replace(world, labels=labels_for(str(parent)))
    return world


def _error(text: str) -> html.Div:
    return html.Div(text, className="msg error")


def _scenario_of(preset, upload):
    if upload:
        return base_scenario(None, upload["text"], upload["name"])
    return base_scenario(preset)


def _timeline(mapping: dict, sc) -> go.Figure:
    """The edited levers' dated steps (what the overlay sets)."""
    fig = go.Figure()
    series = []
    for fld, v in (mapping.get("policies") or {}).items():
        items = v.items() if isinstance(v, dict) else [(None, v)]
        series += [(f"policies.{fld}" + (f".{k}" if k else ""), s) for k, s in items]
    for n in mapping.get("nationalities") or []:
        series += [(f"nationalities.{n['name']}.{k}", s) for k, s in n.items() if k != "name"]
    end = pd.Timestamp(mapping.get("end") or sc.end)
    for path, steps in series:
        if not isinstance(steps, list):
            continue
        xs = [pd.Timestamp(s["from"]) for s in steps] + [end]
        ys = [s["value"] for s in steps] + [steps[-1]["value"]]
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines+markers", line_shape="hv", name=path))
    if not fig.data:
        return empty_figure("No dated lever changed: the run is the preset as it stands", height=220)
    fig.update_layout(title="Edited levers over time (dated steps)", height=300, template="plotly_white",
                      margin=dict(l=50, r=10, t=40, b=30))
    return fig


def register(app, queue: RunQueue) -> None:

    @app.callback(Output("lever-panel", "children"), Output("rules-panel", "children"),
                  Output("changes-panel", "children"), Output("preset-desc", "children"),
                  Output("upload-store", "data"), Output("upload-msg", "children"),
                  Input("preset", "value"), Input("upload", "contents"), Input("branch", "value"),
                  State("upload", "filename"), State("upload-store", "data"))
    def load_base(preset, contents, branch, filename, upload):
        msg = ""
        if ctx.triggered_id == "upload" and contents:
            try:
                text = _decode(contents, filename)
                check_upload(text, filename or "upload.yaml")
                upload = {"name": safe_name(filename), "text": text}
                msg = html.Div(f"loaded {safe_name(filename)}", className="msg ok")
            except InputError as e:
                return (no_update,) * 5 + (_error(f"error: {e}"),)
        elif ctx.triggered_id == "preset":
            upload = None
        try:
            sc = _scenario_of(preset, upload)
            day = dt.date.fromisoformat(str(branch).strip())
        except InputError as e:
            return (no_update,) * 5 + (_error(f"error: {e}"),)
        except ValueError:
            return (no_update,) * 5 + (_error(f"error: branch date {branch!r} is not a date; give YYYY-MM-DD"),)
        desc = f"{sc.name}: {sc.description} ({sc.start} to {sc.end})"
        return lever_panel(sc, day), rules_panel(sc), changes_panel(sc), desc, upload, msg

    @app.callback(Output({"type": "keyed-body", "path": MATCH}, "children"),
                  Input({"type": "keyed-sum", "path": MATCH}, "n_clicks"),
                  State({"type": "keyed-body", "path": MATCH}, "children"), State("preset", "value"),
                  State("upload-store", "data"), State("branch", "value"), prevent_initial_call=True)
    def open_keyed(_n, children, preset, upload, branch):
        if children:
            raise PreventUpdate              # made once; closing and opening keeps what was set
        try:
            return key_rows(_scenario_of(preset, upload), ctx.triggered_id["path"],
                            dt.date.fromisoformat(str(branch).strip()))
        except (InputError, ValueError) as e:
            return _error(f"error: {e}")

    @app.callback(Output("job", "data"), Output("run-msg", "children"), Output("tick", "disabled"),
                  Input("run", "n_clicks"),
                  State("session", "data"), State("preset", "value"), State("upload-store", "data"),
                  State("branch", "value"), State("end", "value"), State("scale", "value"), State("seed", "value"),
                  State("bands", "value"),
                  State({"type": "lever", "path": ALL}, "id"), State({"type": "lever", "path": ALL}, "value"),
                  State({"type": "rule", "name": ALL, "part": ALL}, "id"),
                  State({"type": "rule", "name": ALL, "part": ALL}, "value"),
                  State({"type": "chg-date", "i": ALL}, "value"), State({"type": "chg-path", "i": ALL}, "value"),
                  State({"type": "chg-value", "i": ALL}, "value"), prevent_initial_call=True)
    def submit(_n, session, preset, upload, branch, end, scale, seed, bands, lids, lvals, rids, rvals,
               cdates, cpaths, cvals):
        try:
            scale = _bounded(scale, "--scale", 1, MAX_SCALE)
            seed = int(_bounded(seed, "--seed", 0, 2 ** 31 - 1, whole=True))
            bands = int(_bounded(bands or 0, "bands", 0, MAX_BANDS, whole=True))
            if bands == 1:
                raise InputError("bands 1: an ensemble for bands needs at least 2 runs (or 0 for none)")
            sc = _scenario_of(preset, upload)
            edits = read_edits(sc, branch, end, lids, lvals, rids, rvals, list(zip(cdates, cpaths, cvals)))
            upload_map = check_upload(upload["text"], upload["name"])[1] if upload else None
            mapping = overlay(sc, base_map(preset, upload_map), edits)
            name = str(mapping.get("name") or sc.name)
            fname = safe_name(name)
            cmd = f"corridor run {fname} --out runs/{fname.rsplit('.', 1)[0]} --seed {seed} --scale {scale:g} --no-report"
            text = overlay_yaml(mapping, cmd)
            validate(text, fname)            # refused here, in the CLI's words, before it queues
            job = queue.submit(session, f"{name} (scale {scale:g}, seed {seed})", text, seed, scale, bands, cmd,
                               branch=str(branch).strip())   # checked by read_edits: runs branch from it
        except InputError as e:
            return no_update, _error(f"error: {e}"), no_update
        where = (f"number {job.position} in the queue ({queue.parallel} runs going)" if job.position
                 else "starting now")
        return job.id, html.Div(f"queued {job.label}: {where}", className="msg ok"), False

    @app.callback(Output("status", "children"), Output("progress", "value"), Output("progress", "max"),
                  Output("shown", "data"), Output("tick", "disabled", allow_duplicate=True),
                  Output("run-msg", "children", allow_duplicate=True),
                  Input("tick", "n_intervals"), State("job", "data"), State("session", "data"),
                  prevent_initial_call=True)
    def follow(_n, jid, session):
        job = _job(queue, jid, session)
        if job is None:
            return "", "0", "1", no_update, True, no_update
        if job.state == "queued":
            pos = queue.position(job)
            return (f"waiting: number {pos} in the queue ({queue.running()} of {queue.parallel} runs going)",
                    "0", "1", no_update, False, no_update)
        if job.state == "running":
            what = "ensemble runs" if job.stage == "ensemble" else "days"
            return (f"running {job.label}: {job.done}/{job.total or '?'} {what}", str(job.done),
                    str(max(job.total, 1)), no_update, False, no_update)
        if job.state == "failed":
            return "failed", "0", "1", no_update, True, _error(job.message)
        took = (job.finished or 0) - (job.started or 0)
        return (f"done: {job.label} in {took:.1f} s", "1", "1", job.id, True,
                html.Div(f"done in {took:.1f} s", className="msg ok"))

    @app.callback(Output("pinned", "data"), Output("pin-msg", "children"),
                  Input("pin", "n_clicks"), Input("unpin", "n_clicks"), State("shown", "data"),
                  State("session", "data"), prevent_initial_call=True)
    def pin(_a, _b, shown, session):
        if ctx.triggered_id == "unpin":
            return None, ""
        job = _job(queue, shown, session)
        if job is None or job.state != "done":
            return no_update, "run something first: the run shown is what gets pinned"
        return job.id, f"pinned: {job.label}; the next run is compared with it (Compare tab)"

    def _views(shown, pinned, session):
        """(job, Views, world) of this page's shown run and its pinned run; None while there is no run."""
        job, pjob = _job(queue, shown, session), _job(queue, pinned, session)
        if job is None or job.state != "done":
            return None
        run = (job.label, _daily(job.id, str(job.folder)))
        pin = (pjob.label, _daily(pjob.id, str(pjob.folder))) if pjob and pjob.id != job.id else None
        return job, Views(run, pin, _observed_wide(), _bands(job.id, str(job.folder))), _world(job.id, job.yaml_text)

    def tab_view(tab: str, outputs: list, draw_fn, blanks: tuple):
        """A callback drawing one tab's outputs, only while that tab is shown (a tab is drawn when opened)."""
        @app.callback(*outputs, Input("shown", "data"), Input("pinned", "data"), Input("tabs", "value"),
                      State("session", "data"))
        def draw(shown, pinned, current, session):
            if current != tab or (ctx.triggered_id == "pinned" and pinned == shown):
                raise PreventUpdate          # another tab is shown, or pinning the run on show changes nothing
            got = _views(shown, pinned, session)
            if got is None:
                return blanks
            try:
                return draw_fn(*got)
            except Exception as e:  # noqa: BLE001 - a chart that cannot be drawn says why; the page keeps working
                msg = f"could not draw this run: {type(e).__name__}: {e}"
                return tuple(empty_figure(msg) if isinstance(b, go.Figure) else _error(msg) for b in blanks)
        return draw

    blank = empty_figure("Press Run: the preset's levers as they stand, or as you set them")
    tab_view("border", [Output("fig-daily", "figure"), Output("fig-monthly", "figure"),
                        Output("fig-sectors", "figure"), Output("fig-nats", "figure")],
             lambda job, v, world: (fig_daily(v), fig_monthly(v), fig_sectors(v, world.sectors),
                                    fig_nationalities(v)), (blank,) * 4)
    tab_view("mexico", [Output("fig-mexico", "figure"), Output("fig-custody", "figure"),
                        Output("fig-waiting", "figure"), Output("fig-outcomes", "figure")],
             lambda job, v, world: (fig_mexico(v), fig_custody(v, world.sectors), fig_waiting(v), fig_outcomes(v)),
             (blank,) * 4)

    def _compare(job, v, world):
        if v.pin is None:
            return fig_differences(v), html.P("Pin a run (left), change a lever, run again: the differences and "
                                              "each side's totals appear here.", className="note")
        return fig_differences(v), totals_table(totals_rows(world, v.pin, v.run))
    tab_view("compare", [Output("fig-diff", "figure"), Output("totals", "children")], _compare, (blank, ""))

    def _files(job, v, world):
        import yaml as _yaml
        return job.command, job.yaml_text, _timeline(_yaml.safe_load(job.yaml_text), _scenario(job.yaml_text))
    tab_view("files", [Output("command", "children"), Output("yaml", "children"), Output("fig-timeline", "figure")],
             _files, ("", "", blank))

    @app.callback(Output("map-month", "max"), Output("map-month", "marks"), Output("map-month", "value"),
                  Input("shown", "data"), State("session", "data"))
    def map_months(shown, session):
        job = _job(queue, shown, session)
        if job is None or job.state != "done":
            return 0, {}, 0
        months = month_starts(_daily(job.id, str(job.folder)))
        marks = {i: m.strftime("%b %y") for i, m in enumerate(months) if m.month in (1, 7) or i == 0}
        start = next((i for i, m in enumerate(months) if m >= pd.Timestamp("2024-01-01")), 0)
        return max(len(months) - 1, 0), marks, start

    @app.callback(Output("fig-map", "figure"), Output("map-date", "children"),
                  Input("map-month", "value"), Input("shown", "data"), Input("tabs", "value"),
                  State("session", "data"))
    def draw_map(i, shown, current, session):
        if current != "map":
            raise PreventUpdate
        job = _job(queue, shown, session)
        if job is None or job.state != "done":
            return empty_figure("The map appears after a run", height=500), ""
        daily = _daily(job.id, str(job.folder))
        world = _world(job.id, job.yaml_text)
        months = month_starts(daily)
        if not months:
            return empty_figure("The run has no days", height=500), ""
        m = months[min(int(i or 0), len(months) - 1)]
        max_flow, max_pop = _scale(job.id, str(job.folder), job.yaml_text)
        return fig_corridor_map(world, daily, m, job.label, max_flow, max_pop), f"{m:%B %Y}"

    @app.callback(Output("map-tick", "disabled"), Output("play", "children"), Input("play", "n_clicks"),
                  State("map-tick", "disabled"), prevent_initial_call=True)
    def play(_n, disabled):
        return (False, "❚❚ Pause") if disabled else (True, "▶ Play")

    @app.callback(Output("map-month", "value", allow_duplicate=True), Input("map-tick", "n_intervals"),
                  State("map-month", "value"), State("map-month", "max"), prevent_initial_call=True)
    def advance(_n, i, top):
        return 0 if (i or 0) >= (top or 0) else (i or 0) + 1

    @app.callback(Output("download", "data"), Input("dl-parquet", "n_clicks"), Input("dl-csv", "n_clicks"),
                  Input("dl-yaml", "n_clicks"), Input("dl-cmd", "n_clicks"), State("shown", "data"),
                  State("session", "data"), prevent_initial_call=True)
    def download(_a, _b, _c, _d, shown, session):
        job = _job(queue, shown, session)
        if job is None or job.state != "done" or not ctx.triggered_id:
            return no_update
        stem = safe_name(str(_scenario_name(job))).rsplit(".", 1)[0]
        which = ctx.triggered_id
        if which == "dl-parquet":
            return dcc.send_bytes((job.run_dir / "metrics.parquet").read_bytes(), f"{stem}.metrics.parquet")
        if which == "dl-csv":
            df = _results(job.id, str(job.folder))[0]
            return dcc.send_string(df.to_csv(index=False), f"{stem}.metrics.csv")
        if which == "dl-yaml":
            return dict(content=job.yaml_text, filename=f"{stem}.yaml")
        return dict(content=job.command + "\n", filename=f"{stem}.command.txt")


BANDED = ("sw_encounters", "usbp_encounters", "mexico_detentions")   # the series the charts draw bands for


@lru_cache(maxsize=16)
def _bands(jid: str, folder: str) -> dict:
    q = _results(jid, folder)[2]
    return band_tables(q[q["metric"].str.startswith(BANDED)]) if q is not None else {}


SKIPPED = ("lever:", "perceived_chance:", "departures:", "darien_crossings:", "processing_capacity:")


@lru_cache(maxsize=16)
def _daily(jid: str, folder: str) -> pd.DataFrame:
    """A run's wide daily table, without the series no chart draws (the levers' records, ...)."""
    df = _results(jid, folder)[0]
    keep = ~df["metric"].str.startswith(SKIPPED)
    return daily_table(df[keep])


@lru_cache(maxsize=16)
def _scale(jid: str, folder: str, yaml_text: str) -> tuple[float, float]:
    return scale_of(_world(jid, yaml_text), _daily(jid, folder))


def _scenario_name(job: Job) -> str:
    m = re.search(r"^name:\s*(\S+)", job.yaml_text, re.M)
    return m.group(1) if m else "scenario"


def _job(queue: RunQueue, jid, session) -> Job | None:
    """A job of this page (an id from another page, or not an id, is no job)."""
    if not isinstance(jid, str) or not re.match(JOB_ID, jid):
        return None
    job = queue.get(jid)
    return job if job is not None and job.session == session else None


def _decode(contents: str, filename: str | None) -> str:
    name = safe_name(filename)
    try:
        _head, b64 = contents.split(",", 1)
        raw = base64.b64decode(b64, validate=True)
    except (ValueError, binascii.Error):
        raise InputError(f"{name}: the upload could not be read") from None
    if len(raw) > MAX_UPLOAD_BYTES:
        raise InputError(f"{name}: {len(raw):,} bytes; an uploaded scenario may be at most {MAX_UPLOAD_BYTES:,} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{name}: not UTF-8 text; a scenario is a YAML text file") from None


def _bounded(v, what: str, lo: float, hi: float, whole: bool = False) -> float:
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise InputError(f"{what} {v!r}: not a number; valid: {lo:g} to {hi:g}") from None
    if not (lo <= x <= hi) or (whole and x != int(x)):
        raise InputError(f"{what} {v:g}: valid: {'a whole number ' if whole else ''}from {lo:g} to {hi:g}")
    return x
