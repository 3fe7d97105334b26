"""The page's controls, made from the lever registry: one control per lever (one per key for a keyed lever),
with the registry's bounds, plausible range, unit and description (as the tooltip), grouped by the side of the
talks the lever belongs to; the scenario's conditional rules with their thresholds editable; dated changes.

`read_edits` turns what the controls hold back into `edits.Edits`, refusing values outside the bounds in the
words the CLI uses for a bad `--set`.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from dash import dcc, html

from ..codes import SIDES
from ..errors import InputError
from ..levers import LeverError, check_value
from ..scenario import Scenario
from .edits import Edits, lever_controls, parse_path, value_on, _setting

__all__ = ["lever_panel", "key_rows", "rules_panel", "changes_panel", "read_edits", "N_CHANGES", "SIDE_TITLES"]

N_CHANGES = 4   # rows of dated changes on the page

SIDE_TITLES = {"US": "What the US gives", "Mexico": "What Mexico gives", "pathways": "Legal pathways",
               "push factors": "Push factors (aid, sanctions)", "transit countries": "Transit countries",
               "inputs": "Inputs"}


def _shown(v: Any) -> Any:
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def _range_text(lv) -> str:
    if lv.kind == "flag":
        return "1 = on, 0 = off"
    if lv.kind in ("choice", "place"):
        return lv.unit
    lo, hi = lv.range if lv.range else (lv.min, lv.max)
    return f"{lo:g}–{hi:g} {lv.unit}" if lo is not None and hi is not None else lv.unit


def _control(lv, path: str, value: Any, sc: Scenario):
    cid = {"type": "lever", "path": path}
    if lv.kind == "choice":
        return dcc.Dropdown(id=cid, options=list(lv.choices), value=value, clearable=False, className="ctl-choice")
    if lv.kind == "place":
        return dcc.Dropdown(id=cid, options=[p.id for p in sc.places], value=value, clearable=False,
                            className="ctl-choice")
    if lv.kind == "flag":
        return dcc.Checklist(id=cid, options=[{"label": " on", "value": "on"}], value=["on"] if value else [],
                             inline=True, className="ctl-flag")
    step = 1 if lv.integer else ("any")
    return dcc.Input(id=cid, type="number", value=_shown(value), min=lv.min, max=lv.max, step=step,
                     debounce=True, className="ctl-number")


def lever_panel(sc: Scenario, branch: dt.date) -> html.Div:
    """Every lever's control, by side; values are the scenario's on the branch date."""
    by_lever: dict[str, list] = {}
    for lv, key, path in lever_controls(sc):
        by_lever.setdefault(lv.path, [lv, []])[1].append((key, path))
    sides: dict[str, list] = {s: [] for s in SIDES}
    for lv, items in by_lever.values():
        when = "from the branch date" if lv.dated else "for the whole run (not dated)"
        tip = f"{lv.description}. Valid: {lv.valid_text()}. Plausible: {_range_text(lv)}. Read by: " \
              f"{', '.join(lv.phases)}. Set {when}."
        label = html.Span([html.B(lv.field.replace("_", " ")), html.Span(f" ({_range_text(lv)})", className="unit")],
                          title=tip, className="lever-name")
        if len(items) == 1 and items[0][0] is None:
            key, path = items[0]
            value = value_on(_setting(sc, lv, key), branch, lv.neutral)
            body = html.Div([label, _control(lv, path, value, sc)], className="lever one", title=tip)
        else:   # one control per key, made when the lever is first opened (a page holds hundreds of keys)
            body = html.Details([html.Summary(label, title=tip, id={"type": "keyed-sum", "path": lv.path}),
                                 html.Div(id={"type": "keyed-body", "path": lv.path}, className="keygrid")],
                                className="lever keyed", title=tip)
        sides[lv.side].append(body)
    groups = []
    for i, side in enumerate(SIDES):
        if sides[side]:
            groups.append(html.Details([html.Summary(f"{SIDE_TITLES.get(side, side)} · {len(sides[side])} levers"),
                                        html.Div(sides[side], className="levers")],
                                       open=side in ("US", "Mexico"), className="side", id=f"side-{i}"))
    note = html.P("Where people head for (border-city weights) is set in an uploaded YAML.", className="note")
    return html.Div(groups + [note])


def key_rows(sc: Scenario, lever_path: str, branch: dt.date) -> list:
    """The controls of a keyed lever, one per key, with the scenario's values on the branch date."""
    rows = []
    for lv, key, path in lever_controls(sc):
        if lv.path == lever_path:
            value = value_on(_setting(sc, lv, key), branch, lv.neutral)
            rows.append(html.Div([html.Span(key, className="key", title=f"{path}: {lv.description}"),
                                  _control(lv, path, value, sc)], className="keyrow"))
    return rows


def _cond_text(c) -> str:
    return f"{c.statistic} of {c.metric} over {c.window_days} day(s) {c.comparison}"


