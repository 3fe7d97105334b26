"""How the baseline run matches the observed record: the fit table (``fit.csv``) and its section of the page.

The figures are `corridor validate`'s (``corridor.analysis.validate.compare``) over the calibration windows
it defines, so the report and the command never disagree.
"""

from __future__ import annotations

import html

import pandas as pd

from ..analysis.validate import calibration_windows, compare
from ..errors import InputError

__all__ = ["fit_windows", "fit_table", "fit_html"]


def fit_windows(scenario: str) -> list[tuple[str, tuple[str, str]]]:
    """The windows of the fit table: the scenario's training and validation months and the two together."""
    train, valid = calibration_windows(scenario)
    if valid is None:
        return [("training", train)]
    return [("training", train), ("validation", valid), ("whole period", (train[0], valid[1]))]


def fit_table(run: pd.DataFrame, observed: pd.DataFrame | None, scenario: str = "") -> pd.DataFrame:
    """How one run matches the observed record on the calibration windows it covers (`corridor validate`'s
    figures): SW encounters against the two naive baselines, the Darién, the nationality and sector mix."""
    rows = []
    if observed is None or len(observed) == 0:
        return pd.DataFrame(rows)
    for label, (start, end) in fit_windows(scenario):
        try:
            r = compare(run, observed, (start, end))
        except InputError:          # the run does not cover this window
            continue
        sw, darien = r.series.get("sw_encounters"), r.series.get("darien_crossings")
        d = r.pairs[r.pairs["series"] == "darien_crossings"]
        darien_total = (100.0 * (d["model"].sum() / d["observed"].sum() - 1.0)
                        if darien and d["observed"].sum() > 0 else None)
        rows.append({
            "window": label, "months": f"{start}..{end}",
            "sw_encounters MAPE %": sw.mape if sw else None,
            "last value MAPE %": sw.baseline_last_value_mape if sw else None,
            "same month last year MAPE %": sw.baseline_same_month_last_year_mape if sw else None,
            "darien_crossings MAPE %": darien.mape if darien else None,
            "darien_crossings total error %": darien_total,
            "nationality shares pp": r.summary["nationality_share_mae_pp"],
            "sector shares pp": r.summary["sector_share_mae_pp"],
        })
    return pd.DataFrame(rows)


def fit_html(fit: pd.DataFrame, baseline: str) -> str:
    """The fit table as an HTML section body, with what each column means."""
    if fit.empty:
        return "<p class='note'>No observed months in the calibration windows are covered by the baseline run.</p>"
    esc = html.escape
    (t0, t1), valid = calibration_windows(baseline)
    v0, v1 = valid or ("–", "–")
    head = "".join(f"<th>{esc(c)}</th>" for c in fit.columns)
    body = "".join("<tr>" + "".join(
        f"<td>{esc(v) if isinstance(v, str) else ('–' if v is None or pd.isna(v) else f'{v:.1f}')}</td>"
        for v in row) + "</tr>" for row in fit.itertuples(index=False))
    return (f"<p>{esc(baseline)} against the observed monthly series (as `corridor validate` computes them): "
            f"the model was fitted on the training months ({t0} to {t1}) and never "
            f"on the validation months ({v0} to {v1}). MAPE: mean absolute "
            "percentage error of monthly totals; the two naive baselines forecast from the observed series alone "
            "(the last month before the window carried forward; the same month a year earlier); pp: mean absolute "
            "error of monthly shares in percentage points (top 10 nationalities; Border Patrol sectors); total "
            "error: the window's model total against the observed total. Also in "
            "fit.csv.</p>"
            f"<div class='tablewrap'><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")

