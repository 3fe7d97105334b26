"""Run results on disk: metrics.parquet (tidy date, metric, value) and run.json, written atomically;
the provenance a run carries (the engine's fingerprint)."""
from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from pathlib import Path
from typing import Callable, Union

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .fingerprint import engine_fingerprint  # noqa: F401  (part of the provenance API: runs carry it)

SCHEMA = pa.schema([("date", pa.date32()), ("metric", pa.string()), ("value", pa.float64())])


Content = Union[bytes, str, Callable[[Path], None]]


def atomic_write(path: str | Path, content: Content) -> None:
    """Write bytes, text (UTF-8) or whatever `content(tmp_path)` writes to a temporary file beside `path`,
    then rename it into place: readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        if isinstance(content, bytes):
            Path(tmp).write_bytes(content)
        elif isinstance(content, str):
            Path(tmp).write_text(content, encoding="utf-8")
        else:
            content(Path(tmp))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)          # mkstemp makes 0600; results are ordinary files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_metrics(path: Path, df: pd.DataFrame) -> None:
    table = pa.Table.from_pandas(df[["date", "metric", "value"]], schema=SCHEMA, preserve_index=False)
    atomic_write(Path(path), lambda p: pq.write_table(table, p, compression="zstd"))


def write_json(path: Path, obj: dict) -> None:
    atomic_write(Path(path), lambda p: p.write_text(json.dumps(obj, indent=2, default=str)))


def now() -> str:
    """The time a result is written, as run.json and the report state it (UTC, to the second)."""
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


def write_run(out_dir: str | Path, df: pd.DataFrame, info: dict) -> Path:
    """metrics.parquet first, run.json last: a directory with run.json holds a complete run. `info` gains the
    date of the run (`date`) if it has none, so the report made from it states the same one."""
    info.setdefault("date", now())
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "run.json").unlink(missing_ok=True)
    write_metrics(out / "metrics.parquet", df)
    write_json(out / "run.json", info)
    return out


def read_run(run_dir: str | Path) -> tuple[pd.DataFrame, dict]:
    run = Path(run_dir)
    df = pq.read_table(run / "metrics.parquet").to_pandas()
    info = json.loads((run / "run.json").read_text()) if (run / "run.json").exists() else {}
    return df, info


def monthly(df: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    """Monthly sums of flow metrics (a wide table, one column per metric)."""
    sub = df[df["metric"].isin(metrics)].copy()
    sub["month"] = pd.to_datetime(sub["date"]).dt.strftime("%Y-%m")
    return sub.pivot_table(index="month", columns="metric", values="value", aggfunc="sum")


def summarise(df: pd.DataFrame, info: dict) -> dict:
    """Headline figures of a run, for the CLI summary."""
    flows = ["sw_encounters", "usbp_encounters", "ofo_encounters", "mexico_detentions", "darien_crossings",
             "releases", "removals", "returns_to_mexico"]
    m = monthly(df, flows)
    last = df[df["date"] == df["date"].max()].set_index("metric")["value"]
    peak = df[df["metric"] == "sw_encounters"].set_index("date")["value"]
    return {
        "monthly": m,
        "peak_day": (str(peak.idxmax()), float(peak.max())) if len(peak) else None,
        "agents_created": info.get("agents_created"),
        "agent_days": info.get("agent_days"),
        "wall_seconds": info.get("wall_seconds"),
        "final_custody": float(last.get("us_custody_population", float("nan"))),
        "final_stranded": float(last.get("stranded_mexico", float("nan"))),
    }
