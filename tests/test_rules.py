"""Conditional rules (rules.RuleBook) on constructed input: a fake metric book with hand-made series,
so every switch-on and switch-off day is known in advance; then validation errors; then one short run."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from corridor.codes import REGIMES
from corridor.engine import Simulation
from corridor.errors import InputError
from corridor.phases import metric_names
from corridor.rules import RuleBook
from corridor.scenario import load
from corridor.timelines import LeverBook
from corridor.world import compile_world

MINI = str(Path(__file__).parent / "data" / "mini.yaml")
T8R = REGIMES.index("title8_restricted")

PROCLAMATION = {
    "name": "proclamation",
    "condition": {"metric": "usbp_encounters", "window_days": 7, "statistic": "mean", "comparison": ">=",
                  "threshold": 2500},
    "action": {"lever": "policies.regime", "value": "title8_restricted"},
    "release": {"metric": "usbp_encounters", "window_days": 7, "statistic": "mean", "comparison": "<",
                "threshold": 1500},
    "release_after_days": 14,
}


pytestmark = pytest.mark.usefixtures("one_thread")  # small runs: one numba thread (tests/conftest.py)


class FakeBook:
    """What RuleBook reads from metrics.MetricBook: `full[day, index[name]]`."""

    def __init__(self, world, rule_names, series: dict[str, np.ndarray]):
        self.names = metric_names(world.scenario)
        self.index = {n: i for i, n in enumerate(self.names)}
        self.full = np.zeros((world.n_days, len(self.names)))
        for name, values in series.items():
            self.full[: len(values), self.index[name]] = values


class RunLevers:
    """A compiled world with the run's own lever timelines (`levers`), which the rule book rewrites."""

    def __init__(self, sc):
        self.world = compile_world(sc)
        self.scenario, self.dates, self.n_days = sc, self.world.dates, self.world.n_days
        self.book = LeverBook(sc, self.dates, self.world.levers.target_cum)
        self.levers = self.book.timelines

    def __getattr__(self, name):          # names of the compiled world (crossing_ids, nat_names, ...)
        return getattr(self.world, name)


def setup(rules: list[dict], overrides: dict | None = None):
    sc = load(MINI, {"rules": rules, **(overrides or {})})
    w = RunLevers(sc)
    return sc, w, RuleBook(sc, w.dates, w.book)


def drive(w, rb, book, record=None):
    """The engine's order: rules.apply(d) first thing each day; returns rule_active per day x rule."""
    active = np.zeros((w.n_days, len(rb.rules)))
    for d in range(w.n_days):
        rb.apply(d, book)
        active[d] = rb.active()
        if record:
            record(d, book)
    return active


def switches(active_col: np.ndarray) -> list[tuple[int, int]]:
    """(day, new state) of each change, starting from off."""
    prev = np.concatenate([[0.0], active_col[:-1]])
    return [(int(d), int(active_col[d])) for d in np.flatnonzero(active_col != prev)]


def step_series(n: int, steps: list[tuple[int, float]]) -> np.ndarray:
    out = np.zeros(n)
    for start, v in steps:
        out[start:] = v
    return out


# ----------------------------------------------------------------------------- hysteresis

def test_proclamation_hysteresis_exact_days():
    sc, w, rb = setup([PROCLAMATION])
    n = w.n_days
    # 1,000/day, 3,000/day on days 20..39, then 1,000/day again.
    enc = step_series(n, [(0, 1000), (20, 3000), (40, 1000)])
    book = FakeBook(w, ["proclamation"], {"usbp_encounters": enc})
    book.full[:, book.index["usbp_encounters"]] = enc  # future days are filled too: the rule must not read them
    original = w.levers.regime.copy()
    active = drive(w, rb, book)[:, 0]
    # On: the mean of days d-7..d-1 first reaches 2,500 at d=26 (six days of 3,000: 2,714; five: 2,429).
    # Release test: the mean first falls below 1,500 at d=46 (one day of 3,000 left: 1,286; two: 1,571);
    # off 14 days later, on day 60.
    assert switches(active) == [(26, 1), (60, 0)]
    assert [(e["date"], e["switch"]) for e in rb.log] == [(str(w.dates[26]), "on"), (str(w.dates[60]), "off")]
    assert rb.log[0]["metric"] == "usbp_encounters" and rb.log[0]["value"] == pytest.approx(1000 + 2000 * 6 / 7)
    # The lever: restricted from day 26 to 59; the scenario's own regime before and from day 60 on.
    assert (w.levers.regime[26:60] == T8R).all()
    np.testing.assert_array_equal(w.levers.regime[:26], original[:26])
    np.testing.assert_array_equal(w.levers.regime[60:], original[60:])