def rules_panel(sc: Scenario) -> html.Div:
    if not sc.rules:
        return html.P("This scenario has no conditional rules (presets conditional-reopen and proclamation-rule "
                      "have some).", className="note")
    out = []
    for r in sc.rules:
        acts = ", ".join(f"{a.lever} = {a.value}" for a in r.action)
        parts = [html.Div([html.B(r.name), html.Span(f" — {r.description}" if r.description else "")]),
                 html.Div([f"when {_cond_text(r.condition)} ",
                           dcc.Input(id={"type": "rule", "name": r.name, "part": "condition"}, type="number",
                                     value=_shown(r.condition.threshold), debounce=True, className="ctl-number"),
                           f" (for {r.condition.for_days} day(s)) → {acts}"
                           + (f", from {r.active_from}" if r.active_from else "")])]
        if r.release is not None:
            parts.append(html.Div([f"released when {_cond_text(r.release)} ",
                                   dcc.Input(id={"type": "rule", "name": r.name, "part": "release"}, type="number",
                                             value=_shown(r.release.threshold), debounce=True,
                                             className="ctl-number"),
                                   f" after {r.release_after_days} day(s)"]))
        out.append(html.Div(parts, className="rule"))
    return html.Div(out)


def changes_panel(sc: Scenario) -> html.Div:
    """Rows of dated changes: a date, a dated lever (full path), a value."""
    paths = [path for lv, key, path in lever_controls(sc) if lv.dated]
    rows = []
    for i in range(N_CHANGES):
        rows.append(html.Div([
            dcc.Input(id={"type": "chg-date", "i": i}, type="text", placeholder="YYYY-MM-DD", debounce=True,
                      className="ctl-date"),
            dcc.Dropdown(id={"type": "chg-path", "i": i}, options=paths, placeholder="lever", className="ctl-path"),
            dcc.Input(id={"type": "chg-value", "i": i}, type="text", placeholder="value", debounce=True,
                      className="ctl-value"),
        ], className="chgrow"))
    return html.Div(rows)


def _number(lv, path: str, raw: Any, where: str) -> Any:
    if lv.kind == "choice" or lv.kind == "place":
        value = raw
    elif lv.kind == "flag" and isinstance(raw, list):
        value = 1.0 if "on" in raw else 0.0
    else:
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise InputError(f"{where} {path}={raw}: field '{path}': bad value {raw!r}; valid: {lv.valid_text()}") \
                from None
    try:
        check_value(lv, value, path)
    except LeverError as e:
        raise InputError(f"{where} {path}={raw}: {e}") from None
    return value


def _date(text: Any, what: str, lo: dt.date, hi: dt.date) -> dt.date:
    try:
        d = dt.date.fromisoformat(str(text).strip())
    except ValueError:
        raise InputError(f"{what}: {text!r} is not a date; give YYYY-MM-DD") from None
    if not lo <= d <= hi:
        raise InputError(f"{what}: {d} is outside the scenario's period {lo} to {hi}")
    return d


def read_edits(sc: Scenario, branch_text: Any, end_text: Any, lever_ids: list, lever_values: list,
               rule_ids: list, rule_values: list, chg: list[tuple[Any, Any, Any]]) -> Edits:
    """What the controls hold, checked: dates within the scenario's period, values within the levers' bounds."""
    first = sc.start - dt.timedelta(days=sc.spinup_days)
    branch = _date(branch_text, "branch date", sc.start, sc.end)
    end = _date(end_text, "end", max(sc.start, branch), sc.end) if end_text else None
    e = Edits(branch=branch, end=end)
    for cid, raw in zip(lever_ids, lever_values):
        if raw is None:
            continue
        lv, _key = parse_path(sc, cid["path"])
        e.values[cid["path"]] = _number(lv, cid["path"], raw, "control")
    for cid, raw in zip(rule_ids, rule_values):
        if raw is None:
            continue
        try:
            e.thresholds[(cid["name"], cid["part"])] = float(raw)
        except (TypeError, ValueError):
            raise InputError(f"rule {cid['name']}: field '{cid['part']}.threshold': bad value {raw!r}; "
                             f"valid: a number") from None
    for date_text, path, raw in chg:
        if not date_text and not path and raw in (None, ""):
            continue
        if not (date_text and path and raw not in (None, "")):
            raise InputError("dated change: give a date, a lever and a value (or clear the row)")
        lv, _key = parse_path(sc, path)
        d = _date(date_text, f"dated change {path}", first, sc.end)
        raw_v = raw if lv.kind == "choice" else raw
        e.changes.append((d, path, _number(lv, path, raw_v, "dated change")))
    return e


def current_values(sc: Scenario, branch: dt.date) -> dict[str, Any]:
    """Each control's value for a scenario on a date (what `lever_panel` shows)."""
    return {path: value_on(_setting(sc, lv, key), branch, lv.neutral) for lv, key, path in lever_controls(sc)}
