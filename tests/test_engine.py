"""The engine: books balance, a seed reproduces, thread count does not matter, levers move outputs."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numba import njit

import corridor.phases.retries as retries_phase
from corridor.engine import Simulation
from corridor.errors import ConservationError
from corridor.codes import STATUS_NAMES
from corridor.population import BYTES_PER_AGENT

MINI = str(Path(__file__).parent / "data" / "mini.yaml")
# us-mexico, shortened and coarse (each agent 100 people) so a run takes a couple of seconds
FAST = dict(scale=100.0)
SHORT = {"end": "2024-03-31"}


def wide(df: pd.DataFrame) -> pd.DataFrame:
    return df.pivot(index="date", columns="metric", values="value")


def run_us(overrides: dict | None = None, **kw) -> pd.DataFrame:
    o = dict(SHORT)
    o.update(overrides or {})
    return wide(Simulation.from_scenario("us-mexico", seed=3, overrides=o, **{**FAST, **kw}).run().to_df())


@pytest.fixture(scope="module")
def mini():
    return Simulation.from_scenario(MINI, seed=7).run()


@pytest.fixture(scope="module")
def base():
    return run_us()


def test_books_balance_every_day(mini):
    w = wide(mini.to_df())
    statuses = w[[f"population:{s}" for s in STATUS_NAMES]].sum(axis=1)
    assert (statuses == w["agents_created"]).all()
    assert w["agents_created"].iloc[-1] == mini.info["agents_created"]
    assert mini.info["agent_days"] > 0


def test_tidy_table_shape(mini):
    df = mini.to_df()
    assert list(df.columns) == ["date", "metric", "value"]
    assert not df.duplicated(["date", "metric"]).any()
    names = set(df["metric"])
    for m in ("sw_encounters", "usbp_encounters", "ofo_encounters", "darien_crossings", "mexico_detentions",
              "releases", "removals", "returns_to_mexico", "repeat_encounters", "agents_created",
              "usbp_encounters:El Paso", "sw_encounters:Guatemala", "custody_population:El Paso",
              "holding_capacity:El Paso", "waiting_population:Reynosa"):
        assert m in names, m
    w = wide(df)
    assert np.allclose(w["sw_encounters"], w["usbp_encounters"] + w["ofo_encounters"])


def test_agent_state_is_compact():
    assert BYTES_PER_AGENT <= 64


def test_same_seed_same_results_other_seed_differs(mini):
    again = Simulation.from_scenario(MINI, seed=7).run().to_df()
    pd.testing.assert_frame_equal(mini.to_df(), again)
    other = Simulation.from_scenario(MINI, seed=8).run().to_df()
    assert not other["value"].equals(mini.to_df()["value"])


def _digest_in_subprocess(threads: int) -> str:
    code = ("import hashlib; from corridor.engine import Simulation; "
            f"df = Simulation.from_scenario({MINI!r}, seed=5).run().to_df(); "
            "print(hashlib.sha256(df.to_csv(index=False).encode()).hexdigest())")
    env = {**os.environ, "NUMBA_NUM_THREADS": str(threads)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


def test_results_do_not_depend_on_thread_count():
    assert _digest_in_subprocess(1) == _digest_in_subprocess(2)


def test_broken_books_stop_the_run(monkeypatch):
    """An agent that vanishes from every status must stop the run, not produce numbers."""
    real = retries_phase.retries

    @njit
    def lose(ag, i):             # the kernels' view of the agents is read and written in compiled code
        ag.status[i] = 99        # no status: gone from the books

    def leaky(ag, first, last, *a):
        real(ag, first, last, *a)
        if last > first:
            lose(ag, first)
    monkeypatch.setattr(retries_phase, "retries", leaky)
    with pytest.raises(ConservationError):
        Simulation.from_scenario(MINI).run()


def test_spinup_starts_with_people_in_transit(base):
    first = base.iloc[0]
    assert first["population:in_transit"] > 0 and first["population:waiting_border"] > 0
    assert first["sw_encounters"] > 0


def _window(w, start, end, metric):
    return w.loc[pd.Timestamp(start).date(): pd.Timestamp(end).date(), metric].sum()


def test_more_mexican_enforcement_fewer_us_encounters_more_detentions(base):
    up = run_us({"policies.mexico_enforcement": [{"from": "2023-12-28", "value": 2.5}]})
    assert _window(up, "2024-01-01", "2024-03-31", "mexico_detentions") > \
        1.2 * _window(base, "2024-01-01", "2024-03-31", "mexico_detentions")
    assert _window(up, "2024-02-01", "2024-03-31", "sw_encounters") < \
        _window(base, "2024-02-01", "2024-03-31", "sw_encounters")


def test_panama_returns_cut_south_american_arrivals(base):
    """Panama flying home half of those who cross the Darién: returns are counted from that day only, and fewer
    Venezuelans (who come through the Darién) reach the US border; fewer Ecuadorians too, by less, since most of
    them fly from Guayaquil; Mexicans are untouched."""
    up = run_us({"policies.darien_return": [{"from": "2023-12-01", "value": 0.5}]})
    assert _window(up, "2023-10-01", "2023-11-30", "panama_returns") == 0
    assert _window(up, "2023-12-01", "2023-12-31", "panama_returns") > 0
    cut = {nat: _window(up, "2024-01-15", "2024-03-31", f"sw_encounters:{nat}")
           / _window(base, "2024-01-15", "2024-03-31", f"sw_encounters:{nat}") for nat in ("Venezuela", "Ecuador")}
    assert cut["Venezuela"] < 0.8
    assert cut["Venezuela"] < cut["Ecuador"] < 0.95
    assert base["panama_returns"].sum() == 0       # the bundled step starts in August 2024, after this run ends
    assert _window(up, "2024-01-15", "2024-03-31", "sw_encounters:Mexico") == \
        pytest.approx(_window(base, "2024-01-15", "2024-03-31", "sw_encounters:Mexico"), rel=0.05)


def test_closing_a_crossing_stops_it_and_adds_processing(base):
    closed = run_us({"policies.crossings_closed.between-ports-tucson": [{"from": "2024-01-10", "value": 1}],
                     "policies.crossings_closed.nogales": [{"from": "2024-01-10", "value": 1}]})
    after = slice(pd.Timestamp("2024-01-11").date(), None)
    assert (closed.loc[after, "crossing_open:between-ports-tucson"] == 0).all()
    assert (base.loc[after, "crossing_open:between-ports-tucson"] == 1).all()
    assert (closed.loc[after, "processing_capacity:Tucson"] > base.loc[after, "processing_capacity:Tucson"]).all()
    assert (closed.loc[after, "trade_blocked_usd"] > 0).all()
    # people facing Tucson from Nogales can no longer cross there: Tucson's encounters fall
    assert _window(closed, "2024-01-20", "2024-03-31", "usbp_encounters:Tucson") < \
        0.8 * _window(base, "2024-01-20", "2024-03-31", "usbp_encounters:Tucson")


def test_more_removal_flights_more_removals():
    """Seats bind when flights are scarce: more flights, more people removed (fewer released after waiting)."""
    def flights(n):
        return {f"policies.removal_flights_per_day.{c}": [{"from": "2023-06-01", "value": n}]
                for c in ("Guatemala", "Honduras", "El Salvador")}
    few, many = run_us(flights(0.0)), run_us(flights(6.0))
    assert _window(many, "2023-07-01", "2024-03-31", "removals") > \
        1.05 * _window(few, "2023-07-01", "2024-03-31", "removals")
    assert _window(many, "2023-07-01", "2024-03-31", "releases") < _window(few, "2023-07-01", "2024-03-31", "releases")


def test_train_contention_shifts_travel_to_other_modes(base):
    cont = run_us({"policies.contention.train": [{"from": "2023-12-01", "value": 0.9}]})
    sc = Simulation.from_scenario("us-mexico", **FAST).scenario
    modes = {f"leg_flow:{l.id}": l.mode for l in sc.legs if l.region in ("south_mexico", "north_mexico")}

    def by_mode(w):
        cols = [c for c in modes if c in w.columns]
        tot = w.loc[pd.Timestamp("2024-01-01").date():, cols].sum()
        return tot.groupby([modes[c] for c in cols]).sum()
    b, c = by_mode(base), by_mode(cont)
    assert c["train"] < 0.5 * b["train"]
    assert c.drop("train").sum() > b.drop("train").sum()


def test_appointments_raise_port_encounters(base):
    more = run_us({"policies.appointments_per_day": [{"from": "2023-06-30", "value": 4000}]})
    assert _window(more, "2023-08-01", "2024-03-31", "ofo_encounters") > \
        1.3 * _window(base, "2023-08-01", "2024-03-31", "ofo_encounters")


def test_scale_keeps_totals_comparable():
    coarse = wide(Simulation.from_scenario(MINI, seed=1, scale=10).run().to_df())
    fine = wide(Simulation.from_scenario(MINI, seed=1, scale=1).run().to_df())
    ratio = coarse["sw_encounters"].sum() / fine["sw_encounters"].sum()
    assert 0.8 < ratio < 1.2


def test_bad_news_stops_people_already_on_the_way():
    """Title 42 expulsions lower the perceived chance: with the en-route response on, some of those already
    travelling or waiting stop (counted as gave up en route), and fewer reach the US than without it."""
    def run(rate):
        return wide(Simulation.from_scenario(MINI, seed=7, overrides={"behaviour.news_quit_rate": rate}).run().to_df())
    deaf, hearing = run(0.0), run(0.1)
    assert deaf["gave_up_en_route"].sum() == 0
    assert hearing["gave_up_en_route"].sum() > 0
    assert hearing["sw_encounters"].sum() < deaf["sw_encounters"].sum()
    assert (hearing["population:gave_up"].iloc[-1] > deaf["population:gave_up"].iloc[-1])


def test_expelled_people_retry_at_their_own_rate_under_title42():
    """retry_after_expulsion applies to those expelled, which happens while Title 42 is in force (mini: to
    2023-02-14); retry_after_return to other returns."""
    def run(expulsion):
        o = {"behaviour.retry_after_expulsion": expulsion, "behaviour.retry_after_return": 0.5}
        return wide(Simulation.from_scenario(MINI, seed=7, overrides=o).run().to_df())
    low, high = run(0.05), run(0.95)
    t42 = slice(pd.Timestamp("2023-01-01").date(), pd.Timestamp("2023-02-14").date())
    assert high.loc[t42, "repeat_encounters"].sum() > 1.5 * low.loc[t42, "repeat_encounters"].sum()
    assert high.loc[t42, "population:gave_up"].iloc[-1] < low.loc[t42, "population:gave_up"].iloc[-1]


def test_expulsion_retry_rate_applies_to_expulsions_only():
    """With no one expelled (Title 42 shares 0) while Title 42 is in force, Mexicans removed over land under
    Title 8 retry at retry_after_return: retry_after_expulsion changes nothing."""
    def run(expulsion):
        o = {"behaviour.retry_after_expulsion": expulsion, "behaviour.retry_after_return": 0.5,
             "nationalities.Guatemala.title42_expulsion": 0.0, "nationalities.Mexico.title42_expulsion": 0.0}
        return Simulation.from_scenario(MINI, seed=7, overrides=o).run().to_df()
    low, high = run(0.05), run(0.95)
    assert wide(low)["returns_to_mexico"].sum() + wide(low)["removals"].sum() > 0
    pd.testing.assert_frame_equal(low, high)


def test_dated_border_city_split_moves_encounters_between_sectors():
    """Guatemalans head for Reynosa only, then (for departures from 2023-02-01) for Ciudad Juárez only: El Paso's
    encounters of people who left after the switch grow, the Rio Grande Valley's shrink, and the books balance."""
    split = [{"from": "2022-12-01", "weights": {"reynosa": 1.0}},
             {"from": "2023-02-01", "weights": {"ciudad-juarez": 1.0}}]
    def run(border_cities):
        o = {"nationalities.Guatemala.border_cities": border_cities}
        return wide(Simulation.from_scenario(MINI, seed=7, overrides=o).run().to_df())
    fixed, moved = run({"reynosa": 1.0}), run(split)
    late = slice(pd.Timestamp("2023-02-20").date(), None)
    early = slice(None, pd.Timestamp("2023-01-31").date())
    assert moved.loc[late, "usbp_encounters:El Paso"].sum() > 3 * fixed.loc[late, "usbp_encounters:El Paso"].sum()
    assert moved.loc[late, "usbp_encounters:Rio Grande Valley"].sum() < \
        0.5 * fixed.loc[late, "usbp_encounters:Rio Grande Valley"].sum()
    pd.testing.assert_frame_equal(moved.loc[early], fixed.loc[early])
    statuses = [c for c in moved.columns if c.startswith("population:")]
    assert moved[statuses].iloc[-1].sum() == moved["agents_created"].iloc[-1]


