"""What a calibration leaves behind: fit.json (the figures), best.yaml (an overlay scenario), report.md, and
the defaults file a scenario builder merges (`--defaults`).

Every figure is computed by the objective (objective.py) over the training, validation and full windows;
the lines naming published figures take their names and sources from the scenario's targets file.
"""
from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ...errors import InputError
from .joint import own_bases, period_values
from .objective import OTHER, Joined, Setup, Window, month_range, monthly, score
from .params import BASE_RATE, PERIOD_SEP, Param, fmt_number, overlay
from .targets import CrossingMix, CustodyCounts, Detentions, PeriodTotals, RepeatShares, Targets, catalogue


def window_figures(daily: pd.DataFrame, setup: Setup, window: Window) -> dict | None:
    """Fit figures over a window: objective terms, the details of the scenario-specific terms (keyed as in the
    targets file), baselines of the main series, series beating both baselines."""
    try:
        s = score(daily, setup, window)
    except InputError:
        return None
    res = s["validation"]
    series = {}
    for name in ("sw_encounters", "usbp_encounters", "ofo_encounters", "darien_crossings"):
        sc = res.series.get(name)
        if sc is not None:
            series[name] = {"mape": sc.mape, "bias": sc.bias, "months": sc.months,
                            "baseline_last_value_mape": sc.baseline_last_value_mape,
                            "baseline_same_month_last_year_mape": sc.baseline_same_month_last_year_mape,
                            "beats_baselines": sc.beats_baselines}
    beating = sorted(n for n, sc in res.series.items() if sc.beats_baselines)
    return {"window": str(window), "objective": s["objective"], "terms": s["terms"], **s["details"],
            "series": series, "series_compared": len(res.series), "series_beating_both_baselines": beating,
            "nationality_top": res.summary.get("nationality_share_top"),
            "per_series_mape": {n: sc.mape for n, sc in res.series.items()}}


def yearly_detentions(table: pd.DataFrame, setup: Setup) -> list[dict]:
    """Every published annual total of detention events inside the run's complete months, against the model's."""
    spec = setup.targets.detentions if setup.targets is not None else None
    if spec is None or spec.annual_measure is None or setup.detentions is None:
        return []
    detentions = table[table["series"] == "mexico_detentions"]
    months = set(detentions["month"])
    out = []
    for r in setup.detentions.itertuples():
        if r.label != spec.annual_measure:
            continue
        span = month_range(r.start, r.end)
        if all(m in months for m in span):
            model = float(detentions.loc[detentions["month"].isin(span), "value"].sum())
            out.append({"year": r.start[:4], "observed": float(r.value), "model": model,
                        "error_pct": 100.0 * (model - r.value) / r.value})
    return out


NATIONALITY_FAMILIES = ("sw_encounters:", "usbp_nationality:")


def count_observations(setup: Setup, nat_names: list[str], window: Window, details: dict | None) -> dict:
    """Observed numbers the fit used over the training window, by kind (`details`: the window's figures)."""
    obs = setup.observed
    inwin = obs[(obs["month"] >= window.start) & (obs["month"] <= window.end)]
    labels = set(inwin["series"])
    # encounters by nationality: CBP's (sw_encounters:) where the window has them, else Border Patrol's
    prefix = next((p for p in NATIONALITY_FAMILIES if any(s.startswith(p) for s in labels)), NATIONALITY_FAMILIES[0])
    nat_series = {f"{prefix}{n}" for n in nat_names}
    if OTHER in nat_names:   # labels the model folds into Other feed the ratio scaling of Other
        nat_series |= {s for s in labels if s.startswith(prefix)}
    counts = {
        "sw_encounters (monthly)": int((inwin["series"] == "sw_encounters").sum()),
        f"{prefix.rstrip(':')} by nationality (monthly)": int(inwin["series"].isin(nat_series).sum()),
        "usbp_encounters by sector (monthly)": int(inwin["series"].str.startswith("usbp_encounters:").sum()),
        "darien_crossings (monthly)": int((inwin["series"] == "darien_crossings").sum()),
    }
    for kind in (setup.targets.kinds() if setup.targets is not None else ()):
        d = (details or {}).get(kind.key)
        if isinstance(kind, (Detentions, PeriodTotals)):
            counts[f"{kind.name} (period totals)"] = 1 if d else 0
        elif isinstance(kind, RepeatShares):
            counts[f"{kind.name} (months)"] = len(d or [])
        elif isinstance(kind, CrossingMix):
            counts[f"nationality shares of {kind.name} (period shares)"] = len(d or [])
        elif isinstance(kind, CustodyCounts):
            counts[f"{kind.name} (days)"] = len(d or [])
    counts["total"] = int(sum(counts.values()))
    return counts


