"""Mexico's 2024 enforcement intensity from the published UPM events of 2024, read through the model's flow.

    .venv/bin/python tools/derive_mexico_enforcement_2024.py [--scale 20] [--seed 1]

Writes src/corridor/data/calibration/us-mexico.enforcement-2024.yaml, which the builder merges into the
scenario's `mexico_enforcement` (rebuild with `.venv/bin/python -m corridor.build`). The counts are the one
2024 figure the forecast may use (facts_policy_2024.csv rows 17 and 18): they measure the lever, not US
outcomes. Method and assumption: corridor.batch.lever_counts. Run it after the calibration, on the
scenario as fitted (a rebuild with a new file leaves the months before 2024 unchanged).
"""
from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import yaml

from corridor.batch.lever_counts import CountWindow, solve_steps
from corridor.results import atomic_write

OUT = Path(__file__).resolve().parents[1] / "src" / "corridor" / "data" / "calibration" / "us-mexico.enforcement-2024.yaml"
JAN_JUL, YEAR = 828_505, 1_234_698          # facts_policy_2024.csv rows 17 (Jan-Jul 2024) and 18 (2024)
SOURCE_JJ = "facts_policy_2024.csv row 17 (UPM eventos Jan-Jul 2024: 828,505)"
SOURCE_Y = "facts_policy_2024.csv row 18 (UPM eventos 2024: 1,234,698) less row 17"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=20.0)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    windows = [CountWindow(dt.date(2024, 1, 1), dt.date(2024, 7, 31), JAN_JUL, SOURCE_JJ),
               CountWindow(dt.date(2024, 8, 1), dt.date(2024, 12, 31), YEAR - JAN_JUL, SOURCE_Y)]
    solved = solve_steps("us-mexico", "policies.mexico_enforcement", "mexico_detentions", windows, seed=a.seed,
                         scale=a.scale, log=print)
    doc = {
        "lever": "policies.mexico_enforcement",
        "date": dt.date.today().isoformat(),
        "command": f".venv/bin/python tools/derive_mexico_enforcement_2024.py --scale {a.scale:g} --seed {a.seed}",
        "method": ("for each window in turn, the value from its first day at which the model's Mexico detention events "
                   "over the window equal the published UPM count (corridor.batch.lever_counts)"),
        "assumption": ("events are flow x detection: the model's flow through Mexico's checkpoints in 2024 is taken as "
                       "right; where it is too low the intensity comes out too high, and the other way round"),
        "steps": [{"from": s.window.start.isoformat(), "value": s.value, "model_events": round(s.model),
                   "observed_events": s.window.observed, "window": f"{s.window.start}..{s.window.end}",
                   "source": s.window.source} for s in solved],
    }
    text = ("# Mexico's 2024 enforcement, derived by tools/derive_mexico_enforcement_2024.py: do not edit by hand.\n"
            + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=10_000))
    atomic_write(OUT, lambda p: p.write_text(text, encoding="utf-8"))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
