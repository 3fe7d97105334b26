"""corridor.compare.compare_scenarios: the library behind `corridor compare`, on the tiny test scenario."""
from __future__ import annotations

import contextlib
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from corridor.compare import compare_scenarios
from corridor.errors import InputError

MINI = Path(__file__).parent / "data" / "mini.yaml"


def test_compare_scenarios_runs_each_with_one_seed_and_writes_one_report(tmp_path):
    """The same scenario under two names gets the same draws (common random numbers): zero differences."""
    shutil.copy(MINI, tmp_path / "mini.yaml")
    (tmp_path / "mini-again.yaml").write_text("name: mini-again\nextends: mini\ndescription: the same, renamed.\n")
    ticks: list[tuple[str, str, int | None, int]] = []

    @contextlib.contextmanager
    def progress(label, unit, total):
        seen = []
        yield lambda done, total_: seen.append(done)
        ticks.append((label, unit, total, len(seen)))

    lines: list[str] = []
    out = tmp_path / "cmp"
    res = compare_scenarios([tmp_path / "mini.yaml", tmp_path / "mini-again.yaml"], out, seed=5, scale=20,
                            overrides=["end=2023-02-28"], progress=progress, log=lines.append)
    assert res.names == ["mini", "mini-again"] and res.baseline == "mini" and res.seed == 5
    assert res.report == out / "report.html" and res.report.exists()
    assert {p.name for p in out.iterdir()} >= {"report.html", "totals.csv", "fit.csv", "figures", "mini", "mini-again"}
    for n in res.names:
        info = json.loads((out / n / "run.json").read_text())
        assert info["seed"] == 5 and info["scale"] == 20
        saved = pd.read_parquet(out / n / "metrics.parquet")
        assert (saved["value"].to_numpy() == res.runs[n]["value"].to_numpy()).all()
    pd.testing.assert_frame_equal(res.runs["mini"], res.runs["mini-again"])
    assert [(t[0], t[1]) for t in ticks] == [("mini", "days"), ("mini-again", "days")]
    assert all(t[2] and t[3] == t[2] for t in ticks)                 # one tick a day, up to the run's days
    assert set(res.totals["scenario"]) == {"mini", "mini-again"}
    assert (res.totals["difference"].dropna() == 0).all()
    assert res.rule_switches == {"mini": [], "mini-again": []} and lines == []
    assert pd.read_csv(out / "totals.csv").shape[0] == len(res.totals)


def test_compare_scenarios_refuses_a_name_twice_before_running(tmp_path):
    with pytest.raises(InputError, match="given more than once"):
        compare_scenarios([MINI, MINI], tmp_path / "x")
    assert not (tmp_path / "x").exists()
