"""The run queue: every page's runs wait in one queue and run in child processes, a bounded number at once.

Runs go to child processes (multiprocessing, spawn; one per slot, kept warm between runs and replaced when one
fails or takes too long) so that a slow or failing run never blocks a page and can be stopped; a run loads the page's YAML overlay exactly as `corridor run` would, runs it, writes `run/` (metrics.parquet,
run.json) in its own folder and, when asked, an ensemble of seeds for bands (on dask, one local worker). It
reports its progress over a pipe. Each job is named by a random id; the page only ever holds ids, never paths.
"""
from __future__ import annotations

import atexit
import multiprocessing as mp
import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError

__all__ = ["Job", "RunQueue", "JOB_ID"]

JOB_ID = r"^[0-9a-f]{16}$"


@dataclass
class Job:
    """One run asked for by a page."""
    id: str
    session: str
    label: str
    yaml_text: str
    seed: int
    scale: float
    bands: int                       # ensemble runs for bands (0: none)
    command: str                     # the command line that reproduces the run
    folder: Path
    branch: str = ""                 # YYYY-MM-DD the page's levers act from: runs start from a saved state
    state: str = "queued"            # queued, running, done, failed
    stage: str = "waiting"           # waiting, simulating, ensemble, done
    done: int = 0
    total: int = 0
    message: str = ""
    submitted: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    position: int = 0                # place in the queue when asked for (0: started at once)

    @property
    def run_dir(self) -> Path:
        return self.folder / "run"

    @property
    def ensemble_dir(self) -> Path:
        return self.folder / "ensemble"

    @property
    def active(self) -> bool:
        return self.state in ("queued", "running")


_STATES: dict = {}                   # a run process's saved states in memory (the cache on disk is shared)


def _one(conn, folder: str, seed: int, scale: float, bands: int, branch: str = "") -> None:
    """One run; messages: (progress|ensemble, done, total), then (done,) or (failed, message). With a branch
    date, the run starts from the saved state of its eve when an earlier run left one that matches (the
    page's edits act from that date; bit-identical to a full run), else runs in full and keeps its state."""
    from ..errors import ConservationError
    try:
        import datetime as dt

        from ..engine import Simulation
        from ..scenario import load
        from ..state import StateCache, run_branched
        path = Path(folder) / "scenario.yaml"
        sim = Simulation(load(path), seed=seed, scale=scale)
        total = sim.world.n_days
        conn.send(("progress", 0, total))
        tick = lambda d, t: conn.send(("progress", d, t)) if d % 7 == 0 or d == t else None  # noqa: E731
        day = dt.date.fromisoformat(branch) if branch else None
        if day is not None and sim.world.dates[0] < day <= sim.world.dates[-1]:
            if len(_STATES) > 6:
                _STATES.clear()
            run_branched(sim, day, StateCache(), _STATES, progress=tick)
        else:
            sim.run(progress=tick)
        sim.save(Path(folder) / "run")
        if bands > 1:
            # on dask, in this process (threads: a run process may not start processes of its own)
            from distributed import Client, LocalCluster
            from ..batch.ensemble import Ensemble
            conn.send(("ensemble", 0, bands))
            with LocalCluster(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None) as cl, \
                    Client(cl) as client:
                Ensemble(str(path), runs=bands, scale=scale, seed=seed).run(
                    client=client, out_dir=Path(folder) / "ensemble",
                    progress=lambda done, tot, failed: conn.send(("ensemble", done, tot)))
        conn.send(("done",))
    except InputError as e:
        conn.send(("failed", _private(f"error: {e}", folder)))
    except ConservationError as e:
        conn.send(("failed", _private(f"conservation check failed: {e}", folder)))
    except Exception as e:  # noqa: BLE001 - the page shows any failure and keeps working
        conn.send(("failed", _private(f"run failed: {type(e).__name__}: {e}", folder)))


def _private(message: str, folder: str) -> str:
    """A message for the page: the server's folders are not the page's business."""
    return message.replace(f"{folder}/", "").replace(folder, "<run folder>")


def _child(conn) -> None:
    """A run process: warms up (imports, the cached kernels) once, then runs the jobs it is sent."""
    try:
        from ..engine import Simulation
        from ..scenario import load
        Simulation(load("status-quo", ["end=2022-10-03"]), scale=5000).run()
    except Exception:  # noqa: BLE001 - a warm-up is only a warm-up
        pass
    conn.send(("ready",))
    while True:
        try:
            msg = conn.recv()
        except EOFError:
            return
        if msg is None:
            return
        _one(conn, *msg)


