"""Whole results folders: `--out` of run and compare holds the old complete folder or the new complete one at
every moment, whatever stops the command (an error, Ctrl-C, kill -9); an interrupted ensemble resumes to the
uninterrupted result. The kills are of real `corridor` processes (small runs of the mini scenario)."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import corridor.folders as folders
from corridor.cli import app
from corridor.errors import InputError
from corridor.folders import Interrupted, WholeFolder, recover

MINI = Path(__file__).parent / "data" / "mini.yaml"
CORRIDOR = Path(sys.executable).parent / "corridor"
SHORT = ["--set", "end=2023-01-31"]


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under `folder` (relative path → sha256)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def litter(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


# ---------------------------------------------------------------------------------------------- in process
def test_a_folder_is_swapped_in_whole_or_not_at_all(tmp_path):
    out = tmp_path / "out"
    with WholeFolder(out, "run") as f:
        (f.stage / "run.json").write_text("{}")
        (f.stage / "report.html").write_text("first")
        assert not out.exists()                      # nothing at --out until the new folder is whole
    assert snapshot(out).keys() == {"run.json", "report.html"} and litter(tmp_path) == []
    with pytest.raises(RuntimeError, match="boom"):
        with WholeFolder(out, "run") as f:
            (f.stage / "run.json").write_text('{"new": 1}')
            raise RuntimeError("boom")
    assert (out / "report.html").read_text() == "first" and litter(tmp_path) == []
    with pytest.raises(Interrupted, match="still holds the previous results"):
        with WholeFolder(out, "run") as f:
            (f.stage / "run.json").write_text('{"new": 1}')
            raise KeyboardInterrupt
    assert (out / "run.json").read_text() == "{}" and litter(tmp_path) == []
    with WholeFolder(out, "run") as f:               # no report this time: the old one does not linger
        (f.stage / "run.json").write_text('{"new": 2}')
    assert snapshot(out).keys() == {"run.json"} and litter(tmp_path) == []


def test_without_an_atomic_exchange_a_cut_off_swap_is_put_back(tmp_path, monkeypatch):
    """Where the filesystem cannot exchange two names: old aside, new in; a kill between the two renames
    leaves --out missing and the old folder beside it, which the next command puts back."""
    def no_exchange(a, b):
        raise OSError(22, "not supported")
    monkeypatch.setattr(folders, "_exchange", no_exchange)
    out = tmp_path / "out"
    with WholeFolder(out, "run") as f:
        (f.stage / "run.json").write_text("old")
    with WholeFolder(out, "run") as f:
        (f.stage / "run.json").write_text("new")
    assert (out / "run.json").read_text() == "new" and litter(tmp_path) == []
    # a process killed between the renames (pid 2**22 + 1 is beyond the kernel's pid range: dead)
    aside = tmp_path / f".out.old-{2 ** 22 + 1}-x1"
    os.rename(out, aside)
    (tmp_path / f".out.new-{2 ** 22 + 1}-x2").mkdir()       # and its staging folder
    lines = recover(out)
    assert (out / "run.json").read_text() == "new" and litter(tmp_path) == []
    assert lines and aside.name in lines[0] and "put back" in lines[0]


def test_a_corridor_folder_of_another_kind_or_foreign_files_need_force(tmp_path):
    out = tmp_path / "ens"
    out.mkdir()
    (out / "ensemble.json").write_text("{}")
    with pytest.raises(InputError, match="holds a corridor ensemble folder, not a run.*--force"):
        WholeFolder(out, "run")
    with WholeFolder(out, "run", force=True) as f:
        (f.stage / "run.json").write_text("{}")
    assert snapshot(out).keys() == {"run.json"}
    with pytest.raises(InputError, match="current folder"):
        WholeFolder(Path.cwd(), "run", force=True)


def test_cli_rerun_replaces_every_file_and_the_report_states_the_run(tmp_path, one_thread):
    out = tmp_path / "r"
    assert CliRunner().invoke(app, ["run", str(MINI), "--out", str(out), "--seed", "4", "-q", *SHORT]).exit_code == 0
    html = (out / "report.html").read_text()
    info = json.loads((out / "run.json").read_text())
    for piece in ("scenario mini", f"hash {info['scenario_hash']}", "seed 4", "scale 1.0", f"corridor {info['version']}",
                  f"run {info['date']}"):
        assert piece in html
    r = CliRunner().invoke(app, ["run", str(MINI), "--out", str(out), "--seed", "5", "-q", "--no-report", *SHORT])
    assert r.exit_code == 0, r.output
    assert sorted(snapshot(out)) == ["metrics.parquet", "run.json"]      # no stale report.html, fit.csv, figures/
    assert json.loads((out / "run.json").read_text())["seed"] == 5 and litter(tmp_path) == []


# ---------------------------------------------------------------------------------------------- real processes
def start(args: list[str], cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "NUMBA_NUM_THREADS": "1", "COLUMNS": "200"}
    return subprocess.Popen([str(CORRIDOR), *args], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)


def stop_when(proc: subprocess.Popen, ready, sig: int, timeout: float = 120) -> str:
    """Send `sig` to the command's process group (as a terminal's Ctrl-C, or a kill -9 of it and its workers)
    once `ready()` holds; return its output."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert proc.poll() is None, f"finished before the moment came: {proc.stdout.read()}"
        assert time.monotonic() < deadline, "the moment never came"
        time.sleep(0.02)
    os.killpg(proc.pid, sig)
    out, _ = proc.communicate(timeout=120)
    return out