def fit_summary(setup, fitted, best_values, final_bases, initial_values, initial_bases, fit_bases, daily, study,
                 best, config, stage3, seconds) -> dict:
    import optuna
    nat_names = list(own_bases(initial_bases, setup))
    table = monthly(daily)
    train = window_figures(daily, setup, setup.train)
    valid = window_figures(daily, setup, setup.validation)
    full = window_figures(daily, setup, setup.full)
    n_params = len(fitted) + (len(final_bases) if fit_bases else 0)
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    failed = [t for t in study.trials if t.state == optuna.trial.TrialState.FAIL]
    parameters = []
    for p in fitted:
        parameters.append({"name": p.name, "label": p.label or p.name, "paths": list(p.paths), "value": best_values[p.name],
                           "initial": initial_values[p.name], "low": p.low, "high": p.high, "log": p.log,
                           "integer": p.integer, "meaning": p.meaning, "how": "optuna TPE", "period": p.period})
    if fit_bases:
        for key in final_bases:
            period, _, n = key.rpartition(PERIOD_SEP)
            path = f"nationalities.{n}.{BASE_RATE}"
            parameters.append({"name": f"{period}{PERIOD_SEP}{path}" if period else path, "paths": [path],
                               "value": final_bases[key], "initial": initial_bases[key], "period": period or None,
                               "meaning": f"departures/day from {n} at the reference perceived chance"
                                          + (f" ({period})" if period else ""), "how": "ratio scaling"})
    joint = "".join(f"; plus {j.weight:g} x the objective of {j.name} over its training months {j.setup.train}"
                    for j in setup.periods)
    return {
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "config": config,
        "targets": {k: t.normaliser for k, t in setup.catalogue.items()},
        "objective": "sum over terms of (training-window error / normaliser): " + "; ".join(
            f"{setup.catalogue[k].label} / {setup.catalogue[k].normaliser:g}" for k in setup.terms) + joint,
        "parameters": parameters,
        "n_parameters": n_params,
        "n_parameters_optuna": len(fitted),
        "n_parameters_ratio": len(final_bases) if fit_bases else 0,
        "observations": count_observations(setup, nat_names, setup.train, train),
        "trials": {"in_study": len(study.trials), "complete": len(complete),
                   "failed": len(failed), "best_trial": best.number if best else None,
                   "best_objective_in_study": best.value if best else None},
        "stage1_history": study.user_attrs.get("stage1_history", []),
        "stage3_history": stage3,
        "train": train, "validation": valid, "full": full,
        "mexico_yearly": yearly_detentions(table, setup),
        "seconds": round(seconds, 1),
        "monthly": monthly_totals(table),
        "periods": {},
    }


def monthly_totals(table: pd.DataFrame) -> dict:
    return {m: {s: float(v) for s, v in g.set_index("series")["value"].items()
                if s in ("sw_encounters", "usbp_encounters", "ofo_encounters", "darien_crossings", "mexico_detentions")}
            for m, g in table.groupby("month")}


def period_summary(period: Joined, fitted: list[Param], best_values: dict, final_bases: dict, initial_values: dict,
                   initial_bases: dict, fit_bases: bool, daily: pd.DataFrame) -> dict:
    """A joint fit's other period: its figures over its own windows, its observations and its own parameters."""
    s = period.setup
    table = monthly(daily)
    train = window_figures(daily, s, s.train)
    own = [p for p in fitted if p.period == period.name]
    bases = own_bases(final_bases, s, period) if fit_bases else {}
    start = own_bases(initial_bases, s, period)
    parameters = [{"name": p.name, "label": p.label or p.name, "paths": list(p.paths), "value": best_values[p.name],
                   "initial": initial_values[p.name], "low": p.low, "high": p.high, "log": p.log, "integer": p.integer,
                   "meaning": p.meaning, "how": "optuna TPE", "period": p.period} for p in own]
    parameters += [{"name": f"{period.name}{PERIOD_SEP}nationalities.{n}.{BASE_RATE}",
                    "paths": [f"nationalities.{n}.{BASE_RATE}"], "value": v, "initial": start[n], "period": period.name,
                    "meaning": f"departures/day from {n} at the reference perceived chance ({period.name})",
                    "how": "ratio scaling"} for n, v in bases.items()]
    return {"scenario": period.name, "weight": period.weight,
            "train": train, "validation": window_figures(daily, s, s.validation), "full": window_figures(daily, s, s.full),
            "observations": count_observations(s, list(start), s.train, train),
            "parameters": parameters, "mexico_yearly": yearly_detentions(table, s), "monthly": monthly_totals(table)}



