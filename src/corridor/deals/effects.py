"""What each lever of the talks does on its own: the base scenario against the same with one lever moved.

Every lever comes from the deal space (the registry's talks levers, with their ranges); each is moved from
the branch date to the end of its range farther from the base's value on that date (a closed crossing
reopens, enforcement goes to its high end, slots to none when the base gives many), and every run starts
from the saved state of the branch date's eve, so only the months after it are simulated. The mechanism
column names the phases that read the lever (the registry's `phases`), where its effect begins.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd

from .space import build_space, current_value, deal_overrides, value_on

# (metric, how the window is summed, label)
OUTCOMES = (
    ("sw_encounters", "sum", "SW encounters"),
    ("mexico_detentions", "sum", "Mexico detentions"),
    ("releases", "sum", "released into the US"),
    ("us_custody_population", "max", "peak Border Patrol custody"),
    ("departures", "sum", "departures"),
)


def lever_effects(scenario: str, branch: dt.date, until: dt.date, *, seed: int, scale: float,
                  levers: list[str] | None = None, log=lambda s: None) -> pd.DataFrame:
    """One row per lever: its move, the phases that carry it, and each outcome over branch..until, base and
    moved (and the change in percent)."""
    from ..engine import Simulation
    from ..scenario import load
    from ..state import run_branched

    sc = load(scenario)
    dims = build_space(sc, levers, branch)
    memory: dict = {}

    def outcomes(overrides: dict) -> dict[str, float]:
        sim = Simulation(load(scenario, overrides={**overrides, "end": until.isoformat()}), seed=seed, scale=scale)
        run_branched(sim, branch, None, memory)
        df = sim.to_df()
        df = df[(df["date"] >= branch) & (df["date"] <= until)]
        return {m: float(getattr(df.loc[df["metric"] == m, "value"], how)()) for m, how, _ in OUTCOMES}

    base = outcomes({})
    rows = []
    for d in dims:
        now = value_on(current_value(sc, d.lever, d.paths[0]), branch, d.lever.neutral)
        moved = d.low if abs(now - d.high) < abs(now - d.low) else d.high
        log(f"{d.name}: {now:g} -> {moved:g}")
        got = outcomes(deal_overrides(sc, [d], {d.name: moved}, branch))
        row = {"lever": d.name, "side": d.lever.side, "from": now, "to": moved,
               "mechanism": ", ".join(d.lever.phases), "meaning": d.meaning}
        for m, _, _ in OUTCOMES:
            row[f"{m}:base"], row[f"{m}:moved"] = base[m], got[m]
            row[f"{m}:change_pct"] = 100.0 * (got[m] - base[m]) / base[m] if base[m] else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)


def effects_markdown(table: pd.DataFrame, scenario: str, branch: dt.date, until: dt.date, command: str) -> str:
    """The table as markdown: the change of each outcome in percent, with the base's totals on top."""
    head = ["lever", "side", "moved", "mechanism (phases)", *[label for _, _, label in OUTCOMES]]
    base = table.iloc[0] if len(table) else None
    L = [f"# What each lever does on its own: `{scenario}`, {branch} to {until}", "",
         f"Each row moves one lever of the talks from {branch} (the rest as in `{scenario}`) and gives the change of "
         "each outcome over the window against the base, in percent (custody: its peak). Produced by "
         f"`{command}`.", ""]
    if base is not None:
        L += ["Base totals: " + "; ".join(f"{label} {base[f'{m}:base']:,.0f}" for m, _, label in OUTCOMES) + ".", ""]
    L += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for _, r in table.iterrows():
        cells = [f"`{r['lever']}`", r["side"], f"{r['from']:g} → {r['to']:g}", r["mechanism"]]
        cells += [f"{r[f'{m}:change_pct']:+.1f} %" for m, _, _ in OUTCOMES]
        L.append("| " + " | ".join(cells) + " |")
    return "\n".join(L) + "\n"