def test_release_is_called_off_when_the_condition_returns():
    sc, w, rb = setup([PROCLAMATION])
    # Up on day 10, down on day 30 (release test met on day 36, off due day 50), up again on days 40..59.
    enc = step_series(w.n_days, [(0, 1000), (10, 3000), (30, 1000), (40, 3000), (60, 1000)])
    book = FakeBook(w, ["proclamation"], {"usbp_encounters": enc})
    active = drive(w, rb, book)[:, 0]
    # on at 16; the mean is back at >=2,500 on day 46, before day 50: the pending release is cancelled;
    # the second drop (day 60) is met on day 66 and takes effect on day 80.
    assert switches(active) == [(16, 1), (80, 0)]


def test_without_a_release_the_rule_ends_when_its_condition_stops():
    rule = {"name": "hot", "condition": {"metric": "usbp_encounters", "window_days": 1, "statistic": "last",
                                         "threshold": 2000},
            "action": {"lever": "policies.mexico_enforcement", "value": 2.0}, "release_after_days": 3}
    sc, w, rb = setup([rule])
    enc = step_series(w.n_days, [(0, 1000), (10, 3000), (20, 1000)])
    active = drive(w, rb, FakeBook(w, ["hot"], {"usbp_encounters": enc}))[:, 0]
    # held from d=11 (day 10 is the first hot day); not held from d=21; off 3 days later.
    assert switches(active) == [(11, 1), (24, 0)]
    assert (w.levers.mexico_enforcement[11:24] == 2.0).all() and (w.levers.mexico_enforcement[24:] == 1.0).all()


# ----------------------------------------------------------------------------- the talks' rules

def test_reopen_once_enforcement_held_for_n_days():
    """The US position: reopen the closed crossings once Mexican enforcement >= 1.5 for 14 days."""
    rules = [
        {"name": "reopen-min", "condition": {"metric": "mexico_enforcement", "window_days": 14, "statistic": "min",
                                             "threshold": 1.5},
         "action": {"lever": "policies.crossings_closed", "value": 0}},
        {"name": "reopen-for", "condition": {"metric": "mexico_enforcement", "window_days": 1, "statistic": "last",
                                             "threshold": 1.5, "for_days": 14},
         "action": {"lever": "policies.crossings_closed.hidalgo", "value": 0}},
    ]
    sc, w, rb = setup(rules, {"policies.crossings_closed.hidalgo": 1})
    hidalgo = w.crossing_ids.index("hidalgo")
    assert w.levers.crossings_closed[:, hidalgo].all()
    enf = step_series(w.n_days, [(0, 1.0), (30, 1.6), (70, 1.2)])
    active = drive(w, rb, FakeBook(w, [r["name"] for r in rules], {"mexico_enforcement": enf}))
    # days 30..43 are the first 14 days at >= 1.5: both forms open on day 44; enforcement falls on day 70,
    # so both release on day 71 (default release: the condition no longer holds) and hidalgo closes again.
    assert switches(active[:, 0]) == [(44, 1), (71, 0)]
    assert switches(active[:, 1]) == [(44, 1), (71, 0)]
    assert w.levers.crossings_closed[:44, hidalgo].all() and not w.levers.crossings_closed[44:71, hidalgo].any()
    assert w.levers.crossings_closed[71:, hidalgo].all()


