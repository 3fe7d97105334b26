"""The lever registry: every lever declared once, and everything that comes from the declaration —
validation with clear messages, the schema's fields, `corridor levers`, rule settings, lever:<path> metrics."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from corridor import levers as L
from corridor.cli import app
from corridor.engine import Simulation
from corridor.errors import InputError
from corridor.phases import metric_names
from corridor.scenario import Nationality, Policies, load

MINI = str(Path(__file__).parent / "data" / "mini.yaml")
pytestmark = pytest.mark.usefixtures("one_thread")  # small runs: one numba thread (tests/conftest.py)


@pytest.mark.parametrize("override, field, valid", [
    ({"policies.guatemala_border_block": 3}, "policies.guatemala_border_block", "a share from 0 to 1"),
    ({"policies.darien_return": 1.7}, "policies.darien_return", "a share from 0 to 1"),
    ({"policies.contention": {"train": 2.5}}, "policies.contention.train", "a share from 0 to 1"),
    ({"policies.contention": {"bus": -1}}, "policies.contention.bus", "a share from 0 to 1"),
    ({"policies.return_south": 2}, "policies.return_south", "a share from 0 to 1"),
    ({"policies.mexico_enforcement": float("nan")}, "policies.mexico_enforcement", "a finite number >= 0"),
    ({"policies.mexico_enforcement": float("inf")}, "policies.mexico_enforcement", "a finite number >= 0"),
    ({"policies.mexico_enforcement": -0.5}, "policies.mexico_enforcement", "a finite number >= 0"),
    ({"policies.crossings_closed.hidalgo": 0.5}, "policies.crossings_closed.hidalgo", "1 (on) or 0 (off)"),
    ({"policies.regime": "title9"}, "policies.regime", "one of title42, title8, title8_restricted"),
    ({"policies.push_delay_days": 1.5}, "policies.push_delay_days", "valid integer"),
    ({"policies.appointments_per_day": [{"from": "2023-03-01", "value": 10}, {"from": "2023-02-01", "value": 20}]},
     "policies.appointments_per_day", "date order"),
    ({"nationalities.Guatemala.title8_removal": 1.2}, "nationalities.Guatemala.title8_removal", "from 0 to 1"),
    ({"policies.development_aid": {"Narnia": 0.5}}, "policies.development_aid", "valid nationalities: Guatemala"),
    ({"policies.return_south_to": "atlantis"}, "policies.return_south_to", "unknown place id 'atlantis'"),
])
def test_a_lever_out_of_bounds_is_refused_naming_field_value_and_what_is_valid(override, field, valid):
    with pytest.raises(InputError) as e:
        load(MINI, override)
    msg = str(e.value)
    assert msg.startswith(MINI) and f"field '{field}" in msg and valid in msg, msg


def test_the_cli_refuses_a_bad_lever_with_exit_2_before_running(tmp_path):
    res = CliRunner().invoke(app, ["run", MINI, "--out", str(tmp_path / "r"), "--set",
                                   "policies.mexico_enforcement=.nan"])
    assert res.exit_code == 2
    assert "policies.mexico_enforcement" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "r").exists()


def test_every_lever_is_a_schema_field_with_its_bounds_documented():
    fields = {**Policies.model_fields, **Nationality.model_fields}
    for lv in L.LEVERS:
        assert lv.field in fields, lv.path
        extra = fields[lv.field].json_schema_extra["x-lever"]
        assert extra["min"] == lv.min and extra["max"] == lv.max and extra["side"] == lv.side
        assert lv.range is None or (lv.min is None or lv.range[0] >= lv.min) and (lv.max is None or lv.range[1] <= lv.max)
        if lv.kind in L.NUMERIC_KINDS and lv.dated:
            assert lv.range is not None, f"{lv.path}: a control needs a plausible range"
            assert lv.neutral is not None and math.isfinite(lv.neutral)


def test_corridor_levers_json_lists_every_lever_with_the_scenarios_keys():
    res = CliRunner().invoke(app, ["levers", MINI, "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    assert len(rows) == len(L.LEVERS)
    need = {"path", "keys", "kind", "min", "max", "range", "choices", "neutral", "unit", "description", "dated",
            "side", "phase"}
    assert all(need <= set(r) for r in rows)
    by = {r["path"]: r for r in rows}
    assert by["policies.crossings_closed"]["keys"] == [c.id for c in load(MINI).crossings]
    assert by["policies.contention"]["keys"] == ["train", "bus", "truck", "foot"]
    assert by["policies.regime"]["choices"] == ["title42", "title8", "title8_restricted", "suspension"]
    assert by["nationalities.<nationality>.title42_expulsion"]["paths"][0].startswith("nationalities.")


def test_every_numeric_lever_is_recorded_as_set_and_a_rule_may_set_every_dated_one():
    sc = load(MINI, {"policies.contention.train": [{"from": "2023-02-01", "value": 0.4}],
                     "policies.parole_per_month.Guatemala": 3000})
    names = metric_names(sc)
    for lv in L.LEVERS:
        if lv.numeric and lv.dated:
            for k in L.lever_keys(lv, sc) or [None]:
                assert "lever:" + L.full_path(lv, k) in names
        if lv.settable:
            k = (L.lever_keys(lv, sc) or [None])[0]
            value = lv.choices[0] if lv.kind == "choice" else (lv.range[0] if lv.range else 0.0)
            s = L.resolve_setting(sc, L.full_path(lv, k), value)
            assert s.lever is lv
    df = Simulation(sc, scale=20).run().to_df()
    train = df[df["metric"] == "lever:policies.contention.train"].set_index("date")["value"]
    assert train[train.index < __import__("datetime").date(2023, 2, 1)].eq(0.0).all() and train.iloc[-1] == 0.4
    parole = df[df["metric"] == "lever:policies.parole_per_month.Guatemala"]["value"]
    assert parole.eq(3000).all()            # in the file's unit (per month), not the kernels' per day