def write_outputs(out_dir: Path, scenario_path: Path, setup: Setup, fitted: list[Param], best_values: dict,
                  bases: dict, fit: dict, targets: Targets | None) -> None:
    """DIR/best.yaml (an overlay extending the scenario, with the fit's figures in its header), fit.json, report.md;
    for each other period of a joint fit, DIR/best-<period>.yaml extending that period's scenario."""
    import yaml
    from ...results import atomic_write, write_json
    from ...scenario import bundled_dir

    raw = setup.raw
    values = period_values(fitted, best_values, bases, setup, None)
    labels = {k: t.label for k, t in catalogue(targets).items()}
    def extends(path, name: str) -> str:
        """A bundled scenario by its name, any other by its absolute path."""
        return name if Path(path).resolve() == (bundled_dir() / f"{name}.yaml").resolve() else str(Path(path).resolve())

    parent = raw.get("name", "")
    doc = {"name": f"{parent}-fitted", "extends": extends(scenario_path, parent)}
    doc.update(overlay(raw, values))
    lines = [f"# Fitted overlay written by `corridor calibrate` on {fit['created']}.",
             f"# Scenario {fit['config']['scenario']}, observed {fit['config']['observed']}, scale {fit['config']['scale']}, "
             f"sampler seed {fit['config']['seed']}, {fit['trials']['complete']} trials.",
             f"# {fit['n_parameters']} fitted parameters ({fit['n_parameters_optuna']} by optuna TPE, "
             f"{fit['n_parameters_ratio']} base rates by ratio scaling) against {fit['observations']['total']} "
             "observed numbers in the training window.",
             f"# Objective: {fit['objective']}."]
    for label, key in (("train", "train"), ("validation", "validation"), ("full", "full")):
        f = fit.get(key)
        if f:
            lines.append(f"# {label} {f['window']}: objective {f['objective']:.3f}; " + ", ".join(
                f"{labels[k]} {v:.2f}" for k, v in f["terms"].items() if v is not None))
    for y in fit.get("mexico_yearly", []):
        lines.append(f"# {targets.detentions.name} {y['year']}: model {y['model']:,.0f} vs observed {y['observed']:,.0f} "
                     f"({y['error_pct']:+.1f}%)")
    lines.append("# Run it: corridor run " + str(out_dir / "best.yaml"))
    text = "\n".join(lines) + "\n" + yaml.safe_dump(plain(doc), sort_keys=False, allow_unicode=True, width=10_000)
    atomic_write(out_dir / "best.yaml", lambda p: p.write_text(text, encoding="utf-8"))
    for j in setup.periods:
        pdoc = {"name": f"{j.name}-fitted", "extends": extends(j.path, j.name)}
        pdoc.update(overlay(j.setup.raw, period_values(fitted, best_values, bases, setup, j)))
        ptext = (f"# Fitted overlay of the joint period {j.name}, written by `corridor calibrate` on {fit['created']} "
                 f"with {out_dir / 'best.yaml'}.\n# Run it: corridor run {out_dir / f'best-{j.name}.yaml'}\n"
                 + yaml.safe_dump(plain(pdoc), sort_keys=False, allow_unicode=True, width=10_000))
        atomic_write(out_dir / f"best-{j.name}.yaml", lambda p, t=ptext: p.write_text(t, encoding="utf-8"))
    write_json(out_dir / "fit.json", fit)
    report = render_report(fit, targets)
    for j in setup.periods:
        report += "\n" + render_period(fit["periods"][j.name], j.setup.targets)
    atomic_write(out_dir / "report.md", lambda p: p.write_text(report, encoding="utf-8"))


def plain(x):
    if isinstance(x, dict):
        return {k: plain(v) for k, v in x.items()}
    if isinstance(x, list):
        return [plain(v) for v in x]
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating,)):
        return float(x)
    return x


