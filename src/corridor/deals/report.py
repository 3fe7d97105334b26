"""DIR/report.html of a deal search: the front as trade-off charts and parallel coordinates, the deals better
than the status quo for both governments, each front deal's levers and the mechanisms that carry them, the
convergence, where the chosen deal fails, and what it all means in plain words. One self-contained file."""
from __future__ import annotations

import base64
import html
import io
import json

import numpy as np
import pandas as pd

from ..results import atomic_write
from .objectives import BY_NAME, CROWDED_DEFAULT_PLACES, MODE_SHARE, SOUTH_BORDER
from .space import CROSSINGS

PAIRS = (("us_encounters", "mexico_personnel"), ("us_peak_custody_over_capacity", "mexico_trade_blocked_usd"),
         ("us_encounters", "mexico_people_stranded"), ("us_removals_to_fly", "mexico_returns_accepted"),
         ("us_encounters", "people_in_crowded_cities"), ("mexico_personnel", "people_custody_days_over_capacity"))
SIDE_COLOUR = {"US": "#1f4e79", "Mexico": "#2e7d32", "people": "#8d4e00"}


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _figure(w, h):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(w, h))
    FigureCanvasAgg(fig)
    return fig


def tradeoffs(table: pd.DataFrame, front: pd.DataFrame, sq: dict, options: pd.DataFrame | None = None) -> str:
    fig = _figure(12, 7.5)
    axes = fig.subplots(2, 3).ravel()
    deals = front[front["deal"] != "status-quo"]
    switch = f"lever:{CROSSINGS}"
    for ax, (x, y) in zip(axes, PAIRS):
        ax.scatter(table[f"objective:{x}"], table[f"objective:{y}"], s=8, c="0.8", label="evaluated")
        if switch in deals:
            for val, colour, label in ((1, "#c62828", "front: crossings kept closed"),
                                       (0, "#1565c0", "front: crossings reopened")):
                d = deals[deals[switch] == val]
                ax.scatter(d[f"objective:{x}"], d[f"objective:{y}"], s=22, c=colour, label=label)
        else:
            ax.scatter(deals[f"objective:{x}"], deals[f"objective:{y}"], s=22, c="#c62828", label="front")
        ax.scatter([sq[x]], [sq[y]], marker="*", s=180, c="k", label="status quo")
        if options is not None and len(options):
            ax.scatter(options[f"objective:{x}"], options[f"objective:{y}"], marker="D", s=30, facecolors="none",
                       edgecolors="k", label="December options")
            for _, o in options.iterrows():
                ax.annotate(o["deal"].replace("option:", ""), (o[f"objective:{x}"], o[f"objective:{y}"]),
                            fontsize=6, xytext=(3, 3), textcoords="offset points")
        ax.set_xlabel(f"{x} ({BY_NAME[x].side})", fontsize=8)
        ax.set_ylabel(f"{y} ({BY_NAME[y].side})", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.spines[["top", "right"]].set_visible(False)
    axes[0].legend(fontsize=7, frameon=False)
    fig.suptitle("Pairwise trade-offs (lower is better on both axes)", fontsize=10)
    fig.tight_layout()
    return _png(fig)


def parallel(front: pd.DataFrame, names: list[str], sq: dict) -> str:
    fig = _figure(12, 4.5)
    ax = fig.subplots()
    deals = front[front["deal"] != "status-quo"]
    x = np.arange(len(names))
    ratio = np.array([[(r[f"objective:{n}"] / sq[n]) if sq[n] else (1.0 + r[f"objective:{n}"]) for n in names]
                      for _, r in deals.iterrows()]).reshape(-1, len(names))
    switch = f"lever:{CROSSINGS}"
    for i, (_, r) in enumerate(deals.iterrows()):
        colour = "#1565c0" if switch in r and r[switch] == 0 else "#c62828"
        ax.plot(x, ratio[i], c=colour, alpha=0.35, lw=1)
    ax.axhline(1.0, c="k", lw=2, label="status quo")
    ax.set_xticks(x, [f"{n}\n({BY_NAME[n].side})" for n in names], rotation=35, ha="right", fontsize=7)
    ax.set_ylabel("deal / status quo", fontsize=8)
    top = float(np.nanmax(ratio)) if ratio.size else 2.0
    ax.set_ylim(0, min(max(top * 1.05, 1.5), 4.0))
    ax.set_title("Parallel coordinates of the front (red: crossings kept closed, blue: reopened); below 1 is "
                 "better than the status quo", fontsize=9)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return _png(fig)


def convergence_chart(conv: pd.DataFrame) -> str:
    fig = _figure(5.5, 3)
    ax = fig.subplots()
    ax.plot(conv["generation"], conv["hypervolume"], "o-", c="#1f4e79")
    ax.set_xlabel("generation", fontsize=8)
    ax.set_ylabel("hypervolume (objectives / status quo)", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return _png(fig)


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.3g}"


def _change(v: float, ref: float) -> str:
    if ref == 0:
        return _fmt(v)
    return f"{_fmt(v)} ({(v / ref - 1) * 100:+.0f}%)"


def deal_rows(search, rows: pd.DataFrame, sq: dict, sq_levers: dict, limit: int = 40) -> str:
    """A table: each deal's levers that differ from the status quo, the mechanisms (phases) they act through,
    and its objectives against the status quo (marked ~ where within the noise)."""
    if not len(rows):
        return "<p><em>none</em></p>"
    head = "".join(f"<th style='color:{SIDE_COLOUR[o.side]}'>{html.escape(o.name.replace('_', ' '))}</th>"
                   for o in search.objectives)
    body = []
    for _, r in rows.head(limit).iterrows():
        changed = []
        for d in search.dims:
            v = r[d.column]
            if abs(v - sq_levers[d.name]) > 1e-9 * max(1.0, abs(sq_levers[d.name])):
                changed.append(f"{html.escape(d.name.replace('policies.', ''))} {sq_levers[d.name]:.3g}&rarr;{v:.3g}")
        noisy = set(str(r.get("within_noise") or "").split(",")) - {""}
        cells = "".join(f"<td>{'~' if o.name in noisy else ''}{_change(r[f'objective:{o.name}'], sq[o.name])}</td>"
                        for o in search.objectives)
        body.append(f"<tr><td>{html.escape(r['deal'])}</td><td class='lv'>{'<br>'.join(changed) or '(as the status quo)'}"
                    f"</td>{cells}</tr>")
    more = f"<p>... and {len(rows) - limit} more (front.csv)</p>" if len(rows) > limit else ""
    return f"<table><tr><th>deal</th><th>levers changed (status quo&rarr;deal)</th>{head}</tr>" \
           f"{''.join(body)}</table>{more}"


def lever_table(search, sq_levers: dict) -> str:
    """Each searched lever once: its range, the status quo's value, its side, and the mechanism carrying it."""
    rows = "".join(
        f"<tr><td>{html.escape(d.name)}</td><td>{d.low:.3g}..{d.high:.3g}</td><td>{sq_levers[d.name]:.3g}</td>"
        f"<td>{html.escape(d.lever.side)}</td><td>{html.escape(', '.join(d.lever.phases))}</td>"
        f"<td>{html.escape(d.meaning)}</td></tr>" for d in search.dims)
    return ("<table><tr><th>lever</th><th>searched</th><th>status quo</th><th>side</th><th>phases that read it</th>"
            f"<th>the mechanism that carries its effect (lever registry)</th></tr>{rows}</table>")


def by_switch(search, deals: pd.DataFrame) -> str:
    """The best each front deal with the crossings reopened / kept closed achieves on each objective."""
    switch = f"lever:{CROSSINGS}"
    if switch not in deals or not len(deals):
        return ""
    sq = search.status_quo["scores"]
    head = "".join(f"<th style='color:{SIDE_COLOUR[o.side]}'>{html.escape(o.name.replace('_', ' '))}</th>"
                   for o in search.objectives)
    body = ""
    for val, label in ((0, "reopened"), (1, "kept closed")):
        sub = deals[deals[switch] == val]
        if not len(sub):
            body += f"<tr><td>crossings {label}: no front deal</td></tr>"
            continue
        cells = "".join(f"<td>{_change(float(sub[f'objective:{o.name}'].min()), sq[o.name])}</td>"
                        for o in search.objectives)
        body += f"<tr><td>crossings {label} ({len(sub)} front deals)</td>{cells}</tr>"
    return (f"<p>The best the front reaches on each objective (each cell may be a different deal) with the crossings "
            f"closed in December 2023 reopened or kept closed:</p><table><tr><th></th>{head}</tr>{body}</table>")


def options_html(search, options: pd.DataFrame | None, sq: dict, sq_levers: dict) -> str:
    if options is None or not len(options):
        return ""
    rows = options.copy()
    rows["within_noise"] = ""
    verdicts = "".join(
        f"<li>{html.escape(r['deal'].replace('option:', ''))}: better than the status quo for the US "
        f"{'yes' if r['better_for_US'] else 'no'}, for Mexico {'yes' if r['better_for_Mexico'] else 'no'}, for the "
        f"people {'yes' if r['better_for_people'] else 'no'}; dominated by {int(r['dominated_by'])} front deal(s)</li>"
        for _, r in options.iterrows())
    return ("<p>The bundled options (each scenario's levers a week into the period, held from the branch date), run "
            "as deals over the same runs:</p><ul>" + verdicts + "</ul>" + deal_rows(search, rows, sq, sq_levers))


def plain_words(search, table: pd.DataFrame, front: pd.DataFrame, both: pd.DataFrame) -> str:
    deals = front[front["deal"] != "status-quo"]
    sq = search.status_quo["scores"]
    parts = [f"{len(table)} deals were evaluated, each over {search.runs} run(s) with the same seeds and draws of "
             f"{len(search.uncertain)} uncertain behavioural parameters; {len(deals)} are on the front (no other "
             f"deal is at least as good on every objective and better on one)."]
    if len(table) and len(deals) > 0.5 * len(table):
        parts.append(f"With {len(search.names)} objectives most deals are on the front ({len(deals)} of {len(table)}): "
                     f"a deal rarely loses on every count at once, so the front by itself says little, and what "
                     f"sorts the deals is which side gains what (below: the December options and the deals better "
                     f"for both governments).")
    switch = f"lever:{CROSSINGS}"
    if switch in deals and len(deals):
        reopened, closed = deals[deals[switch] == 0], deals[deals[switch] == 1]
        parts.append(f"{len(reopened)} of the {len(deals)} front deals reopen the crossings closed in December 2023.")
        for n in ("us_encounters", "us_peak_custody_over_capacity"):
            if len(reopened) and len(closed):
                a, b = float(reopened[f"objective:{n}"].min()), float(closed[f"objective:{n}"].min())
                parts.append(f"The lowest {n.replace('_', ' ')} on the front is {_change(a, sq[n])} with the crossings "
                             f"reopened and {_change(b, sq[n])} with them kept closed.")
    if len(both):
        parts.append(f"{len(both)} deal(s) are better than the status quo for both governments (no objective of "
                     f"either worse by more than the noise, and one of each better by more than it): a trade both "
                     f"could accept exists in this model.")
    else:
        parts.append("No evaluated deal is better than the status quo for both governments: every deal that cuts "
                     "what the US counts costs Mexico something it counts (personnel, people stranded, returns or "
                     "trade), so any agreement is a trade of one side's losses against the other's gains.")
    parts.append("A front deal is not a recommendation: the front shows what can be had for what, and the "
                 "choice among its deals is the governments'.")
    return "<p>" + " ".join(html.escape(p) for p in parts) + "</p>"


def write_report(search, table: pd.DataFrame, front: pd.DataFrame, conv: pd.DataFrame) -> None:
    sq = search.status_quo["scores"]
    sq_levers = search.status_quo["levers"]
    deals = front[front["deal"] != "status-quo"].copy()
    both = deals[deals["better_for_US"] & deals["better_for_Mexico"]] if len(deals) else deals
    if len(deals):
        deals["_mean_ratio"] = np.mean([deals[f"objective:{n}"] / (sq[n] or 1.0) for n in search.names], axis=0)
        deals = deals.sort_values("_mean_ratio")
    opt_path = search.out / "options.csv"
    options = pd.read_csv(opt_path) if opt_path.is_file() else None
    disc_path = search.out / "discovery.json"
    discovery = json.loads(disc_path.read_text()) if disc_path.is_file() else None
    s = search.settings()
    figs = ""
    if len(table):
        figs = (f"<img src='{tradeoffs(table, front, sq, options)}' alt='pairwise trade-offs'>"
                f"<img src='{parallel(front, search.names, sq)}' alt='parallel coordinates'>")
    conv_img = f"<img src='{convergence_chart(conv)}' alt='hypervolume per generation'>" if len(conv) else ""
    noise = ", ".join(f"{n} {_fmt(v)}" for n, v in search.sq_noise.items() if v > 0) or "not estimated (one run)"
    disc_html = ""
    if discovery:
        disc_html = f"<h2>Where the deal fails: scenario discovery</h2><p>{html.escape(discovery['summary'])}</p>"
        for target, b in discovery.get("boxes", {}).items():
            if not b["box"]:
                continue
            disc_html += (f"<p>Fails {'for both governments' if target == 'both' else 'for ' + target}:</p>"
                          "<table><tr><th>parameter</th><th>from</th><th>to</th><th>range drawn</th></tr>" + "".join(
                              f"<tr><td>{html.escape(x['parameter'])}</td><td>{x['low']:.4g}</td><td>{x['high']:.4g}</td>"
                              f"<td>{x['range'][0]:.4g}..{x['range'][1]:.4g}</td></tr>" for x in b["box"]) + "</table>")
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>corridor deals: {html.escape(search.sc.name)}</title>
<style>body{{font-family:sans-serif;max-width:1350px;margin:1em auto;font-size:14px}} img{{max-width:100%}}
table{{border-collapse:collapse;font-size:10px;width:100%}} td,th{{border:1px solid #ccc;padding:2px 4px;vertical-align:top}}
.m{{color:#666;font-size:10px}} .lv{{max-width:420px}}</style></head><body>
<h1>The deal explorer: {html.escape(search.sc.name)}, deals from {s['branch']}</h1>
<h2>What the front means</h2>{plain_words(search, table, front, both)}
<h2>The front</h2>{figs}
<h2>The levers searched</h2>{lever_table(search, sq_levers)}
<h2>The December 2023 options on the front</h2>{by_switch(search, deals)}{options_html(search, options, sq, sq_levers)}
<h2>Deals better than the status quo for both governments</h2>{deal_rows(search, both, sq, sq_levers)}
<h2>The front's deals, lowest mean of deal / status quo over the objectives first</h2>
<p>Each cell: the deal's score and its change from the status quo's; ~ marks a difference smaller than the
ensemble noise (the status quo's standard deviation over its runs). Levers: the value on the branch date, the
status quo's &rarr; the deal's; in brackets the phases of the model that read the lever and what it does.</p>
{deal_rows(search, deals, sq, sq_levers)}
<h2>Convergence</h2>{conv_img}<p>Hypervolume of the front of the deals evaluated up to each generation, on objectives
divided by the status quo's, against one reference point 10% beyond the worst evaluated deal.</p>
{disc_html}
<h2>How deals were made and scored</h2><ul>
<li>Scenario {html.escape(s['scenario'])} ({html.escape(s['scenario_arg'])}); objectives over {s['period'][0]}..{s['period'][1]};
scale {s['scale'] or 'as the scenario'}; {s['runs']} run(s) per deal; seed {s['seed']}; population {s['population']}
(NSGA-II); {len(table)} of {s['budget']} deals evaluated.</li>
<li>A deal sets each searched lever from {s['branch']} on: the base scenario's dated steps of that lever before that day
are kept, and every later step of it is replaced by the deal's value. Other levers stay as the scenario has them.
The crossings closed in December 2023 are one switch ({html.escape(CROSSINGS)}: 1 kept closed, 0 reopened).</li>
<li>Score: {html.escape(s['statistic'])}, over runs that share their seeds and their draws of the uncertain parameters
with every other deal (common random numbers). Noise (status quo's standard deviation): {html.escape(noise)}.</li>
<li>Uncertain parameters: {html.escape(', '.join(f"{u['path']} {u['low']:.3g}..{u['high']:.3g}" for u in s['uncertain']))}
(drawn within the calibration's ranges: a band half their width around the fitted value, ASSUMED).</li>
<li>mexico_personnel is computed from the deal's levers: {s['base_personnel']:,.0f} &times; enforcement (the scenario's
personnel figure on the branch date, facts_transit.csv row 18; proportionality ASSUMED) + {MODE_SHARE:g} &times;
{s['base_personnel']:,.0f} per unit of contention on each mode (ASSUMED) + {SOUTH_BORDER:,.0f} per unit of blocking
at the Guatemala border (the 2019 southern deployment, facts_transit.csv row 39).</li>
<li>People in crowded border cities: people waiting in a border city with more people than its shelter places
(the scenario's shelter capacities; {CROWDED_DEFAULT_PLACES:,.0f} where none is known, ASSUMED).</li>
<li>Constraints: {html.escape(', '.join(s['constraints']) or 'none')}.</li></ul>
<h2>Objectives</h2><table><tr><th>name</th><th>side</th><th>unit</th><th>status quo</th><th>meaning</th></tr>
{''.join(f"<tr><td>{o.name}</td><td>{o.side}</td><td>{o.unit}</td><td>{_fmt(sq[o.name])}</td><td>{html.escape(o.meaning)}</td></tr>" for o in search.objectives)}
</table></body></html>"""
    atomic_write(search.out / "report.html", page)
