"""The self-contained HTML page and ``write_report``, which writes it with its figures and tables.

The page loads nothing from anywhere (no URLs, no scripts): CSS inline, images as data: URIs, and a
Content-Security-Policy that forbids the rest. Figures are rendered inside an ``rc_context``, so a report
leaves global matplotlib state as it found it.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

import pandas as pd

from .. import __version__
from ..results import atomic_write
from .figures import build_figures
from .fit import fit_html, fit_table
from .plotting import ReportFigure
from .prepare import ReportData, prepare
from .totals import DEFAULT_PERIOD, totals_html, totals_table
from .world_tables import WorldTables

__all__ = ["SECTION_TITLES", "CSS", "write_report", "page_html"]

SECTION_TITLES = {
    "scenarios": "Scenarios",
    "fit": "Fit to the observed record",
    "encounters": "US southwest border encounters",
    "breakdown": "Encounters by sector and nationality",
    "mexico": "Mexican detentions and Darién crossings",
    "custody": "US custody and people waiting in Mexico",
    "outcomes": "Returns, removals, releases and repeat encounters",
    "levers": "Levers over time",
    "map": "Map of the corridor",
    "totals": "Totals and differences from the baseline",
}

CSS = """
body{font-family:'DejaVu Sans',Arial,sans-serif;margin:0;color:#222;background:#fafafa;line-height:1.45}
header{background:#1f3a5f;color:#fff;padding:18px 28px}
header h1{margin:0 0 4px;font-size:1.6em}
header p{margin:0;opacity:.85}
nav{padding:8px 28px;background:#e9eef4;font-size:.92em}
nav a{margin-right:14px;color:#1f3a5f}
main{padding:8px 28px 40px;max-width:1250px}
section{margin:22px 0 30px}
h2{border-bottom:2px solid #1f3a5f;padding-bottom:4px;color:#1f3a5f}
figure{margin:14px 0 24px;background:#fff;padding:10px;border:1px solid #ddd}
figure img{max-width:100%;height:auto;display:block}
figcaption{font-size:.9em;color:#444;margin-top:6px}
.note{color:#7a4b00;background:#fff6e0;border-left:4px solid #e0a800;padding:6px 10px}
.sw{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:6px;vertical-align:middle}
dl.scen dt{font-weight:bold;margin-top:10px}
dl.scen dd{margin:2px 0 0 18px}
.tablewrap{overflow-x:auto}
table{border-collapse:collapse;font-size:.86em;background:#fff}
th,td{border:1px solid #ccc;padding:5px 8px;text-align:right;vertical-align:top}
thead th{background:#e9eef4;text-align:center}
tbody th{text-align:left;font-weight:normal;max-width:260px}
td.u{color:#666;text-align:left}
.d{font-size:.85em}
.d.up{color:#8b1a1a}.d.down{color:#1a5e8b}.d.same{color:#666}
.maps{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:12px}
"""

MATPLOTLIB_RC = {"font.size": 9.5, "axes.titlesize": 11, "axes.labelsize": 9.5, "legend.fontsize": 9,
                 "axes.spines.top": False, "axes.spines.right": False, "figure.dpi": 100}


def write_report(out_dir: Path, runs: dict[str, pd.DataFrame], world: WorldTables,
                 observed: pd.DataFrame | None = None, title: str = "corridor report",
                 notes: dict[str, str] | None = None, bands: dict[str, pd.DataFrame] | None = None,
                 baseline: str | None = None, period: tuple[str, str] | None = DEFAULT_PERIOD,
                 runs_info: dict[str, dict] | None = None) -> Path:
    """Write ``out_dir/report.html`` (self-contained) and ``out_dir/figures/*.png``; return the HTML path.

    runs: scenario → tidy (date, metric, value) daily table. world: places, legs, sectors and labels
    (`WorldTables.from_scenario`). observed: tidy (month, series, value) real data. notes: scenario →
    paragraph. bands: scenario → (date, metric, q05, q25, q50, q75, q95). baseline: scenario to difference
    against (default: the labels' baseline if it is among the runs, else the first). period: (start, end)
    of the totals table and maps (default: the labels' totals period, else every day the runs share),
    clipped to the days the runs cover. runs_info: scenario → its run.json (scenario, hash, seed, scale,
    version, date, agents created), stated beside each scenario so a report says which run it shows.
    Also writes ``out_dir/totals.csv`` and ``out_dir/fit.csv``.
    """
    import matplotlib

    if not runs:
        raise ValueError("write_report needs at least one run")
    data = prepare(runs, world, observed, bands, baseline, period)  # validates before touching the disk
    out_dir = Path(out_dir)
    fig_dir = out_dir / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)

    with matplotlib.rc_context(MATPLOTLIB_RC):
        figs, skipped = build_figures(data, world)
    for f in figs:
        atomic_write(fig_dir / f"{f.key}.png", f.png)

    tot = totals_table(data.daily, data.period, data.baseline)
    atomic_write(out_dir / "totals.csv", tot.to_csv(index=False).encode("utf-8"))
    fit = fit_table(runs[data.baseline], observed, data.baseline)
    atomic_write(out_dir / "fit.csv", fit.to_csv(index=False).encode("utf-8"))

    page = page_html(data, figs, skipped, tot, fit, title, notes or {}, runs_info or {})
    path = out_dir / "report.html"
    atomic_write(path, page.encode("utf-8"))
    return path


def provenance(info: dict) -> str:
    """Which run a report shows, in one line: scenario, its hash, seed, scale, version and date of the run."""
    if not info:
        return ""
    parts = [f"scenario {info.get('scenario', '?')}", f"hash {info.get('scenario_hash', '?')}",
             f"seed {info.get('seed', '?')}", f"scale {info.get('scale', '?')}",
             f"corridor {info.get('version', '?')}", f"run {info.get('date', '?')}"]
    if "agents_created" in info:
        parts.append(f"{info['agents_created']:,} agents")
    return " · ".join(str(p) for p in parts)


def page_html(data: ReportData, figs: list[ReportFigure], skipped: list[tuple[str, str]], tot: pd.DataFrame,
              fit: pd.DataFrame, title: str, notes: dict[str, str], runs_info: dict[str, dict] | None = None) -> str:
    """Assemble the HTML page (escaped text, inline CSS, images as data: URIs)."""
    esc = html.escape
    runs_info = runs_info or {}
    for n in data.names:
        if n in runs_info and runs_info[n].get("agents_created") == 0:
            data.notes.append(f"Run {n!r} created no agent (its scale leaves too few people per agent): every "
                              f"metric is zero.")
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; img-src data:; "
        "style-src 'unsafe-inline'\">",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        "<link rel='icon' href='data:,'>",
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>",
        f"<header><h1>{esc(title)}</h1><p>corridor {esc(__version__)} · {len(data.names)} scenario(s) · "
        f"baseline: {esc(data.baseline)} · {esc(data.period_note)}</p></header>",
        "<nav>" + "".join(f"<a href='#{k}'>{esc(t)}</a>" for k, t in SECTION_TITLES.items()) + "</nav><main>",
    ]
    for n in data.notes:
        parts.append(f"<p class='note'>{esc(n)}</p>")

    # scenarios
    parts.append(f"<section id='scenarios'><h2>{esc(SECTION_TITLES['scenarios'])}</h2><dl class='scen'>")
    for n in data.names:
        d = data.daily[n]
        span = (f"{d.index.min():%Y-%m-%d} to {d.index.max():%Y-%m-%d}, {len(d)} days, {d.shape[1]} metrics"
                if not d.empty else "no data")
        parts.append(f"<dt><span class='sw' style='background:{data.colours[n]}'></span>{esc(n)}"
                     f"{' (baseline)' if n == data.baseline else ''} <small>· {esc(span)}</small></dt>"
                     f"<dd>{esc(notes.get(n, 'No description given.'))}"
                     + (f"<br><small class='prov'>{esc(provenance(runs_info[n]))}</small>" if n in runs_info else "")
                     + "</dd>")
    parts.append("</dl></section>")
    parts.append(f"<section id='fit'><h2>{esc(SECTION_TITLES['fit'])}</h2>{fit_html(fit, data.baseline)}</section>")

    for key in ("encounters", "breakdown", "mexico", "custody", "outcomes", "levers", "map", "totals"):
        parts.append(f"<section id='{key}'><h2>{esc(SECTION_TITLES[key])}</h2>")
        for sec, msg in skipped:
            if sec == key:
                parts.append(f"<p class='note'>{esc(msg)}</p>")
        if key == "map":
            parts.append("<div class='maps'>")
        for f in figs:
            if f.section == key:
                b64 = base64.b64encode(f.png).decode("ascii")
                parts.append(f"<figure><img alt='{esc(f.key)}' src='data:image/png;base64,{b64}'>"
                             f"<figcaption>{esc(f.caption)} <small>(figures/{esc(f.key)}.png)</small>"
                             f"</figcaption></figure>")
        if key == "map":
            parts.append("</div><p><small>Country outlines: Natural Earth 1:50m (public domain), bundled "
                         "with corridor.</small></p>")
        if key == "totals":
            parts.append(f"<p>{esc(data.period_note)} Each cell: the scenario's total (or mean, where the "
                         f"quantity says so) over the period; below it, Δ = scenario − baseline "
                         f"({esc(data.baseline)}). Also in totals.csv.</p>")
            parts.append(totals_html(tot, data.names, data.baseline, data.colours))
        parts.append("</section>")
    parts.append("</main></body></html>")
    return "\n".join(parts)
