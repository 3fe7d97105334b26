"""`python -m corridor.build`: write the bundled scenarios us-mexico.yaml and us-mexico-2019.yaml from the bundled
data, or `--check` that the committed files are what the builder writes.

    python -m corridor.build                      # writes src/corridor/data/scenarios/us-mexico{,-2019}.yaml
    python -m corridor.build --check              # exit 1 if the committed file differs from a fresh build
    python -m corridor.build --no-fit --out FILE  # the initial guesses, before calibration
    python -m corridor.build --explain            # also print the derivations the scenario relies on
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from corridor.errors import InputError

from .checks import check, explain
from .inputs import FIT_FILE, SCENARIO, shown
from . import monthly
from .us_mexico import build
from .us_mexico_2019 import SCENARIO_2019, build_2019


def first_difference(old: str, new: str) -> str:
    """Where two texts first differ, as 'line N' with both lines."""
    a, b = old.splitlines(), new.splitlines()
    for i, (x, y) in enumerate(zip(a, b), 1):
        if x != y:
            return f"line {i}: file has {x[:100]!r}, builder writes {y[:100]!r}"
    if len(a) != len(b):
        return f"line {min(len(a), len(b)) + 1}: the file has {len(a)} lines, the builder writes {len(b)}"
    return "line endings or trailing bytes"


def compare(path: Path, text: str) -> tuple[bool, str]:
    """(same, message): whether the file at `path` holds exactly the bytes the builder writes."""
    if not path.exists():
        return False, f"{path}: no such file; run `python -m corridor.build --out {path}` to write it"
    old = path.read_bytes()
    new = text.encode("utf-8")
    if old == new:
        return True, f"{path} is up to date with the builder"
    where = first_difference(old.decode("utf-8", "replace"), text)
    return False, (f"{path} differs from what the builder writes ({where}); "
                   "run `python -m corridor.build` to rewrite it, or fix the builder")


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m corridor.build",
                                 description="Build the bundled scenario us-mexico from the bundled observed data, "
                                             "facts tables and fitted values.")
    ap.add_argument("--out", default=str(SCENARIO), help="where to write the scenario (default: the bundled "
                                                         "us-mexico.yaml)")
    ap.add_argument("--out-2019", default=None,
                    help="where to write us-mexico-2019 (default: the bundled us-mexico-2019.yaml when --out is the "
                         "bundled us-mexico.yaml, else not written); never with --no-fit (it extends the fitted "
                         "us-mexico)")
    ap.add_argument("--check", action="store_true",
                    help="write nothing; exit 1 if the file at --out differs from what the builder would write")
    ap.add_argument("--no-fit", action="store_true",
                    help=f"leave out the fitted values ({shown(FIT_FILE)}): the initial guesses a calibration "
                         "starts from")
    ap.add_argument("--explain", action="store_true", help="also print the derivations the scenario relies on")
    return ap


def main(argv: list[str] | None = None) -> int:
    a = parser().parse_args(argv)
    out = Path(a.out)
    out19 = Path(a.out_2019) if a.out_2019 else (SCENARIO_2019 if out.resolve() == SCENARIO.resolve() else None)
    try:
        built = build(None if a.no_fit else FIT_FILE)
        check(built)
        text19 = None if a.no_fit or out19 is None else build_2019()
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if a.explain:
        print("\n".join(explain(built)))
    if a.check:
        results = [compare(out, built.text)] + ([compare(out19, text19)] if text19 is not None else [])
        if text19 is not None:      # the bundled files: observed/monthly.csv too (python -m corridor.build.monthly)
            results.append(compare(monthly.MONTHLY, monthly.text()))
        for same, message in results:
            print(message, file=sys.stdout if same else sys.stderr)
        return 0 if all(same for same, _ in results) else 1
    out.write_bytes(built.text.encode("utf-8"))
    print(f"wrote {out}: {len(built.places.specs)} places, {len(built.legs)} legs, {len(built.crossings.items)} "
          f"crossings, {len(built.sectors.items)} sectors, {len(built.nationalities)} nationalities")
    if text19 is not None:
        out19.write_bytes(text19.encode("utf-8"))
        try:
            check_2019(out19)
        except InputError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        print(f"wrote {out19}")
    return 0


def check_2019(path: Path) -> None:
    """The written us-mexico-2019 loads and validates over its parent (InputError naming the field if not)."""
    from corridor.scenario import load
    load(path)


if __name__ == "__main__":
    sys.exit(main())
