"""Bundled observed data and the monthly view of a run that is compared with it.

Observed files are tidy CSVs `month,series,value` (see data/observed/SOURCES.md). Series names are
the metric names the engine writes, so a run and a file line up by name without any mapping.
"""
from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pandas as pd

from ..errors import InputError

OBSERVED_COLUMNS = ("month", "series", "value")
METRICS_COLUMNS = ("date", "metric", "value")

# Metrics that describe a level on a day (people present, a switch, a belief) rather than events
# counted that day. A month of a stock is its mean; a month of a flow is its sum. Extend here.
STOCK_PREFIXES: tuple[str, ...] = (
    "population:",
    "custody_population:",
    "holding_capacity:",
    "waiting_population:",
    "agents_created",
    "rule_active:",
    "crossing_open:",
    "perceived_chance:",
    "mexico_enforcement",
    "mexico_personnel",
    "place_population:",
    "processing_capacity:",
    "stranded_mexico",
    "us_custody_population",
)

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def is_stock(metric: str) -> bool:
    """True for level metrics (aggregate by mean), False for daily counts (aggregate by sum)."""
    return str(metric).startswith(STOCK_PREFIXES)


def bundled_path(name: str) -> Path:
    """Path of a file shipped in corridor/data/observed, e.g. bundled_path("monthly.csv")."""
    folder = resources.files("corridor") / "data" / "observed"
    path = Path(str(folder / name))
    if not path.is_file():
        shipped = sorted(p.name for p in Path(str(folder)).iterdir() if p.is_file())
        raise InputError(f"no bundled observed file {name!r} in {folder}; shipped files: {', '.join(shipped)}")
    return path


def is_month(text: str) -> bool:
    """True for 'YYYY-MM' with a month 01-12."""
    return bool(_MONTH.match(str(text)))


def shift_month(month: str, months: int) -> str:
    """'2023-12' shifted by -1 is '2023-11'; by -12 is '2022-12'."""
    year, mon = int(month[:4]), int(month[5:7])
    index = year * 12 + (mon - 1) + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def load_observed(path: str | Path | None = None) -> pd.DataFrame:
    """Read an observed CSV (month,series,value) and check every row, so bad data fails here, by line.

    Without a path, the bundled monthly.csv (Oct 2018 – Dec 2023). Extra columns are ignored.
    Returns columns month (str 'YYYY-MM'), series (str), value (float), sorted by series then month.
    """
    path = Path(path) if path is not None else bundled_path("monthly.csv")
    if not path.is_file():
        raise InputError(f"observed file {path} does not exist; give a CSV with columns month,series,value")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skip_blank_lines=False, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise InputError(f"observed file {path} is empty; expected a header month,series,value and one row per month and series") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise InputError(f"observed file {path} is not a readable CSV ({first_line}); expected columns month,series,value") from None

    raw.columns = [str(c).strip() for c in raw.columns]
    missing = [c for c in OBSERVED_COLUMNS if c not in raw.columns]
    if missing:
        raise InputError(
            f"observed file {path} lacks column(s) {', '.join(missing)}; found {', '.join(raw.columns)}; "
            f"expected month,series,value"
        )
    table = raw[list(OBSERVED_COLUMNS)].apply(lambda col: col.str.strip())
    table = table[(table != "").any(axis=1)]  # blank lines; the index still gives the file line
    if table.empty:
        raise InputError(f"observed file {path} has a header but no rows; expected one row per month and series")

    def line(index) -> int:
        return int(index) + 2  # header is line 1

    bad_month = ~table["month"].map(is_month).astype(bool)
    if bad_month.any():
        i = bad_month.idxmax()
        raise InputError(
            f"observed file {path}, line {line(i)}, column month: {table.at[i, 'month']!r} is not a month; "
            f"use YYYY-MM with a month 01-12, e.g. 2023-12"
        )
    empty_series = table["series"] == ""
    if empty_series.any():
        i = empty_series.idxmax()
        raise InputError(f"observed file {path}, line {line(i)}, column series: empty; name the metric, e.g. sw_encounters")
    values = pd.to_numeric(table["value"], errors="coerce")
    bad_value = values.isna() | ~values.abs().lt(float("inf"))
    if bad_value.any():
        i = bad_value.idxmax()
        raise InputError(
            f"observed file {path}, line {line(i)}, column value: {table.at[i, 'value']!r} is not a number; "
            f"use a plain finite number such as 301981 (no thousands separators)"
        )
    negative = values < 0
    if negative.any():
        i = negative.idxmax()
        raise InputError(
            f"observed file {path}, line {line(i)}, column value: {table.at[i, 'value']!r} is negative; observed "
            f"series are counts of people or events, so a value is 0 or more"
        )
    dup = table.duplicated(["month", "series"], keep=False)
    if dup.any():
        first = dup.idxmax()
        twins = table.index[dup & (table["month"] == table.at[first, "month"]) & (table["series"] == table.at[first, "series"])]
        raise InputError(
            f"observed file {path}, lines {', '.join(str(line(i)) for i in twins)}: duplicate rows for month "
            f"{table.at[first, 'month']!r}, series {table.at[first, 'series']!r}; keep one value per month and series"
        )

    out = pd.DataFrame({
        "month": table["month"].astype(str),
        "series": table["series"].astype(str),
        "value": values.astype("float64"),
    })
    return out.sort_values(["series", "month"], ignore_index=True)