def render_report(fit: dict, targets: Targets | None = None) -> str:
    """report.md: what was fitted, how well, against what, and the baselines."""
    cfg = fit["config"]
    cat = catalogue(targets)
    if any(t.target for t in cat.values()):
        which = (f"Targets are those of {(targets.targets_from if targets else None) or 'the targets file'}; rows "
                 "with a bracketed figure are objective terms without a target (the bracket holds their normaliser).")
    else:
        which = "No term has a published target; the bracket holds each term's normaliser."
    L = [f"# Calibration of `{Path(cfg['scenario']).stem}`", "",
         f"Written {fit['created']} by `corridor calibrate` (scale {cfg['scale']}, simulation seed {cfg['sim_seed']}, "
         f"sampler seed {cfg['seed']}, batch {cfg['batch']}); observed data: {cfg['observed']}. "
         f"Training months {cfg['train']}; {fit['trials']['complete']} trials complete, {fit['trials']['failed']} failed; "
         f"best trial {fit['trials']['best_trial']}. Wall time of this call {fit['seconds']:.0f} s.", "",
         f"**{fit['n_parameters']} parameters fitted** ({fit['n_parameters_optuna']} by optuna TPE, "
         f"{fit['n_parameters_ratio']} base departure rates by ratio scaling) against "
         f"**{observed_total(fit)} observed numbers** in the training window{'s' if fit.get('periods') else ''}:", ""]
    for k, v in fit["observations"].items():
        if k != "total":
            L.append(f"- {k}: {v}")
    for name, per in (fit.get("periods") or {}).items():
        L.append(f"- {name} (joint period, training months {per['train']['window'] if per.get('train') else '?'}): "
                 f"{per['observations']['total']}")
    L += ["", f"Objective (training months only): {fit['objective']}.", "", "## Fit figures", "", which, ""]
    L += _figures(fit, targets)
    L += _parameters(fit["parameters"])
    L += _monthly(fit["monthly"])
    L += ["", "Reproduce: `corridor run <out>/best.yaml --scale " f"{cfg['scale']:g} --out RUN --no-report -q`, then "
          "`corridor validate RUN --start START --end END` for each window above.", ""]
    return "\n".join(L)


def observed_total(fit: dict) -> int:
    """Observed numbers the fit used: the first period's and every joint period's."""
    return fit["observations"]["total"] + sum(p["observations"]["total"] for p in (fit.get("periods") or {}).values())


def render_period(period: dict, targets: Targets | None) -> str:
    """report.md's section on another period of a joint fit: its figures over its own windows, its own parameters."""
    obs = period["observations"]
    L = [f"# Joint period `{period['scenario']}` (objective weight {period['weight']:g})", "",
         f"Fitted in the same study: the shared parameters above hold here too; this period's own values are below. "
         f"**{obs['total']} observed numbers** in its training window:", ""]
    L += [f"- {k}: {v}" for k, v in obs.items() if k != "total"]
    L += ["", "## Fit figures", ""] + _figures(period, targets) + _parameters(period["parameters"])
    L += _monthly(period["monthly"])
    L += ["", f"Reproduce: `corridor run <out>/best-{period['scenario']}.yaml --out RUN --no-report -q`, then "
          "`corridor validate RUN --start START --end END`.", ""]
    return "\n".join(L)


