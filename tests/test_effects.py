"""The table of what each lever does: every lever moved from the branch date, the base's past shared."""
from __future__ import annotations

import datetime as dt

import pytest

from corridor.deals.effects import OUTCOMES, effects_markdown, lever_effects

pytestmark = pytest.mark.usefixtures("one_thread")


def test_each_lever_moves_its_outcomes_the_right_way():
    branch, until = dt.date(2023, 12, 28), dt.date(2024, 3, 31)
    t = lever_effects("status-quo", branch, until, seed=1, scale=200.0,
                      levers=["policies.mexico_enforcement", "crossings-closed-dec-2023"])
    enf, crossings = t.iloc[0], t.iloc[1]
    assert (enf["from"], enf["to"]) == (1.0, 3.0) and (crossings["from"], crossings["to"]) == (1.0, 0.0)
    assert enf["mexico_detentions:change_pct"] > 50 and enf["sw_encounters:change_pct"] < 0
    assert enf["mechanism"] == "inspections, movement"
    assert (t["sw_encounters:base"] == t["sw_encounters:base"].iloc[0]).all()     # one base for every row
    text = effects_markdown(t, "status-quo", branch, until, "cmd")
    assert "`policies.mexico_enforcement` | Mexico | 1 → 3" in text and all(lab in text for _, _, lab in OUTCOMES)
