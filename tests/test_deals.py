"""The deal explorer: the front holds no dominated deal; 1 and 2 workers give the same front; an interrupted
search resumes to the same result; bad input is refused with one clear line. On the mini scenario cut to
two months (each run well under a second), with a closed crossing to reopen."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from corridor.batch.runs import RunsFailed, dask_client
from corridor.cli import app
from corridor.deals import DealSearch
from corridor.deals.discovery import prim
from corridor.deals.evaluate import evaluate_run
from corridor.deals.front import dominates, nondominated
from corridor.deals.objectives import OBJECTIVES
from corridor.deals.space import series_from
from corridor.errors import InputError
from corridor.levers import BY_PATH, Step

MINI = Path(__file__).parent / "data" / "mini.yaml"
SETS = ["end=2023-02-28", "policies.crossings_closed.hidalgo=[{from: 2023-01-20, value: 1}]"]
LEVERS = ["crossings", "policies.mexico_enforcement", "policies.contention.bus", "policies.appointments_per_day=0:200"]
KW = dict(budget=4, population=2, runs=2, branch="2023-02-01", period="2023-02-01:2023-02-28", overrides=SETS,
          levers=LEVERS, seed=3)


def make(**kw) -> DealSearch:
    return DealSearch(MINI, **{**KW, **kw})


@pytest.fixture(scope="module")
def client1():
    with dask_client(None, workers=1) as c:
        yield c


@pytest.fixture(scope="module")
def reference(client1, tmp_path_factory):
    out = tmp_path_factory.mktemp("deals-ref")
    return make().run(out, client=client1), out


def _objective_cols(front: pd.DataFrame) -> list[str]:
    return [c for c in front.columns if c.startswith("objective:")]


def test_front_holds_no_dominated_deal(reference):
    s, out = reference
    front = pd.read_csv(out / "front.csv")
    every = pd.read_parquet(out / "deals.parquet")
    cols = _objective_cols(front)
    assert cols == [f"objective:{o.name}" for o in OBJECTIVES]
    assert front["deal"].iloc[-1] == "status-quo" and (front["deal"] == "status-quo").sum() == 1
    assert {c for c in front.columns if c.startswith("lever:")} == {
        "lever:crossings-closed-dec-2023", "lever:policies.mexico_enforcement", "lever:policies.contention.bus",
        "lever:policies.appointments_per_day"}
    deals = front[front["deal"] != "status-quo"]
    assert len(deals) >= 1 and len(every) == 4
    for _, f in deals.iterrows():      # no evaluated deal dominates a front deal
        assert not any(dominates(e, f[cols].to_numpy(float)) for e in every[cols].to_numpy(float))
    off = every[~every["deal"].isin(deals["deal"])]
    for _, e in off.iterrows():        # every other deal is dominated by one on the front
        assert any(dominates(f, e[cols].to_numpy(float)) for f in deals[cols].to_numpy(float))
    spec = json.loads((out / "objectives.json").read_text())
    assert set(spec) == {o.name for o in OBJECTIVES}
    assert {v["direction"] for v in spec.values()} <= {"min", "max"}
    assert {v["side"] for v in spec.values()} == {"US", "Mexico", "people"}
    per_deal = sorted(p.name for p in (out / "deals").glob("*.parquet"))
    assert per_deal == [f"deal=deal-000{i}.parquet" for i in range(4)] + ["deal=status-quo.parquet"]
    assert len(pd.read_parquet(out / "deals" / "deal=deal-0000.parquet")) == 2
    conv = pd.read_csv(out / "convergence.csv")
    assert list(conv["generation"]) == [0, 1] and conv["hypervolume"].is_monotonic_increasing
    html = (out / "report.html").read_text()
    assert "better than the status quo for both governments" in html and "replaced by the deal" in html


def test_personnel_is_tied_to_enforcement_and_contention(reference):
    s, out = reference
    every = pd.read_parquet(out / "deals.parquet")
    order = every.sort_values("lever:policies.mexico_enforcement")
    # with the other personnel levers fixed per row, personnel rises with enforcement and contention
    base = s.base_personnel
    expected = base * every["lever:policies.mexico_enforcement"] + 0.25 * base * every["lever:policies.contention.bus"]
    np.testing.assert_allclose(every["objective:mexico_personnel"], expected)
    assert len(order) == 4


def test_two_workers_give_the_same_front(reference, tmp_path):
    _, ref = reference
    with dask_client(None, workers=2) as c2:
        make().run(tmp_path / "two", client=c2)
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "two" / "front.csv"), pd.read_csv(ref / "front.csv"),
                                  check_exact=True)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "two" / "deals.parquet"),
                                  pd.read_parquet(ref / "deals.parquet"), check_exact=True)


def _fails_in_generation_1(task):
    """An interruption: every run of deal 3 fails (the second generation is asked but never told)."""
    if task.deal == "deal-0003":
        raise RuntimeError("interrupted")
    return evaluate_run(task)


def test_an_interrupted_search_resumes_to_the_same_front(reference, client1, tmp_path):
    _, ref = reference
    out = tmp_path / "cut"
    with pytest.raises(RunsFailed):
        make(runner=_fails_in_generation_1, retries=0).run(out, client=client1)
    # the folder is consistent: the first generation's outputs, deal 2 written whole, deal 3 absent
    assert len(pd.read_csv(out / "front.csv")) >= 2
    assert (out / "deals" / "deal=deal-0002.parquet").is_file()
    assert not (out / "deals" / "deal=deal-0003.parquet").exists()
    assert not list(out.rglob(".*.tmp"))
    s = make().run(out, client=client1)
    assert s.executed_runs == 2      # only deal 3's two runs; deal 2 was read back
    pd.testing.assert_frame_equal(pd.read_csv(out / "front.csv"), pd.read_csv(ref / "front.csv"), check_exact=True)
    again = make().run(out, client=client1)
    assert again.executed_runs == 0


def test_a_deal_replaces_the_later_steps_of_its_levers():
    lv = BY_PATH["policies.mexico_enforcement"]
    base = [Step(start=dt.date(2022, 1, 1), value=1.0), Step(start=dt.date(2023, 12, 28), value=1.3),
            Step(start=dt.date(2024, 3, 1), value=2.0)]
    assert series_from(base, lv, dt.date(2023, 12, 28), 0.7) == [
        {"from": "2022-01-01", "value": 1.0}, {"from": "2023-12-28", "value": 0.7}]
    assert series_from(1.5, lv, dt.date(2023, 12, 28), 0.7)[-1] == {"from": "2023-12-28", "value": 0.7}


def test_nondominated_and_prim():
    v = np.array([[1, 5], [2, 2], [5, 1], [3, 3], [2, 2]])
    assert list(nondominated(v)) == [True, True, True, False, True]
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, size=(400, 3))
    y = (X[:, 1] > 0.7).astype(float)
    box = prim(X, y)
    assert box["low"][1] > 0.6 and box["density"] > 0.9 and box["coverage"] > 0.8


@pytest.mark.parametrize("kw, words", [
    ({"levers": ["policies.mexico_enforcment"]}, "unknown lever"),
    ({"levers": ["policies.seats_per_flight"]}, "dated numeric levers"),
    ({"levers": ["policies.contention.bus=0:2"]}, "a share from 0 to 1"),
    ({"constraints": ["mexico_personnel>=200000"]}, "infeasible"),
    ({"constraints": ["policies.mexico_enforcement>=5"]}, "infeasible"),
    ({"constraints": ["us_encounters<=-1"]}, "infeasible"),
    ({"constraints": ["happiness<=3"]}, "unknown name"),
    ({"constraints": ["us_encounters<3"]}, "expected NAME<=VALUE"),
])
def test_bad_input_is_refused(kw, words):
    with pytest.raises(InputError) as e:
        make(**kw)
    assert words in str(e.value) and "\n" not in str(e.value)


def test_cli_bad_lever_exits_2(tmp_path):
    r = CliRunner().invoke(app, ["deals", str(MINI), "--budget", "2", "--out", str(tmp_path / "x"),
                                 "--lever", "policies.no_such_lever", "--branch", "2023-02-01"])
    assert r.exit_code == 2 and "unknown lever" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "x").exists()


def test_fronts_of_several_searches_merge(reference, tmp_path):
    _, ref = reference
    front = pd.read_csv(ref / "front.csv")
    other = front.copy()
    cols = _objective_cols(front)
    worse = other["deal"] != "status-quo"
    other.loc[worse, cols] = other.loc[worse, cols] * 1.5 + 1     # a second search whose deals are all worse
    (tmp_path / "b").mkdir()
    other.to_csv(tmp_path / "b" / "front.csv", index=False)
    r = CliRunner().invoke(app, ["deals-merge", str(ref), str(tmp_path / "b"), "--out", str(tmp_path / "m")])
    assert r.exit_code == 0, r.output
    merged = pd.read_csv(tmp_path / "m" / "front.csv")
    assert set(merged["search"]) == {ref.name} and len(merged) == (front["deal"] != "status-quo").sum()
    hv = pd.read_csv(tmp_path / "m" / "hypervolume.csv")
    assert hv["hypervolume"].iloc[-1] == pytest.approx(hv["hypervolume"].iloc[0])
    assert hv["hypervolume"].iloc[1] < hv["hypervolume"].iloc[0]


def test_december_options_read_as_deals():
    from corridor.deals.options import option_levers
    s = DealSearch("status-quo", budget=1, levers=["crossings", "policies.mexico_enforcement",
                                                   "policies.contention.train", "policies.development_aid"])
    assert s.status_quo_levers()["crossings-closed-dec-2023"] == 1
    assert option_levers(s, "reopen-only")["crossings-closed-dec-2023"] == 0      # reopened 2024-01-04
    c = option_levers(s, "contention")
    assert c["policies.mexico_enforcement"] == 1.6 and c["policies.contention.train"] == 0.6
    assert c["crossings-closed-dec-2023"] == 1
    assert option_levers(s, "mexico-package")["policies.development_aid"] == 0.5
    with pytest.raises(InputError, match="not a variant"):
        option_levers(make(), "contention")


def test_a_deal_run_branched_from_the_saved_state_scores_as_a_whole_run(tmp_path, monkeypatch):
    import dataclasses
    monkeypatch.setenv("CORRIDOR_STATE_DIR", str(tmp_path / "states"))
    search = make()
    values = {**search.status_quo_levers()}
    key = next(k for k in values if "mexico_enforcement" in k)
    values[key] = 2.0                                         # a deal: more enforcement from the branch date
    for deal, vals in (("status-quo", None), ("more-enforcement", values)):
        task = search.tasks(deal, vals, 0)[0]
        assert task.branch == "2023-02-01"
        branched = [evaluate_run(task)["figures"] for _ in range(2)]     # the second starts from the state
        whole = evaluate_run(dataclasses.replace(task, branch=""))["figures"]
        assert branched[0] == whole and branched[1] == whole
    assert len(list((tmp_path / "states").rglob("*.npz"))) == 1           # one state serves every deal of a draw
