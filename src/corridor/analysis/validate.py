"""Compare a run with observed monthly series, and with the naive forecasts a model has to beat.

A model earns trust only if it forecasts better than "next month looks like last month" and
"this month looks like the same month last year", so every error is reported beside those baselines.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ..errors import InputError
from .observed import OBSERVED_COLUMNS, is_month, load_observed, monthly_from_run, shift_month

# The bundled observed months split for calibration: fitted on the training months, never on the validation ones.
TRAINING_MONTHS = ("2022-10", "2023-09")
VALIDATION_MONTHS = ("2023-10", "2023-12")
SECTOR_PREFIX = "usbp_encounters:"
NATIONALITY_PREFIX = "sw_encounters:"
NATIONALITY_TOTAL = "sw_encounters"
# Before Oct 2019 the only monthly table by citizenship is Border Patrol's (OHSS): shares of usbp_encounters instead
USBP_NATIONALITY_PREFIX = "usbp_nationality:"
USBP_NATIONALITY_TOTAL = "usbp_encounters"
TOP_NATIONALITIES = 10
# Residual categories are not nationalities; leaving them out of the top-N keeps the share score about
# the mix of named countries.
NOT_A_NATIONALITY = ("Other",)


def calibration_windows(scenario: str) -> tuple[tuple[str, str], tuple[str, str] | None]:
    """The training and validation months of a bundled scenario: a period fitted jointly with another one has
    its own (the `joint:` section of that scenario's targets file); any other, the defaults above."""
    folder = Path(str(resources.files("corridor") / "data" / "calibration"))
    for path in sorted(folder.glob("*.targets.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for period in (doc.get("joint") or {}).get("periods", []):
            if period.get("scenario") == scenario:
                train = tuple(str(period["train"]).split(":"))
                valid = tuple(str(period["validation"]).split(":")) if period.get("validation") else None
                return train, valid
    return TRAINING_MONTHS, VALIDATION_MONTHS


@dataclass(frozen=True)
class SeriesScore:
    """Errors of one series over its compared months. None where a value cannot be computed."""

    mape: float | None  # mean |model-obs|/|obs| in percent, over months with obs != 0
    mae: float  # mean |model-obs|
    bias: float  # mean (model-obs): positive means the model runs high
    ard: float | None  # Flee's averaged relative difference: sum|model-obs| / sum obs (a fraction)
    months: int
    baseline_last_value_mape: float | None
    baseline_same_month_last_year_mape: float | None

    @property
    def beats_baselines(self) -> bool:
        """Model MAPE below every baseline that could be computed (and at least one could)."""
        baselines = [b for b in (self.baseline_last_value_mape, self.baseline_same_month_last_year_mape) if b is not None]
        return self.mape is not None and bool(baselines) and all(self.mape < b for b in baselines)


@dataclass
class ValidationResult:
    """Scores per series, a summary, and the month-by-month pairs they were computed from."""

    series: dict[str, SeriesScore]
    summary: dict
    pairs: pd.DataFrame = field(repr=False)  # month, series, model, observed

    def to_json(self) -> dict:
        """Plain dict for json.dump: floats, ints, strings, lists and None (JSON null) only."""
        return {"series": {name: asdict(score) for name, score in self.series.items()}, "summary": self.summary}

    def render(self, console) -> None:
        """Print a rich table per series and the summary lines."""
        from rich.table import Table

        s = self.summary
        table = Table(
            title=f"{s['run']} vs {s['observed_file']}, {s['months_compared'][0]} to {s['months_compared'][1]}",
            caption="baselines: last observed value before the window; same month a year earlier. "
            "✓ = model MAPE below every available baseline",
        )
        table.add_column("series")
        table.add_column("months", justify="right")
        table.add_column("MAPE", justify="right")
        table.add_column("bias", justify="right")
        table.add_column("last value", justify="right")
        table.add_column("same month LY", justify="right")
        table.add_column("beats", justify="center")
        for name, score in self.series.items():
            table.add_row(
                name,
                str(score.months),
                _pct(score.mape),
                f"{score.bias:+,.0f}",
                _pct(score.baseline_last_value_mape),
                _pct(score.baseline_same_month_last_year_mape),
                "✓" if score.beats_baselines else "",
            )
        console.print(table)
        console.print(
            f"mean MAPE {_pct(s['mean_mape'])} over {s['series_compared']} series "
            f"(baselines: last value {_pct(s['mean_baseline_last_value_mape'])}, "
            f"same month last year {_pct(s['mean_baseline_same_month_last_year_mape'])}); "
            f"{s['series_beating_baselines']} series beat their baselines"
        )
        console.print(f"sector shares: mean absolute error {_pp(s['sector_share_mae_pp'])} over {len(s['sector_share_sectors'])} sectors")
        console.print(
            f"nationality shares: mean absolute error {_pp(s['nationality_share_mae_pp'])} "
            f"over the top {len(s['nationality_share_top'])} observed nationalities"
        )
        skipped = s.get("series_not_in_run") or []
        if skipped:
            console.print(
                f"[yellow]skipped {len(skipped)} series of the file that the run does not produce:[/] "
                f"{_listing(pd.Series(skipped), limit=12)}",
                highlight=False,
            )


def compare(
    run_dir_or_metrics: str | Path | pd.DataFrame,
    observed_path: str | Path | pd.DataFrame | None = None,
    months: tuple[str | None, str | None] | None = None,
) -> ValidationResult:
    """Score a run against an observed file over every series and month present in both.

    run_dir_or_metrics: a run directory (holding metrics.parquet), a metrics.parquet path, or the daily
    metrics table itself. observed_path: a month,series,value CSV (default: the bundled monthly.csv) or
    a table from load_observed (to avoid re-reading it in calibration loops). months: optional inclusive
    (start, end) 'YYYY-MM' window, either end None, for train/validation splits. Baselines may look
    at observed months before the window: that is what a forecaster standing at its start would know.
    """
    metrics, run_label = _read_run(run_dir_or_metrics)
    if isinstance(observed_path, pd.DataFrame):
        observed, observed_label = observed_path, "observed table"
        missing = [c for c in OBSERVED_COLUMNS if c not in observed.columns]
        if missing:
            raise InputError(f"observed table lacks column(s) {', '.join(missing)}; expected month,series,value")
    else:
        observed = load_observed(observed_path)
        observed_label = str(observed_path) if observed_path is not None else "bundled monthly.csv"
    start, end = _window(months)

    model = monthly_from_run(metrics, source=run_label)
    common = sorted(set(model["series"]) & set(observed["series"]))
    if not common:
        raise InputError(
            f"no series in common between run {run_label} and observed file {observed_label}; "
            f"run has: {_listing(model['series'])}; file has: {_listing(observed['series'])}"
        )
    pairs = model[model["series"].isin(common)].merge(observed, on=["series", "month"], suffixes=("_model", "_obs"))
    pairs = pairs.rename(columns={"value_model": "model", "value_obs": "observed"})
    if start is not None:
        pairs = pairs[pairs["month"] >= start]
    if end is not None:
        pairs = pairs[pairs["month"] <= end]
    if pairs.empty:
        shared = model["series"].isin(common)
        raise InputError(
            f"no months in common between run {run_label} ({_span(model.loc[shared, 'month'])}, complete months) and "
            f"observed file {observed_label} ({_span(observed['month'])})"
            + (f" within the window {start or '…'} to {end or '…'}" if months else "")
            + f" for the {len(common)} shared series"
        )
    pairs = pairs[["month", "series", "model", "observed"]].sort_values(["series", "month"], ignore_index=True)

    lookup = dict(zip(zip(observed["series"], observed["month"]), observed["value"].astype(float)))
    scores = {name: _score(name, group, lookup) for name, group in pairs.groupby("series", sort=True)}
    summary = _summary(scores, pairs, run_label, observed_label, (start, end) if months else None)
    # Series of the file the run does not produce are skipped, and said so: a misspelt name must not pass unseen.
    summary["series_not_in_run"] = sorted(set(observed["series"]) - set(model["series"]))
    return ValidationResult(series=scores, summary=summary, pairs=pairs)


def _score(name: str, group: pd.DataFrame, lookup: dict) -> SeriesScore:
    """Errors of one series, and the two naive forecasts over the same months."""
    m = group["model"].to_numpy(float)
    o = group["observed"].to_numpy(float)
    month_list = list(group["month"])

    anchor = lookup.get((name, shift_month(month_list[0], -1)))
    last_value = None if anchor is None else _mape(np.full_like(o, anchor), o)
    year_ago = [lookup.get((name, shift_month(mo, -12))) for mo in month_list]
    same_month = None if any(v is None for v in year_ago) else _mape(np.array(year_ago, float), o)

    total = o.sum()
    return SeriesScore(
        mape=_mape(m, o),
        mae=float(np.abs(m - o).mean()),
        bias=float((m - o).mean()),
        ard=float(np.abs(m - o).sum() / total) if total != 0 else None,
        months=len(o),
        baseline_last_value_mape=last_value,
        baseline_same_month_last_year_mape=same_month,
    )


def _mape(forecast: np.ndarray, observed: np.ndarray) -> float | None:
    """Mean absolute percentage error over months with a non-zero observation; None if there are none."""
    keep = observed != 0
    if not keep.any():
        return None
    return float(np.mean(np.abs(forecast[keep] - observed[keep]) / np.abs(observed[keep])) * 100.0)


def _summary(scores: dict[str, SeriesScore], pairs: pd.DataFrame, run_label: str, observed_label: str, window) -> dict:
    def mean(values):
        values = [v for v in values if v is not None]
        return float(np.mean(values)) if values else None

    sector_mae, sectors = _sector_shares(pairs)
    nationality_mae, top = _nationality_shares(pairs)
    return {
        "run": run_label,
        "observed_file": observed_label,
        "window": list(window) if window else None,
        "months_compared": [str(pairs["month"].min()), str(pairs["month"].max())],
        "series_compared": len(scores),
        "mean_mape": mean(s.mape for s in scores.values()),
        "mean_baseline_last_value_mape": mean(s.baseline_last_value_mape for s in scores.values()),
        "mean_baseline_same_month_last_year_mape": mean(s.baseline_same_month_last_year_mape for s in scores.values()),
        "series_beating_baselines": sum(s.beats_baselines for s in scores.values()),
        "sector_share_mae_pp": sector_mae,
        "sector_share_sectors": sectors,
        "nationality_share_mae_pp": nationality_mae,
        "nationality_share_top": top,
        "nationality_share_series": _families_used(pairs),
    }


def _sector_shares(pairs: pd.DataFrame) -> tuple[float | None, list[str]]:
    """Mean absolute error, in percentage points, of each sector's share of all compared sectors.

    Shares are taken within the sectors present in both run and file, over months where all of them
    are present, so a model that gets the total wrong but the geography right scores well here.
    """
    rows = pairs[pairs["series"].str.startswith(SECTOR_PREFIX)]
    sectors = sorted(rows["series"].unique())
    if len(sectors) < 2:
        return None, [s.removeprefix(SECTOR_PREFIX) for s in sectors]
    errors = []
    model = rows.pivot(index="month", columns="series", values="model").dropna()
    obs = rows.pivot(index="month", columns="series", values="observed").dropna()
    months = model.index.intersection(obs.index)
    model, obs = model.loc[months, sectors], obs.loc[months, sectors]
    ok = (model.sum(axis=1) > 0) & (obs.sum(axis=1) > 0)
    if ok.any():
        model_share = model[ok].div(model[ok].sum(axis=1), axis=0)
        obs_share = obs[ok].div(obs[ok].sum(axis=1), axis=0)
        errors = (model_share - obs_share).abs().to_numpy().ravel() * 100.0
    mae = float(np.mean(errors)) if len(errors) else None
    return mae, [s.removeprefix(SECTOR_PREFIX) for s in sectors]


def nationality_families(table: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """Month -> (prefix, total series) the nationality shares of that month are taken from: `sw_encounters:<n>` of
    `sw_encounters` where the table (pairs or observed rows) has any in the month, else Border Patrol's
    `usbp_nationality:<n>` of `usbp_encounters` (the only monthly table by citizenship before Oct 2019)."""
    sw = set(table.loc[table["series"].str.startswith(NATIONALITY_PREFIX), "month"])
    usbp = set(table.loc[table["series"].str.startswith(USBP_NATIONALITY_PREFIX), "month"]) - sw
    out = {m: (NATIONALITY_PREFIX, NATIONALITY_TOTAL) for m in sw}
    out.update({m: (USBP_NATIONALITY_PREFIX, USBP_NATIONALITY_TOTAL) for m in usbp})
    return out


def nationality_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The table's nationality rows, each month from its family (`nationality_families`), with a column
    `nationality` (the name without its prefix) and `total` (the family's total series)."""
    fam = nationality_families(table)
    parts = []
    for prefix, total in sorted(set(fam.values())):
        months = [m for m, f in fam.items() if f == (prefix, total)]
        rows = table[table["month"].isin(months) & table["series"].str.startswith(prefix)]
        parts.append(rows.assign(nationality=rows["series"].str.removeprefix(prefix), total=total))
    if not parts:
        return table.iloc[0:0].assign(nationality=pd.Series(dtype=str), total=pd.Series(dtype=str))
    return pd.concat(parts, ignore_index=True)


def _families_used(pairs: pd.DataFrame) -> str:
    """The families the shares came from, with their months, e.g. 'usbp_nationality 2019-01..2019-09'."""
    fam = nationality_families(pairs)
    spans = []
    for prefix, _ in sorted(set(fam.values()), key=lambda f: min(m for m, g in fam.items() if g == f)):
        months = sorted(m for m, g in fam.items() if g[0] == prefix)
        spans.append(f"{prefix.rstrip(':')} {months[0]}..{months[-1]}")
    return "; ".join(spans)


def _nationality_shares(pairs: pd.DataFrame) -> tuple[float | None, list[str]]:
    """Mean absolute difference, in percentage points, of nationality shares of the border total.

    Each month's `sw_encounters:<c>` is divided by `sw_encounters` of the same source and month (before Oct 2019,
    where a month has no `sw_encounters:<c>`, Border Patrol's `usbp_nationality:<c>` by `usbp_encounters`), for the
    TOP_NATIONALITIES nationalities with most observed encounters over the compared months.
    """
    rows = nationality_rows(pairs)
    rows = rows[~rows["nationality"].isin(NOT_A_NATIONALITY)]
    totals = pairs[pairs["series"].isin([NATIONALITY_TOTAL, USBP_NATIONALITY_TOTAL])]
    totals = totals.rename(columns={"model": "model_total", "observed": "observed_total", "series": "total"})
    if totals.empty or rows.empty:
        return None, []
    ranking = rows.groupby("nationality")["observed"].sum().sort_values(ascending=False, kind="stable")
    top = list(ranking.index[:TOP_NATIONALITIES])
    rows = rows[rows["nationality"].isin(top)].merge(totals[["month", "total", "model_total", "observed_total"]],
                                                      on=["month", "total"], how="inner")
    rows = rows[(rows["model_total"] > 0) & (rows["observed_total"] > 0)]
    if rows.empty:
        return None, top
    diff = rows["model"] / rows["model_total"] - rows["observed"] / rows["observed_total"]
    return float(diff.abs().mean() * 100.0), top


def _read_run(run) -> tuple[pd.DataFrame, str]:
    """The daily metrics table and a label for messages, from a directory, a Parquet path or a table."""
    if isinstance(run, pd.DataFrame):
        return run, "metrics table"
    path = Path(run)
    if not path.exists():
        raise InputError(f"run {path} does not exist; give a run directory written by `corridor run`")
    file = path / "metrics.parquet" if path.is_dir() else path
    if not file.is_file():
        raise InputError(f"run directory {path} has no metrics.parquet; give a directory written by `corridor run`")
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        names = pq.read_schema(file).names
    except (pa.ArrowException, OSError) as err:
        raise InputError(f"{file} is not a readable Parquet file ({str(err).splitlines()[0]})") from None
    missing = [c for c in ("date", "metric", "value") if c not in names]
    if missing:
        raise InputError(
            f"{file} lacks column(s) {', '.join(missing)}; found {', '.join(names)}; expected date, metric, value"
        )
    return pd.read_parquet(file, columns=["date", "metric", "value"]), str(path)


def _window(months) -> tuple[str | None, str | None]:
    if months is None:
        return None, None
    try:
        start, end = months
    except (TypeError, ValueError):
        raise InputError(f"months window {months!r} is not a (start, end) pair of YYYY-MM strings") from None
    for label, value in (("start", start), ("end", end)):
        if value is not None and not is_month(value):
            raise InputError(f"months window {label} {value!r} is not a month; use YYYY-MM, e.g. 2023-01")
    if start is not None and end is not None and start > end:
        raise InputError(f"months window starts {start} after it ends {end}; give start <= end")
    return start, end


def _listing(names: pd.Series, limit: int = 8) -> str:
    unique = sorted(set(names))
    shown = ", ".join(unique[:limit])
    return shown + (f", … ({len(unique)} in all)" if len(unique) > limit else "") if unique else "(none)"


def _span(months: pd.Series) -> str:
    return f"{months.min()} to {months.max()}" if len(months) else "no complete months"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}%"


def _pp(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f} pp"
