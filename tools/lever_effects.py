"""What each lever of the talks does on its own (Jan-Jun 2024 against the status quo): docs/lever-effects.md.

    .venv/bin/python tools/lever_effects.py [--scale 20] [--seed 1]
"""
from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from corridor.deals.effects import effects_markdown, lever_effects
from corridor.results import atomic_write

OUT = Path(__file__).resolve().parents[1] / "docs" / "lever-effects.md"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=20.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--scenario", default="status-quo")
    a = ap.parse_args()
    branch, until = dt.date(2023, 12, 28), dt.date(2024, 6, 30)
    table = lever_effects(a.scenario, branch, until, seed=a.seed, scale=a.scale, log=print)
    cmd = f".venv/bin/python tools/lever_effects.py --scale {a.scale:g} --seed {a.seed} --scenario {a.scenario}"
    text = effects_markdown(table, a.scenario, branch, until, cmd)
    atomic_write(OUT, lambda p: p.write_text(text, encoding="utf-8"))
    print(text)


if __name__ == "__main__":
    main()