def test_raise_enforcement_when_stranded_then_reopen_chained():
    """Raise enforcement when stranded_mexico > Y (after a 3-day delay); a second rule watches the
    enforcement that the first one sets, as recorded by the engine each day."""
    rules = [
        {"name": "raise", "condition": {"metric": "stranded_mexico", "window_days": 1, "statistic": "last",
                                        "comparison": ">", "threshold": 5000},
         "action": [{"lever": "policies.mexico_enforcement", "value": 1.5},
                    {"lever": "policies.mexico_personnel", "value": 40000}],
         "delay_days": 3},
        {"name": "reopen", "condition": {"metric": "mexico_enforcement", "window_days": 14, "statistic": "min",
                                         "threshold": 1.5},
         "action": {"lever": "policies.crossings_closed.hidalgo", "value": 0}},
    ]
    sc, w, rb = setup(rules, {"policies.crossings_closed.hidalgo": 1})
    stranded = step_series(w.n_days, [(0, 1000), (20, 6000)])
    book = FakeBook(w, ["raise", "reopen"], {"stranded_mexico": stranded})
    ie = book.index["mexico_enforcement"]

    def record(d, b):  # as the engine records it: today's lever value
        b.full[d, ie] = w.levers.mexico_enforcement[d]

    active = drive(w, rb, book, record)
    # stranded > 5,000 first seen on day 21 (reads day 20); action 3 days later: day 24.
    assert switches(active[:, 0]) == [(24, 1)]
    assert (w.levers.mexico_enforcement[:24] == 1.0).all() and (w.levers.mexico_enforcement[24:] == 1.5).all()
    assert (w.levers.mexico_personnel[24:] == 40000).all()
    # enforcement 1.5 recorded from day 24: 14 days of it by day 38.
    assert switches(active[:, 1]) == [(38, 1)]


def test_delayed_and_monthly_levers():
    rules = [{"name": "aid", "condition": {"metric": "stranded_mexico", "window_days": 1, "threshold": 1},
              "action": [{"lever": "policies.development_aid.Guatemala", "value": 0.5},
                         {"lever": "policies.parole_per_month.Guatemala", "value": 3100}]}]
    sc, w, rb = setup(rules, {"policies.push_delay_days": 10})
    drive(w, rb, FakeBook(w, ["aid"], {"stranded_mexico": step_series(w.n_days, [(0, 0), (40, 5)])}))
    g = w.nat_names.index("Guatemala")
    # on day 41; aid acts after push_delay_days (from day 51); parole per day = per month / days in month.
    assert (w.levers.development_aid[:51, g] == 0).all() and (w.levers.development_aid[51:, g] == 0.5).all()
    dim = np.array([31 if d.month in (1, 3, 12) else 28 for d in w.dates[41:]], float)
    np.testing.assert_allclose(w.levers.parole_per_day[41:, g], 3100 / dim)
    assert (w.levers.parole_per_day[:41, g] == 0).all()


def test_active_window():
    rule = dict(PROCLAMATION, active_from="2023-01-20", active_to="2023-02-10")
    sc, w, rb = setup([rule])
    enc = np.full(w.n_days, 3000.0)
    active = drive(w, rb, FakeBook(w, ["proclamation"], {"usbp_encounters": enc}))[:, 0]
    d_from, d_to = w.dates.index(dt.date(2023, 1, 20)), w.dates.index(dt.date(2023, 2, 10))
    assert switches(active) == [(d_from, 1), (d_to + 1, 0)]
    assert rb.log[-1]["metric"] == "active_to passed"


def test_later_rule_wins_and_release_restores_the_other():
    rules = [
        {"name": "a", "condition": {"metric": "stranded_mexico", "threshold": 1},
         "action": {"lever": "policies.mexico_enforcement", "value": 1.5}},
        {"name": "b", "condition": {"metric": "usbp_encounters", "threshold": 1},
         "action": {"lever": "policies.mexico_enforcement", "value": 2.0}},
    ]
    sc, w, rb = setup(rules)
    n = w.n_days
    book = FakeBook(w, ["a", "b"], {"stranded_mexico": step_series(n, [(0, 0), (10, 5)]),
                                    "usbp_encounters": step_series(n, [(0, 0), (20, 5), (30, 0)])})
    drive(w, rb, book)
    e = w.levers.mexico_enforcement
    assert (e[:11] == 1.0).all() and (e[11:21] == 1.5).all() and (e[21:31] == 2.0).all() and (e[31:] == 1.5).all()


# ----------------------------------------------------------------------------- validation

def bad_rule(**kw) -> list[dict]:
    r = json.loads(json.dumps(PROCLAMATION))
    for k, v in kw.items():
        section, _, field = k.partition("__")
        if field:
            r[section][field] = v
        else:
            r[section] = v
    return [r]


def bad_file(tmp_path, rules) -> Path:
    base = yaml.safe_load(Path(MINI).read_text())
    base["rules"] = rules
    p = tmp_path / "bad.yaml"
    p.write_text(yaml.safe_dump(base, sort_keys=False))
    return p