def test_darien_crossings_by_nationality_add_up_and_the_guayaquil_flight_skips_the_darien(base):
    """The Darién's crossings by nationality sum to its total every day; Ecuadorians leaving from Guayaquil fly to
    Central America, so with everyone leaving from Quito more Ecuadorians cross the Darién, and Venezuelans are
    untouched until the Ecuadorians' effect on the corridor spreads."""
    nats = [c for c in base.columns if c.startswith("darien_crossings:")]
    assert len(nats) == 18
    np.testing.assert_allclose(base[nats].sum(axis=1), base["darien_crossings"])
    quito = run_us({"nationalities.Ecuador.origins": {"quito": 1.0}})
    flying = run_us({"nationalities.Ecuador.origins": {"guayaquil": 1.0}})
    window = ("2023-01-01", "2023-09-30", "darien_crossings:Ecuador")
    assert _window(flying, *window) < 0.05 * _window(quito, *window)
    assert _window(quito, *window) > 1.3 * _window(base, *window)
    assert _window(flying, "2023-01-01", "2023-09-30", "sw_encounters:Ecuador") > 0


def test_mexico_pauses_deportations_in_december_2023(base):
    """INM's pause (facts_transit.csv row 31): no one is deported from Mexico from 1 to 27 December 2023, while
    detentions go on; deportations resume after the talks."""
    assert _window(base, "2023-11-01", "2023-11-30", "mexico_deportations") > 0
    assert _window(base, "2023-12-01", "2023-12-27", "mexico_deportations") == 0
    assert _window(base, "2023-12-01", "2023-12-27", "mexico_detentions") > 0
    assert _window(base, "2023-12-28", "2024-01-31", "mexico_deportations") > 0


