"""The 2024 forecast of a run, month by month: SW encounters, Border Patrol sector shares and the top nationalities'
shares (docs/forecast-2024.md). The forecast is driven only by the 2024 policies; it is reported, not scored here
(no 2024 border figure is bundled).

    .venv/bin/corridor run us-mexico --out runs/us-mexico --no-report -q
    .venv/bin/python tools/forecast_2024.py runs/us-mexico
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from corridor.analysis.observed import monthly_from_run
from corridor.results import atomic_write

OUT = Path(__file__).resolve().parents[1] / "docs" / "forecast-2024.md"
TOP = 8


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path, help="a run folder (metrics.parquet, run.json)")
    ap.add_argument("--out", type=Path, default=OUT)
    a = ap.parse_args()
    info = json.loads((a.run / "run.json").read_text())
    m = monthly_from_run(pd.read_parquet(a.run / "metrics.parquet"))
    m = m[m["month"].str.startswith("2024")]
    wide = m.pivot(index="month", columns="series", values="value")
    sectors = [c for c in wide.columns if c.startswith("usbp_encounters:")]
    nats = [c for c in wide.columns if c.startswith("sw_encounters:") and not c.endswith(":Other")]
    top = wide[nats].sum().sort_values(ascending=False).index[:TOP]
    L = [f"# The 2024 forecast of `{info['scenario']}` (seed {info['seed']}, scale {info['scale']:g})", "",
         "Driven only by the 2024 policy events (observed/events.csv 2024 rows, facts_policy_2024.csv) and Mexico's "
         "enforcement read from the UPM events of 2024; no 2024 US border, Darién or transit figure is used. Reported, "
         f"not scored. Produced by `.venv/bin/python tools/forecast_2024.py {a.run}` (engine {info.get('version')}).", "",
         "## SW encounters and Border Patrol sector shares (% of Border Patrol encounters)", "",
         "| month | SW encounters | Border Patrol | ports | " + " | ".join(s.split(":")[1] for s in sectors) + " |",
         "|" + "---|" * (4 + len(sectors))]
    for month, r in wide.iterrows():
        bp = r[sectors].sum()
        L.append(f"| {month} | {r['sw_encounters']:,.0f} | {r['usbp_encounters']:,.0f} | {r['ofo_encounters']:,.0f} | "
                 + " | ".join(f"{100 * r[s] / bp:.1f}" for s in sectors) + " |")
    L += ["", f"## Nationality shares (% of SW encounters; the {TOP} largest of 2024)", "",
          "| month | " + " | ".join(n.split(":", 1)[1] for n in top) + " |", "|" + "---|" * (1 + len(top))]
    for month, r in wide.iterrows():
        L.append(f"| {month} | " + " | ".join(f"{100 * r[n] / r['sw_encounters']:.1f}" for n in top) + " |")
    text = "\n".join(L) + "\n"
    atomic_write(a.out, lambda p: p.write_text(text, encoding="utf-8"))
    print(text)


if __name__ == "__main__":
    main()