def _figures(fit: dict, targets: Targets | None) -> list[str]:
    """The fit-figure table, the published figures, the naive baselines."""
    cat = catalogue(targets)
    kinds = targets.kinds() if targets is not None else []
    det = targets.detentions if targets is not None else None
    L = ["| figure | target | train | validation | full period |", "|---|---|---|---|---|"]
    for k in [*[k for k, t in cat.items() if t.target], *[k for k, t in cat.items() if not t.target]]:
        t = cat[k]
        row = [t.label, f"≤ {t.normaliser:g}" if t.target else f"({t.normaliser:g})"]
        for w in ("train", "validation", "full"):
            f = fit.get(w)
            v = f["terms"].get(k) if f else None
            row.append("–" if v is None else f"{v:.2f}")
        L.append("| " + " | ".join(row) + " |")
    row = ["objective (sum of terms / targets)", ""]
    for w in ("train", "validation", "full"):
        f = fit.get(w)
        row.append("–" if not f else f"{f['objective']:.3f}")
    L.append("| " + " | ".join(row) + " |")
    L += ["", "Windows: " + ", ".join(f"{w} {fit[w]['window']}" for w in ("train", "validation", "full") if fit.get(w)) + ".",
          *([det.note] if det is not None and det.note else []), ""]
    for y in fit.get("mexico_yearly", []):
        L.append(f"- {det.name}, {y['year']}: model {y['model']:,.0f}, observed {y['observed']:,.0f} "
                 f"({y['error_pct']:+.1f}%; target within ±{cat[det.term].normaliser:g}%)")
    for w in ("train", "full"):
        f = fit.get(w) or {}
        for kind in kinds:
            L += _published_lines(kind, f.get(kind.key), w)
    L += ["", "## Naive baselines", "",
          "MAPE of the model and of two forecasts made from the observed series alone (the value of the month "
          "before the window carried forward; the same month a year earlier).", "",
          "| window | series | model | last value | same month last year | beats both |", "|---|---|---|---|---|---|"]
    for w in ("validation", "train", "full"):
        f = fit.get(w)
        if not f:
            continue
        for name, s in f["series"].items():
            L.append(f"| {w} | {name} | {_p(s['mape'])} | {_p(s['baseline_last_value_mape'])} | "
                     f"{_p(s['baseline_same_month_last_year_mape'])} | {'yes' if s['beats_baselines'] else 'no'} |")
    v = fit.get("validation")
    if v:
        L += ["", f"Validation: {len(v['series_beating_both_baselines'])} of {v['series_compared']} compared series beat "
                  f"both baselines: {', '.join(v['series_beating_both_baselines']) or 'none'}."]
    return L


def _parameters(parameters: list[dict]) -> list[str]:
    L = ["", "## Fitted parameters", "", "| parameter | how | value | initial | range | meaning |", "|---|---|---|---|---|---|"]
    for p in parameters:
        rng = f"{fmt_number(p['low'])} – {fmt_number(p['high'])}{' (log)' if p.get('log') else ''}" if "low" in p else "ratio"
        L.append(f"| `{p.get('label') or p['name']}` | {p['how']} | {_v(p['value'])} | {_v(p['initial'])} | {rng} | "
                 f"{p['meaning']}{'' if len(p['paths']) == 1 else ' (sets ' + ', '.join(p['paths']) + ')'} |")
    return L


def _monthly(monthly_rows: dict) -> list[str]:
    L = ["", "## Monthly totals (model)", "", "| month | sw_encounters | usbp | ofo | darien | mexico detentions |",
         "|---|---|---|---|---|---|"]
    for m, row in monthly_rows.items():
        L.append(f"| {m} | " + " | ".join(f"{row.get(k, float('nan')):,.0f}" for k in
                                          ("sw_encounters", "usbp_encounters", "ofo_encounters", "darien_crossings",
                                           "mexico_detentions")) + " |")
    return L


def _published_lines(kind, detail: Any, w: str) -> list[str]:
    """The report's lines for one scenario-specific term over window `w`: model against the published figure."""
    if not detail:
        return []
    if isinstance(kind, Detentions):
        m = detail
        return [f"- {kind.name} {m['start']}..{m['end']} ({w} window): model {m['model']:,.0f}, "
                f"observed {m['observed']:,.0f} ({m['error_pct']:+.1f}%)"]
    if isinstance(kind, PeriodTotals):
        m = detail
        return [f"- {kind.name} {m['start']}..{m['end']} ({w} window): model {m['model']:,.0f}, "
                f"observed {m['observed']:,.0f} ({m['error_pct']:+.1f}%; {m['source']})"]
    if isinstance(kind, RepeatShares):
        name = kind.name[:1].upper() + kind.name[1:]
        return [f"- {name} {r['month']} ({w} window): model {r['model_pct']:.1f}%, "
                f"observed {r['observed_pct']:.0f}% ({r['source']})" for r in detail]
    if isinstance(kind, CrossingMix):
        return [f"- {r['nationality']}'s share of {kind.name} {kind.start}..{kind.end} "
                f"({w} window): model {r['model_pct']:.1f}%, observed {r['observed_pct']:.1f}% ({r['source']})"
                for r in detail]
    if isinstance(kind, CustodyCounts):
        return [f"- {kind.name} {r['date']} ({w} window): model {r['model']:,.0f}, observed {r['observed']:,.0f} "
                f"({r['error_pct']:+.1f}%; {r['source']})" for r in detail]
    return []