def test_a_suspension_of_entry_releases_nobody_and_takes_no_appointments(base):
    regime = [{"from": "2022-01-01", "value": "title42"}, {"from": "2023-05-12", "value": "title8"},
              {"from": "2024-01-01", "value": "suspension"}]
    shut = run_us({"policies.regime": regime})
    before = slice(pd.Timestamp("2023-10-01").date(), pd.Timestamp("2023-12-31").date())
    assert shut.loc[before, "releases"].sum() == base.loc[before, "releases"].sum()      # the same past
    assert base.loc[pd.Timestamp("2024-01-01").date():, "releases"].sum() > 0
    assert shut.loc[pd.Timestamp("2024-01-15").date():, "releases"].sum() == 0     # once those processed before are out
    assert shut.loc[pd.Timestamp("2024-01-01").date():, "appointments_used"].sum() == 0
    assert _window(shut, "2024-01-01", "2024-03-31", "removals") + _window(shut, "2024-01-01", "2024-03-31", "returns_to_mexico") > \
        _window(base, "2024-01-01", "2024-03-31", "removals") + _window(base, "2024-01-01", "2024-03-31", "returns_to_mexico")


def test_network_momentum_amplifies_a_rise_in_people_getting_in():
    """More released (a lower removal share from mid-February) raises later departures; with network momentum
    the rise is larger, and without it (the default) nothing changes."""
    def departures(eta, removal):
        over = {"behaviour.network_elasticity": eta,
                "nationalities.Guatemala.title8_removal": [{"from": "2022-01-01", "value": 0.4},
                                                           {"from": "2023-02-15", "value": removal}]}
        w = wide(Simulation.from_scenario(MINI, seed=7, overrides=over).run().to_df())
        return _window(w, "2023-03-01", "2023-03-31", "departures")
    plain, plain_up = departures(0.0, 0.4), departures(0.0, 0.05)
    net, net_up = departures(1.0, 0.4), departures(1.0, 0.05)
    assert plain_up > plain and net_up - net > plain_up - plain
