"""The objective of a calibration: its windows, and its terms over a window computed from a run.

Generic terms compare the run with the observed monthly series (through the same `compare` that `corridor
validate` prints); the others compare it with the published figures of the scenario's targets file
(targets.py), each kind computed here: totals of detention events over periods, totals of model metrics
over periods, repeat shares by month, a counted leg's mix by nationality. Terms a scenario cannot produce
(no counted Darién leg, no inspection point, period outside the run) are left out. The objective is the
sum of the terms, each divided by its normaliser (1.0 a term means "exactly on target"), in the order the
terms are evaluated here.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from ...analysis.observed import bundled_path, is_month, monthly_from_run, shift_month
from ...errors import InputError
from .targets import CrossingMix, CustodyCounts, Detentions, PeriodTotals, RepeatShares, Targets, Term, catalogue

OTHER = "Other"     # a model nationality of that name stands for every observed label the model lacks
# Metrics the objective and the report read (with those of the targets' period totals); the rest of a run's
# table is dropped before aggregating.
SCORED_PREFIXES = ("sw_encounters", "usbp_encounters", "ofo_encounters", "darien_crossings", "mexico_detentions",
                   "removals", "returns_to_mexico", "appointments_used", "repeat_encounters",
                   "us_custody_population", "usbp_nationality")
DARIEN = "darien_crossings"          # the counted leg series of the generic darien_mape term
GENERIC_PRODUCED = ("sw_mape", "nationality_pp", "sector_pp", "nationality_log", "ofo_share_pp")


# ============================================================================ windows


@dataclass(frozen=True)
class Window:
    start: str
    end: str

    def months(self) -> tuple[str, str]:
        return self.start, self.end

    def __str__(self) -> str:
        return f"{self.start}..{self.end}"


def parse_window(text: str, label: str) -> Window:
    parts = str(text).replace("..", ":").split(":")
    if len(parts) != 2 or not all(is_month(p.strip()) for p in parts):
        raise InputError(f"--{label} {text!r}: expected START:END months, e.g. 2022-10:2023-09")
    start, end = (p.strip() for p in parts)
    if start > end:
        raise InputError(f"--{label} {text!r}: starts after it ends")
    return Window(start, end)


def detention_table(spec: Detentions, path: str | Path | None = None) -> pd.DataFrame:
    """Published totals of detention events, one row per period: start, end (months), value, label (the measure).

    From the targets' bundled observed file (or `path`), the rows of the measures it names.
    """
    path = Path(path) if path else bundled_path(spec.file)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError) as err:
        raise InputError(f"{path}: not a readable CSV ({err})") from None
    need = ("period_start", "period_end", "events", "measure")
    if any(c not in raw.columns for c in need):
        raise InputError(f"{path}: expected columns {', '.join(need)}")
    rows = raw[raw["measure"].isin(spec.measures)]
    out = pd.DataFrame({
        "start": rows["period_start"].str[:7], "end": rows["period_end"].str[:7],
        "value": pd.to_numeric(rows["events"], errors="coerce"), "label": rows["measure"],
    }).dropna()
    return out.reset_index(drop=True)


def detention_in(targets: pd.DataFrame, window: Window, months_run: Iterable[str]) -> dict | None:
    """The longest published period inside the window (and the run's months): one number, not nested overlaps."""
    have = set(months_run)
    best = None
    for r in targets.itertuples():
        if r.start < window.start or r.end > window.end:
            continue
        span = month_range(r.start, r.end)
        if not all(m in have for m in span):
            continue
        if best is None or len(span) > len(best["months"]):
            best = {"start": r.start, "end": r.end, "observed": float(r.value), "months": span, "measure": r.label}
    return best


def month_range(start: str, end: str) -> list[str]:
    out, m = [], start
    while m <= end:
        out.append(m)
        m = shift_month(m, 1)
    return out


def nationality_targets(observed: pd.DataFrame, nat_names: list[str], window: Window) -> dict[str, float]:
    """Observed encounters per model nationality over the window; labels the model lacks count as Other.

    Each month from `sw_encounters:<n>` where it has them, else Border Patrol's `usbp_nationality:<n>` (before Oct
    2019): `corridor.analysis.validate.nationality_rows`."""
    from ...analysis.validate import nationality_rows
    rows = nationality_rows(observed[(observed["month"] >= window.start) & (observed["month"] <= window.end)])
    totals = rows.groupby("nationality")["value"].sum()
    out = {n: float(totals.get(n, 0.0)) for n in nat_names}
    if OTHER in out:
        out[OTHER] += float(sum(v for k, v in totals.items() if k not in out))
    return out


# ============================================================================ what a trial needs


@dataclass
class Setup:
    """Everything a trial needs, picklable (sent once to every dask worker)."""

    raw: dict
    observed: pd.DataFrame
    detentions: pd.DataFrame | None        # published detention totals (targets.detentions), if any
    scale: float
    sim_seed: int
    train: Window
    validation: Window
    full: Window
    targets: Targets | None
    terms: tuple[str, ...]                 # objective terms the scenario can produce
    name: str = ""                         # the scenario's name (a joint fit's period)
    periods: tuple["Joined", ...] = ()     # a joint fit: the other periods, scored with this one
    catalogue: dict[str, Term] = field(init=False)

    def __post_init__(self) -> None:
        self.catalogue = catalogue(self.targets)

    def scored_prefixes(self) -> tuple[str, ...]:
        extra = [m for pt in (self.targets.period_totals if self.targets else ()) for m in pt.metrics]
        return SCORED_PREFIXES + tuple(m for m in dict.fromkeys(extra) if not m.startswith(SCORED_PREFIXES))


@dataclass
class Joined:
    """Another period of a joint fit: its own scenario and windows, its objective added with a weight."""

    setup: Setup
    weight: float = 1.0
    path: str = ""          # its scenario file (what its fitted overlay extends)

    @property
    def name(self) -> str:
        return self.setup.name


def scenario_terms(sc, targets: Targets | None) -> tuple[str, ...]:
    """The objective terms a scenario can produce, in catalogue order: no Darién term without a leg counted as
    darien_crossings, no detention term without an inspection point, no mix without its leg and nationalities."""
    terms = list(GENERIC_PRODUCED)
    if any(leg.counts_as == DARIEN for leg in sc.legs):
        terms.append("darien_mape")
    if targets is not None:
        if targets.detentions is not None and any(leg.inspection is not None for leg in sc.legs):
            terms.append(targets.detentions.term)
        terms += [pt.term for pt in targets.period_totals]
        if targets.repeat_shares is not None:
            terms.append(targets.repeat_shares.term)
        mix = targets.crossing_mix
        if mix is not None and any(leg.counts_as == mix.series for leg in sc.legs) \
                and all(n in {x.name for x in sc.nationalities} for n in mix.crossed):
            terms.append(mix.term)
        if targets.custody_counts is not None:
            terms.append(targets.custody_counts.term)
    return tuple(t for t in catalogue(targets) if t in terms)


def monthly(daily: pd.DataFrame) -> pd.DataFrame:
    return monthly_from_run(daily, source="calibration run")


# ============================================================================ the terms


def score(daily: pd.DataFrame, setup: Setup, window: Window) -> dict:
    """The objective's terms over a window, from the same `compare` that `corridor validate` prints, and the
    details of each scenario-specific term (model against published figures), keyed as in fit.json."""
    from ...analysis.validate import compare

    res = compare(daily, setup.observed, months=window.months())
    table = monthly(daily)
    t = setup.targets
    terms: dict[str, float | None] = {
        "sw_mape": _get(res.series, "sw_encounters", "mape"),
        "darien_mape": _get(res.series, DARIEN, "mape"),
        "nationality_pp": res.summary.get("nationality_share_mae_pp"),
        "sector_pp": res.summary.get("sector_share_mae_pp"),
    }
    details: dict[str, Any] = {}
    if t is not None and t.detentions is not None:
        mx = detention_in(setup.detentions, window, set(table.loc[table["series"] == "mexico_detentions", "month"]))
        if mx is not None:
            rows = table[(table["series"] == "mexico_detentions") & table["month"].isin(mx["months"])]
            mx["model"] = float(rows["value"].sum())
            mx["error_pct"] = 100.0 * (mx["model"] - mx["observed"]) / mx["observed"]
        terms[t.detentions.term] = abs(mx["error_pct"]) if mx is not None else None
        details[t.detentions.key] = detention_brief(mx)
    terms["nationality_log"] = nationality_log(res)
    terms["ofo_share_pp"] = ofo_share(res)
    for pt in (t.period_totals if t is not None else ()):
        period = period_target_in(daily, window, pt)
        terms[pt.term] = abs(period["error_pct"]) if period else None
        details[pt.key] = period
    if t is not None and t.repeat_shares is not None:
        repeat = repeat_share_in(table, window, t.repeat_shares)
        terms[t.repeat_shares.term] = float(np.mean([abs(r["error_pp"]) for r in repeat])) if repeat else None
        details[t.repeat_shares.key] = repeat
    if t is not None and t.crossing_mix is not None:
        mix = mix_in(table, window, t.crossing_mix)
        terms[t.crossing_mix.term] = float(np.mean([abs(r["error_pp"]) for r in mix])) if mix else None
        details[t.crossing_mix.key] = mix
    if t is not None and t.custody_counts is not None:
        counts = custody_in(daily, window, t.custody_counts)
        terms[t.custody_counts.term] = float(np.mean([abs(r["error_pct"]) for r in counts])) if counts else None
        details[t.custody_counts.key] = counts
    terms = {k: (v if k in setup.terms else None) for k, v in terms.items()}  # terms the scenario cannot produce
    used = {k: v for k, v in terms.items() if v is not None}
    objective = float(sum(v / setup.catalogue[k].normaliser for k, v in used.items())) if used else float("inf")
    return {"objective": objective, "terms": terms, "details": details, "validation": res}


def mix_in(table: pd.DataFrame, window: Window, mix: CrossingMix) -> list[dict]:
    """Model vs published share (%) of a counted leg's crossings by nationality, when the window holds the mix's
    months."""
    span = month_range(mix.start, mix.end)
    if not (window.start <= mix.start and mix.end <= window.end):
        return []
    rows = table[table["month"].isin(span)]
    if set(rows["month"]) != set(span):
        return []
    totals = rows.groupby("series")["value"].sum()
    total = float(totals.get(mix.series, 0.0))
    if not total > 0:
        return []
    out = []
    for n, crossed in mix.crossed.items():
        model, observed = 100.0 * float(totals.get(f"{mix.series}:{n}", 0.0)) / total, 100.0 * crossed / mix.total
        out.append({"nationality": n, "observed_pct": observed, "model_pct": model, "error_pp": model - observed,
                    "source": mix.source})
    return out


def custody_in(daily: pd.DataFrame, window: Window, spec: CustodyCounts) -> list[dict]:
    """Model vs published people in custody on the published days inside the window that the run records."""
    rows = daily[daily["metric"] == spec.metric]
    by_day = pd.Series(rows["value"].to_numpy(float), index=pd.to_datetime(rows["date"]).dt.strftime("%Y-%m-%d"))
    out = []
    for t in spec.dates:
        if not (window.start <= t.date[:7] <= window.end) or t.date not in by_day.index:
            continue
        model = float(by_day[t.date])
        out.append({"date": t.date, "observed": t.observed, "model": model,
                    "error_pct": 100.0 * (model - t.observed) / t.observed, "source": t.source})
    return out


def repeat_share_in(table: pd.DataFrame, window: Window, shares: RepeatShares) -> list[dict]:
    """Model vs published repeat share (%) of SW encounters for the published months inside the window."""
    out = []
    for t in shares.months:
        if not (window.start <= t.month <= window.end):
            continue
        rows = table[table["month"] == t.month].set_index("series")["value"]
        if "repeat_encounters" not in rows or not rows.get("sw_encounters", 0) > 0:
            continue
        pct = 100.0 * float(rows["repeat_encounters"]) / float(rows["sw_encounters"])
        out.append({"month": t.month, "observed_pct": t.observed_pct, "model_pct": pct,
                    "error_pp": pct - t.observed_pct, "source": t.source})
    return out


def ofo_share(res) -> float | None:
    """Mean absolute error, in percentage points, of the ports' (OFO) share of all SW border encounters."""
    rows = res.pairs[res.pairs["series"].isin(["ofo_encounters", "sw_encounters"])]
    model = rows.pivot(index="month", columns="series", values="model")
    obs = rows.pivot(index="month", columns="series", values="observed")
    if not {"ofo_encounters", "sw_encounters"} <= set(model.columns):
        return None
    ok = (model["sw_encounters"] > 0) & (obs["sw_encounters"] > 0)
    if not ok.any():
        return None
    diff = model["ofo_encounters"][ok] / model["sw_encounters"][ok] - obs["ofo_encounters"][ok] / obs["sw_encounters"][ok]
    return float(diff.abs().mean() * 100.0)


def nationality_log(res) -> float | None:
    """Mean over the top-10 nationalities of the mean |ln(model/observed)| of their monthly encounters.

    The log ratio, not MAPE: several series collapse by 95% within weeks (Cubans, Nicaraguans in Jan 2023)
    and MAPE over near-zero months would be dominated by them. Each nationality counts like the total does.
    """
    top = res.summary.get("nationality_share_top") or []
    if not top:
        return None
    # CBP's encounters by nationality, or Border Patrol's in months before CBP's table (the validation's fallback)
    names = {f"{prefix}{n}": n for n in top for prefix in ("sw_encounters:", "usbp_nationality:")}
    pairs = res.pairs[res.pairs["series"].isin(list(names))]
    if pairs.empty:
        return None
    ratio = np.log(np.maximum(pairs["model"].to_numpy(float), 1.0) / np.maximum(pairs["observed"].to_numpy(float), 1.0))
    per = pd.Series(np.abs(ratio)).groupby(pairs["series"].map(names).to_numpy()).mean()
    return float(per.mean())


def period_target_in(daily: pd.DataFrame, window: Window, spec: PeriodTotals) -> dict | None:
    """The longest published period of a term inside the window that the run covers, with the model's total."""
    days = pd.to_datetime(daily["date"])
    if days.empty:
        return None
    first, last = days.min().date(), days.max().date()
    best = None
    for t in spec.periods:
        start, end = dt.date.fromisoformat(t.start), dt.date.fromisoformat(t.end)
        if start.strftime("%Y-%m") < window.start or end.strftime("%Y-%m") > window.end or start < first or end > last:
            continue
        if not daily["metric"].isin(spec.metrics).any():
            continue
        if best is None or (end - start) > (dt.date.fromisoformat(best.end) - dt.date.fromisoformat(best.start)):
            best = t
    if best is None:
        return None
    sel = daily["metric"].isin(spec.metrics) & (days >= pd.Timestamp(best.start)) & (days <= pd.Timestamp(best.end))
    model = float(daily.loc[sel, "value"].sum())
    return {"start": best.start, "end": best.end, "observed": best.observed, "model": model,
            "error_pct": 100.0 * (model - best.observed) / best.observed, "source": best.source,
            "metrics": list(spec.metrics)}


def detention_brief(mx: dict | None) -> dict | None:
    if mx is None:
        return None
    return {k: mx[k] for k in ("start", "end", "observed", "model", "error_pct", "measure") if k in mx}


def _get(series: dict, name: str, attr: str):
    s = series.get(name)
    return None if s is None else getattr(s, attr)