def staged(parent: Path, name: str, inside: str | None = None):
    def ready():
        for p in parent.glob(f".{name}.new-*"):
            if inside is None or (p / inside).exists():
                return True
        return False
    return ready


@pytest.fixture(scope="module")
def old_run(tmp_path_factory):
    """A complete run folder, made in this process (warm kernels)."""
    d = tmp_path_factory.mktemp("old")
    assert CliRunner().invoke(app, ["run", str(MINI), "--out", str(d / "run"), "--seed", "1", "-q", "--no-report",
                                    *SHORT]).exit_code == 0
    assert CliRunner().invoke(app, ["compare", str(MINI), "--out", str(d / "cmp"), "--seed", "1", "-q",
                                    *SHORT]).exit_code == 0
    return d


@pytest.mark.parametrize("command,sig,moment", [
    ("run", signal.SIGINT, None),                     # Ctrl-C while the simulation runs
    ("run", signal.SIGKILL, "figures"),               # kill -9 while the new report is written
    ("compare", signal.SIGKILL, "mini"),              # kill -9 between the runs and the report
    ("compare", signal.SIGINT, "figures"),            # Ctrl-C while the report is written
])
def test_kill_or_ctrl_c_leaves_the_old_complete_folder(old_run, tmp_path, command, sig, moment):
    name = "run" if command == "run" else "cmp"
    out = tmp_path / name
    shutil.copytree(old_run / name, out)
    before = snapshot(out)
    proc = start([command, str(MINI), "--out", str(out), "--seed", "2", *SHORT], tmp_path)
    text = stop_when(proc, staged(tmp_path, name, moment), sig)
    assert snapshot(out) == before, text                      # the old folder, untouched and whole
    if sig == signal.SIGINT:
        assert proc.returncode == 130, text
        assert f"interrupted: {out} still holds the previous results, unchanged" in text
        assert litter(tmp_path) == []
    else:
        assert proc.returncode == -signal.SIGKILL and litter(tmp_path)   # its staging folder, hidden
    if command == "compare":
        return              # the same folder code as run's, whose rerun is checked below (a compare report is slow)
    # the next command into the same --out tidies what a killed one left and writes the new folder whole
    r = CliRunner().invoke(app, [command, str(MINI), "--out", str(out), "--seed", "2", "-q", "--no-report", *SHORT])
    assert r.exit_code == 0, r.output
    assert litter(tmp_path) == []
    assert json.loads((out / "run.json").read_text())["seed"] == 2


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_ensemble_stopped_resumes_to_the_uninterrupted_result(tmp_path, sig):
    """kill -9 or Ctrl-C of `corridor ensemble` and its dask workers once some runs are finished; the same
    command again runs only the missing ones and gives the quantiles of an uninterrupted ensemble, to the bit."""
    from corridor.batch.ensemble import Ensemble, compute_quantiles
    from corridor.batch.runs import run_one
    args = ["ensemble", str(MINI), "--runs", "3", "--workers", "1", "--no-report", "-q", *SHORT]
    ref = Ensemble(MINI, runs=3, overrides=["end=2023-01-31"])
    for spec in ref.specs(tmp_path / "ref"):                 # the uninterrupted result, run by run in this process
        run_one(spec)
    want, _ = compute_quantiles([tmp_path / "ref" / "runs" / f"run={k}" / "part.parquet" for k in range(3)])
    out = tmp_path / "ens"
    proc = start([*args, "--out", str(out)], tmp_path)
    text = stop_when(proc, lambda: len(list(out.glob("runs/*/_run.json"))) >= 1, sig)
    assert proc.returncode == (130 if sig == signal.SIGINT else -signal.SIGKILL), text
    finished = len(list(out.glob("runs/*/_run.json")))
    assert 1 <= finished <= 3
    r = CliRunner().invoke(app, [a for a in args if a != "-q"] + ["--out", str(out)])
    assert r.exit_code == 0, r.output
    assert f"{3 - finished} run(s) executed, {finished} already finished" in r.output
    resumed, _ = compute_quantiles([out / "runs" / f"run={k}" / "part.parquet" for k in range(3)])
    pd.testing.assert_frame_equal(resumed, want, check_exact=True)
    from corridor.batch.ensemble import Q_COLS, read_quantiles
    assert (read_quantiles(out)[list(Q_COLS)].to_numpy() == want[list(Q_COLS)].to_numpy()).all()
