"""Results folders written whole: a new run is written beside `--out` and swapped in, so `--out` never holds
half of one run and half of another (a stale report beside new metrics).

    with WholeFolder(out, "run", force=False) as folder:
        write everything into folder.stage      # a hidden sibling, .NAME.new-PID-XXXX
    # on success the new folder replaces the old at once; on an error, Ctrl-C or kill the old one is untouched

At every moment `out` holds the old complete folder or the new complete one: the swap is one atomic
exchange of the two names (Linux renameat2 RENAME_EXCHANGE). Where the filesystem cannot exchange, the old
folder is first renamed to `.NAME.old-PID-XXXX` beside it, then the new one takes its name; a process killed
between the two renames leaves `out` missing and the old folder under that name, and the next command with
the same `out` puts it back (and says so). Ctrl-C is held off during the swap. What a killed process leaves
behind (its hidden staging folder) is removed by the next command into the same `out`.

Everything a command can check about `out` is checked when the folder is opened, before any simulation: a
file in its place, a path that cannot be made, and a non-empty folder that is not a corridor results folder of
the same kind (refused unless `force`).
"""
from __future__ import annotations

import ctypes
import errno
import os
import shutil
import signal
import tempfile
import threading
from pathlib import Path
from typing import Callable

from .errors import InputError

# The file that marks each kind of corridor results folder (written last in it).
MARKERS = {"run": "run.json", "compare": "compare.json", "ensemble": "ensemble.json",
           "calibration": "study.journal", "sensitivity": "samples.csv"}
NEW, OLD = "new", "old"


class Interrupted(KeyboardInterrupt):
    """Ctrl-C while a folder was being written: `message` says what `out` holds now."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def folder_kind(path: Path) -> str | None:
    """What a folder holds: "run", "compare", "ensemble", "calibration", "sensitivity", or None."""
    for kind, marker in MARKERS.items():
        if (path / marker).is_file():
            return kind
    return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _siblings(out: Path, which: str) -> list[tuple[Path, int]]:
    """Hidden siblings `.NAME.<which>-PID-XXXX` of `out`, with the pid that made them."""
    found, prefix = [], f".{out.name}.{which}-"
    for p in (q for q in out.parent.iterdir() if q.name.startswith(prefix)):
        try:
            found.append((p, int(p.name[len(out.name) + len(which) + 3:].split("-", 1)[0])))
        except ValueError:
            continue
    return found


def recover(out: Path) -> list[str]:
    """Tidy after a command into `out` that was killed: put back an old folder moved aside by a swap that was
    cut off (when `out` is missing), remove what dead processes left. Returns a line for each thing done."""
    said = []
    if not out.parent.is_dir():
        return said
    for p, pid in _siblings(out, OLD):
        if _pid_alive(pid) and pid != os.getpid():
            continue
        if not out.exists():
            os.rename(p, out)
            said.append(f"{out}: put back the previous results from {p.name} (a command writing {out} was cut off "
                        f"while swapping folders)")
        else:
            shutil.rmtree(p, ignore_errors=True)
    for p, pid in _siblings(out, NEW):
        if not _pid_alive(pid):
            shutil.rmtree(p, ignore_errors=True)
    return said


def check_place(out: str | Path, option: str = "--out") -> Path:
    """`out` as an absolute path where a folder is or can be made (not a file, below no file); InputError
    otherwise. What resumable batches (ensemble, sensitivity, calibrate) check before they start."""
    given = str(out)
    out = Path(os.path.abspath(out))
    if out.is_symlink():
        out = out.resolve()
    if out.exists() and not out.is_dir():
        raise InputError(f"{option} {given}: is a file, not a folder; give a folder path (made if missing)")
    ancestor = out.parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise InputError(f"{option} {given}: cannot be made, {ancestor} is a file, not a folder")
    return out


def check_out(out: str | Path, kind: str, force: bool = False, option: str = "--out") -> Path:
    """`out` as an absolute path a `kind` folder can be swapped into; InputError naming the problem otherwise."""
    given = str(out)
    out = check_place(out, option)
    cwd = Path.cwd().resolve()
    if out == Path(out.anchor) or out.resolve() == cwd or out.resolve() in cwd.parents:
        raise InputError(f"{option} {given}: is the current folder or one above it, which cannot be replaced; "
                         f"give a folder below it, e.g. {option} runs/{kind}")
    if out.is_dir():
        try:
            entries = sorted(p.name for p in out.iterdir())
        except OSError as e:
            raise InputError(f"{option} {given}: cannot read the folder ({e.strerror})") from None
        found = folder_kind(out)
        if entries and found != kind and not force:
            what = f"a corridor {found} folder, not a {kind}" if found else \
                f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'} that are not a corridor {kind} " \
                f"(e.g. {entries[0]!r})"
            raise InputError(f"{option} {given}: holds {what}; give an empty or new folder, or add --force to "
                             f"replace it")
    return out


class WholeFolder:
    """A results folder of `kind` at `out`, written in a hidden sibling (`stage`) and swapped in on success.

    Opening it checks `out` (`check_out`), tidies after killed commands (`recover`; `log` gets a line for
    each thing done) and makes the staging folder, raising InputError if any of it fails.
    """

    def __init__(self, out: str | Path, kind: str, force: bool = False, option: str = "--out",
                 log: Callable[[str], None] | None = None):
        self.kind, self.given = kind, str(out)
        self.out = check_out(out, kind, force, option)
        for line in recover(self.out):
            if log is not None:
                log(line)
        self.had_old = self.out.exists()
        try:
            self.out.parent.mkdir(parents=True, exist_ok=True)
            self.stage = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.{NEW}-{os.getpid()}-", dir=self.out.parent))
        except OSError as e:
            raise InputError(f"{option} {self.given}: cannot write a folder in {self.out.parent} "
                             f"({e.strerror or e})") from None
        os.chmod(self.stage, 0o777 & ~_umask())   # mkdtemp makes 0700; results are ordinary folders

    def __enter__(self) -> "WholeFolder":
        return self

    def __exit__(self, kind, exc, tb) -> bool:
        if exc is None:
            self.commit()
            return False
        self.discard()
        if isinstance(exc, KeyboardInterrupt) and not isinstance(exc, Interrupted):
            raise Interrupted(f"interrupted: {self.out} " + ("still holds the previous results, unchanged" if
                              self.had_old else "was not made") + "; nothing half-written was left") from None
        return False

    def discard(self) -> None:
        shutil.rmtree(self.stage, ignore_errors=True)

    def commit(self) -> Path:
        """Swap the staged folder in: one atomic exchange where the filesystem allows, else two renames."""
        with _no_interrupts():
            if not self.out.exists():
                os.rename(self.stage, self.out)
                return self.out
            try:
                _exchange(self.stage, self.out)
                old = self.stage
            except OSError:
                old = Path(tempfile.mktemp(prefix=f".{self.out.name}.{OLD}-{os.getpid()}-", dir=self.out.parent))
                os.rename(self.out, old)
                os.rename(self.stage, self.out)
        shutil.rmtree(old, ignore_errors=True)
        return self.out


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> None:
    """Swap two paths atomically (Linux renameat2 with RENAME_EXCHANGE); OSError where unsupported."""
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        raise OSError(errno.ENOSYS, "renameat2 is not available") from None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


class _no_interrupts:
    """Hold SIGINT (Ctrl-C) off while folders are swapped; it is delivered right after."""

    def __enter__(self):
        self.held = threading.current_thread() is threading.main_thread() and hasattr(signal, "pthread_sigmask")
        if self.held:
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})

    def __exit__(self, *exc):
        if self.held:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        return False