class RunQueue:
    """Jobs wait in submission order; `parallel` run at once. Bounds: `max_waiting` jobs queued in all,
    `per_session` active jobs per page, `keep` finished jobs held (the oldest are dropped with their folders),
    `timeout_s` seconds a run may take."""

    def __init__(self, parallel: int = 2, max_waiting: int = 12, per_session: int = 2, keep: int = 60,
                 timeout_s: float = 1800.0, root: str | Path | None = None):
        self.parallel, self.max_waiting, self.per_session, self.keep = parallel, max_waiting, per_session, keep
        self.timeout_s = timeout_s
        self.jobs_per_process = 25          # a fresh run process now and then: memory stays bounded
        self.root = Path(root) if root else Path(tempfile.mkdtemp(prefix="corridor-serve-"))
        self.jobs: dict[str, Job] = {}
        self.waiting: list[Job] = []
        self.counts: dict[str, int] = {}     # runs asked for per page, to number them
        self.idle = 0                        # workers waiting for a job
        self.cv = threading.Condition()
        self.ctx = mp.get_context("spawn")
        atexit.register(shutil.rmtree, self.root, True)     # the runs live as long as the server
        for i in range(parallel):
            threading.Thread(target=self._worker, name=f"corridor-run-{i}", daemon=True).start()

    # ------------------------------------------------------------------ the page's side
    def submit(self, session: str, label: str, yaml_text: str, seed: int, scale: float, bands: int,
               command: str, branch: str = "") -> Job:
        with self.cv:
            mine = [j for j in self.jobs.values() if j.session == session and j.active]
            if len(mine) >= self.per_session:
                raise InputError(f"run: this page already has {len(mine)} runs queued or running; at most "
                                 f"{self.per_session} at once (wait for one to finish)")
            if len(self.waiting) >= self.max_waiting:
                raise InputError(f"run: the queue is full ({len(self.waiting)} runs waiting); try again shortly")
            self.counts[session] = self.counts.get(session, 0) + 1
            label = f"run {self.counts[session]}: {label}"
            jid = secrets.token_hex(8)
            folder = self.root / jid
            folder.mkdir(parents=True)
            (folder / "scenario.yaml").write_text(yaml_text, encoding="utf-8")
            job = Job(jid, session, label, yaml_text, int(seed), float(scale), int(bands), command, folder, str(branch))
            self.jobs[jid] = job
            self.waiting.append(job)
            job.position = max(0, len(self.waiting) - self.idle)   # 0: a free slot takes it now
            self._forget_old()
            self.cv.notify()
            return job

    def get(self, jid: str | None) -> Job | None:
        return self.jobs.get(jid) if isinstance(jid, str) else None

    def position(self, job: Job) -> int:
        """1 for the next to start; 0 when not waiting."""
        with self.cv:
            return self.waiting.index(job) + 1 if job in self.waiting else 0

    def running(self) -> int:
        return sum(1 for j in self.jobs.values() if j.state == "running")

    # ------------------------------------------------------------------ the workers
    def _forget_old(self) -> None:
        finished = sorted((j for j in self.jobs.values() if not j.active), key=lambda j: j.finished or 0)
        for j in finished[: max(0, len(finished) - self.keep)]:
            self.jobs.pop(j.id, None)
            shutil.rmtree(j.folder, ignore_errors=True)

    def _start(self):
        parent, child = self.ctx.Pipe(duplex=True)
        proc = self.ctx.Process(target=_child, args=(child,), daemon=True, name="corridor-run")
        proc.start()
        child.close()
        return proc, parent

    def _worker(self) -> None:
        proc = conn = None
        jobs_done = 0
        while True:
            if proc is None or not proc.is_alive() or jobs_done >= self.jobs_per_process:
                if proc is not None:
                    proc.kill()
                proc, conn = self._start()          # started before a job comes: the next one starts warm
                jobs_done = 0
            with self.cv:
                self.idle += 1
                while not self.waiting:
                    self.cv.wait()
                self.idle -= 1
                job = self.waiting.pop(0)
                job.state, job.stage, job.started = "running", "simulating", time.time()
            try:
                ok = self._run(job, proc, conn)
            except Exception as e:  # noqa: BLE001 - a broken child must not stop the worker
                job.state, job.message, ok = "failed", f"run failed: {type(e).__name__}: {e}", False
            job.finished = time.time()
            jobs_done += 1
            if not ok:
                proc.kill()
                proc = None

    def _run(self, job: Job, proc, conn) -> bool:
        """Send a job to the child and follow it; False when the child must be replaced."""
        deadline = time.time() + self.timeout_s
        sent = False
        while True:
            if time.time() > deadline:
                job.state, job.message = "failed", f"run stopped: it took more than {self.timeout_s:.0f} s"
                return False
            if not sent:
                conn.send((str(job.folder), job.seed, job.scale, job.bands, job.branch))
                sent = True
            if not conn.poll(0.5):
                if not proc.is_alive() and not conn.poll(0):
                    job.state = "failed"
                    job.message = f"run failed: the run's process ended (exit code {proc.exitcode})"
                    return False
                continue
            try:
                msg = conn.recv()
            except EOFError:
                continue
            if msg[0] == "ready":
                continue
            if msg[0] == "progress":
                job.done, job.total = msg[1], msg[2]
            elif msg[0] == "ensemble":
                job.stage, job.done, job.total = "ensemble", msg[1], msg[2]
            elif msg[0] == "done":
                job.state, job.stage = "done", "done"
                return True
            else:
                job.state, job.message = "failed", msg[1]
                return True