def monthly_from_run(metrics: pd.DataFrame, source: str = "run metrics") -> pd.DataFrame:
    """Aggregate a run's daily tidy table (date, metric, value) to month,series,value.

    Flows are summed and kept only for complete months (every day present), since a partial month's
    sum is not comparable with an observed monthly total. Stocks are averaged over the days present.
    A NaN value counts as a missing day. `source` names the table in error messages.
    """
    missing = [c for c in METRICS_COLUMNS if c not in metrics.columns]
    if missing:
        raise InputError(
            f"{source} lacks column(s) {', '.join(missing)}; found {', '.join(map(str, metrics.columns))}; "
            f"expected date, metric, value (one row per day and metric)"
        )
    dates = pd.to_datetime(metrics["date"], errors="coerce")
    if dates.isna().any():
        i = dates.isna().to_numpy().argmax()
        raise InputError(f"{source}, row {i}, column date: {metrics['date'].iloc[i]!r} is not a date; expected YYYY-MM-DD")
    values = pd.to_numeric(metrics["value"], errors="coerce")
    bad = values.isna() & metrics["value"].notna()
    if bad.any():
        i = bad.to_numpy().argmax()
        raise InputError(f"{source}, row {i}, column value: {metrics['value'].iloc[i]!r} is not a number")
    daily = pd.DataFrame({
        "day": dates.dt.normalize(),
        "metric": metrics["metric"].astype(str).to_numpy(),
        "value": values.astype("float64").to_numpy(),
    })
    dup = daily.duplicated(["day", "metric"])
    if dup.any():
        i = dup.to_numpy().argmax()
        raise InputError(
            f"{source}: metric {daily['metric'].iloc[i]!r} has more than one row for {daily['day'].iloc[i]:%Y-%m-%d}; "
            f"expected one row per day and metric"
        )
    daily = daily.dropna(subset=["value"])
    daily["month"] = daily["day"].dt.year * 12 + (daily["day"].dt.month - 1)  # formatted after grouping: faster
    daily["days_in_month"] = daily["day"].dt.days_in_month

    grouped = daily.groupby(["metric", "month"], sort=True).agg(
        total=("value", "sum"), mean=("value", "mean"), days=("value", "size"), days_in_month=("days_in_month", "first")
    ).reset_index()
    stock = grouped["metric"].map(is_stock).astype(bool)
    complete = grouped["days"] == grouped["days_in_month"]
    grouped = grouped[stock | complete]
    stock = stock[grouped.index]
    out = pd.DataFrame({
        "month": [f"{m // 12:04d}-{m % 12 + 1:02d}" for m in grouped["month"]],
        "series": grouped["metric"].astype(str).to_numpy(),
        "value": grouped["mean"].where(stock, grouped["total"]).astype("float64").to_numpy(),
    })
    return out.sort_values(["series", "month"], ignore_index=True)