def _p(v) -> str:
    return "–" if v is None else f"{v:.1f}%"


def _v(v) -> str:
    if isinstance(v, int):
        return str(v)
    return f"{v:.4g}"


def defaults_text(fit: dict, command: str, scenario_name: str, targets: Targets | None = None,
                  period: str | None = None) -> str:
    """The fitted values as a defaults file for a scenario builder (e.g. `python -m corridor.build`), which merges each
    value into the generated scenario and marks it `# fitted: <how, date, objective>`; the header ends with the
    targets' `defaults_note` (where a study of this scenario starts from). `period`: the file of a joint fit's
    other period, holding only its own values (it extends the first period's scenario for the shared ones)."""
    import yaml

    date = fit["created"][:10]
    src = fit["periods"][period] if period else fit
    tr = fit.get("train") or {}
    objective = f"{tr['objective']:.3f}" if tr else "n/a"
    values = {}
    others = set(fit.get("periods") or {})
    for p in src["parameters"]:
        if period is None and p.get("period") in others:
            continue                      # another period's own value: in that period's file
        shared = len(p["paths"]) > 1
        how = (f"optuna TPE, {fit['trials']['complete']} trials, scale {fit['config']['scale']:g}"
               + (f", one value shared by {len(p['paths'])} fields" if shared else "")) if p["how"] == "optuna TPE" \
            else (f"ratio scaling to {src['train']['window'] if period else fit['config']['train']} encounters, "
                  f"scale {fit['config']['scale']:g}")
        for path in p["paths"]:
            values[path] = {"value": p["value"], "how": how, "meaning": p["meaning"]}
    figures = {}
    for w in ("train", "validation", "full"):
        f = src.get(w)
        if f:
            figures[w] = {"window": f["window"], "objective": round(f["objective"], 3),
                          **{k: (None if v is None else round(v, 2)) for k, v in f["terms"].items()}}
    if period:
        objective = f"{src['train']['objective']:.3f}" if src.get("train") else "n/a"
    doc = {
        "scenario": scenario_name,
        "date": date,
        "command": command,
        "started_from": shown_path(fit.get("started_from")),
        "objective": objective,
        "objective_definition": fit["objective"] + f" (over the training months "
                                                   f"{src['train']['window'] if period and src.get('train') else fit['config']['train']})",
        "parameters_fitted": fit["n_parameters"],
        "observed_numbers": observed_total(fit),
        **({"joint_with": shown_path(fit["config"]["scenario"])} if period else {}),
        "figures": figures,
        "mexico_yearly": [{k: (round(v, 1) if isinstance(v, float) else v) for k, v in y.items()}
                          for y in src.get("mexico_yearly", [])],
        "values": values,
    }
    head = [f"# Fitted defaults of the scenario {scenario_name}, written by `corridor calibrate --defaults` on {date}.",
            "# The scenario's builder merges every value into the generated YAML, marked `# fitted: <how, date, objective>`.",
            "# Do not edit by hand: rerun the command below (the study resumes from its journal) and rebuild the scenario."]
    start = ("A study from scratch starts from `started_from`, the scenario file its first call was given, with the same "
             "options and a new --out.")
    note = targets.defaults_note if targets is not None else None
    head += textwrap.wrap(start + (" " + note if note else ""), width=112, initial_indent="# ", subsequent_indent="# ",
                          break_on_hyphens=False, break_long_words=False)
    return "\n".join(head) + "\n" + yaml.safe_dump(plain(doc), sort_keys=False, allow_unicode=True, width=10_000)


def shown_path(path: str | None) -> str | None:
    """A scenario file as the defaults file shows it: relative to the working folder where it lies below it
    (a bundled scenario's path), so the file does not name the machine it was written on."""
    if not path:
        return path
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


def write_defaults(fit: dict, command: str, scenario_name: str, targets: Targets | None, path: Path) -> list[Path]:
    """The defaults file at `path`, and each joint period's (its own values) as `<period>.fit.yaml` beside it."""
    from ...results import atomic_write

    files = [(Path(path), defaults_text(fit, command, scenario_name, targets))]
    files += [(Path(path).parent / f"{name}.fit.yaml", defaults_text(fit, command, name, targets, period=name))
              for name in fit.get("periods") or {}]
    for p, text in files:
        atomic_write(p, lambda q, t=text: q.write_text(t, encoding="utf-8"))
    return [p for p, _ in files]