@pytest.mark.parametrize("kw, expect", [
    ({"condition__metric": "usbp_encounter"},
     ["rules[0] (proclamation).condition.metric", "'usbp_encounter'", "did you mean 'usbp_encounters'",
      "valid metrics: ", "sw_encounters", "stranded_mexico", "waiting_population:<...>"]),
    ({"release__metric": "nonsense"}, ["rules[0] (proclamation).release.metric", "'nonsense'", "valid metrics"]),
    ({"action": {"lever": "policies.mexico_enforcment", "value": 1.5}},
     ["rules[0] (proclamation).action[0].lever", "unknown lever 'policies.mexico_enforcment'",
      "did you mean 'policies.mexico_enforcement'", "policies.crossings_closed[.<crossing>]"]),
    ({"action": {"lever": "policies.crossings_closed.lukeville", "value": 0}},
     ["action[0].lever", "unknown crossing 'lukeville'", "valid crossings: hidalgo, between-ports-rio-grande-valley"]),
    ({"action": {"lever": "policies.contention.air", "value": 0.5}}, ["unknown mode 'air'", "train, bus, truck, foot"]),
    ({"action": {"lever": "policies.regime", "value": "title9"}},
     ["action[0].value", "'title9'", "title42, title8, title8_restricted"]),
    ({"action": {"lever": "policies.guatemala_border_block", "value": 3}}, ["action[0].value", "from 0 to 1"]),
    ({"action": {"lever": "nationalities.Narnia.title8_removal", "value": 0.5}},
     ["unknown nationality 'Narnia'", "Guatemala, Mexico"]),
    ({"condition__comparison": "=>"}, ["rules[0] (proclamation).condition.comparison", "'=>'"]),
    ({"condition__statistic": "median"}, ["condition.statistic", "'median'"]),
])
def test_rule_errors_name_file_field_value_and_what_is_valid(tmp_path, kw, expect):
    path = bad_file(tmp_path, bad_rule(**kw))
    with pytest.raises(InputError) as e:
        load(path)
    msg = str(e.value)
    assert msg.startswith(str(path)), msg
    for part in expect:
        assert part in msg, (part, msg)


def test_duplicate_rule_names_and_rules_watching_rules(tmp_path):
    with pytest.raises(InputError, match="rules: duplicate id 'proclamation'"):
        load(bad_file(tmp_path, [PROCLAMATION, PROCLAMATION]))
    chained = dict(PROCLAMATION, name="second", condition={"metric": "rule_active:proclamation", "threshold": 1})
    sc = load(bad_file(tmp_path, [PROCLAMATION, chained]))
    assert "rule_active:second" in metric_names(sc)


def test_metric_names_match_what_a_run_records():
    sc = load(MINI, {"rules": [PROCLAMATION]})
    names = metric_names(sc)
    sim = Simulation(sc, scale=5).run()
    assert list(dict.fromkeys(sim.to_df()["metric"])) == names


# ----------------------------------------------------------------------------- in a run

def test_rule_in_a_run_switches_levers_and_is_recorded(tmp_path):
    rule = {"name": "busy", "condition": {"metric": "usbp_encounters", "window_days": 3, "threshold": 1.0},
            "action": {"lever": "policies.mexico_enforcement", "value": 3.0},
            "active_from": "2023-02-01"}
    sim = Simulation(load(MINI, {"rules": [rule]}), scale=5).run()
    df = sim.to_df()
    on = df[df["metric"] == "rule_active:busy"].set_index("date")["value"]
    enf = df[df["metric"] == "mexico_enforcement"].set_index("date")["value"]
    first = on[on > 0].index.min()
    assert str(first) == "2023-02-01" and sim.info["rule_switches"][0]["date"] == "2023-02-01"
    assert (enf[on > 0] == 3.0).all() and (enf[on == 0] == 1.0).all()
    out = sim.save(tmp_path / "run")
    info = json.loads((out / "run.json").read_text())
    assert info["rule_switches"][0] == {**info["rule_switches"][0], "rule": "busy", "switch": "on"}
    # A second run of the same Simulation starts from the scenario's own timelines again.
    again = sim.run().to_df()
    np.testing.assert_array_equal(again["value"].to_numpy(), df["value"].to_numpy())
