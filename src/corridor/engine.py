"""The Simulation: the day loop, in the order of the brief, each phase a kernel.

    sim = Simulation.from_scenario("us-mexico", seed=1)
    sim.run()
    df = sim.to_df()          # date, metric, value

Each day: levers for the day (dated, then conditional rules) -> departures -> movement and route
choice -> inspections in Mexico -> waiting and crossing -> US encounter -> custody and processing ->
removal flights -> repeat attempts -> census, books check, record.
"""
from __future__ import annotations

import datetime as dt
import math
import time
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from . import __version__
from . import kernels as K
from . import rng as R
from .errors import ConservationError
from .population import BYTES_PER_AGENT, FIRST_SINK, N_STATUS, STATUS_NAMES, Population
from .scenario import Scenario, load, scenario_hash
from .world import COUNTS_AS, World, compile_world

AUDIT_EVERY = 91  # days between full scans of every agent ever created


class Simulation:
    """One run of a scenario. `run()` returns the simulation; results via `to_df()` or `save()`."""

    def __init__(self, scenario: Scenario, seed: int | None = None, scale: float | None = None):
        if seed is not None or scale is not None:
            upd = {}
            if seed is not None:
                upd["seed"] = int(seed)
            if scale is not None:
                upd["scale"] = float(scale)
            scenario = Scenario.model_validate({**scenario.model_dump(by_alias=True), **upd})
        self.scenario = scenario
        self.world: World = compile_world(scenario)
        self.metrics: pd.DataFrame | None = None
        self.info: dict = {}
        self.rules = None  # set by policies.RuleBook when the scenario has rules

    @classmethod
    def from_scenario(cls, name_or_path: str | Path = "us-mexico", seed: int | None = None,
                      scale: float | None = None, overrides: list[str] | dict | None = None) -> "Simulation":
        return cls(load(name_or_path, overrides), seed=seed, scale=scale)

    # ------------------------------------------------------------------ the run
    def run(self, progress: Callable[[int, int], None] | None = None) -> "Simulation":
        t0 = time.perf_counter()
        sc, w = self.scenario, self.world
        net, lv = w.net, w.levers
        beh, pol = sc.behaviour, sc.policies
        scale = sc.scale
        n_nat, n_leg, n_place = len(w.nat_names), len(w.leg_ids), len(w.place_ids)
        n_sec, n_cross = len(w.sector_names), len(w.crossing_ids)
        n_group = len(sc.caravans) + 1
        o, width = _tally_layout(n_sec, n_nat, n_leg, n_place)
        from .policies import RuleBook  # late import: rules read metrics recorded by this loop
        rules = RuleBook(sc, w)
        self.rules = rules
        book = _MetricBook(w, extra=rules.metric_names)  # + rule_active:<name>, set by rules.apply

        dep = sc.nationalities
        base = np.array([n.departures.base_per_day for n in dep])
        trend = np.array([n.departures.trend_per_year for n in dep])
        amp = np.array([n.departures.seasonal_amplitude for n in dep])
        peak = np.array([n.departures.seasonal_peak_month for n in dep])
        elast = np.array([n.departures.elasticity for n in dep])
        ref = np.array([n.departures.reference_chance for n in dep])
        # perceived chance of getting in, per nationality: smoothed share of good outcomes
        decay = 1.0 / beh.perceived_chance_days
        good_ema = ref.copy()
        total_ema = np.ones(n_nat)
        # the same, remembered longer: news is the short-run chance falling below the long-run one
        decay_slow = 1.0 / max(beh.news_memory_days, beh.perceived_chance_days)
        good_slow, total_slow = ref.copy(), np.ones(n_nat)

        expected = float(np.sum(base)) * w.n_days * 1.3 / scale + sum(c.size for c in sc.caravans) / scale
        pop = Population(int(expected) + 10_000)
        sinks = np.zeros(N_STATUS, np.int64)
        demand_prev = np.zeros(n_leg)
        seekers_prev = np.zeros(n_place)
        custody_prev = np.zeros(n_sec)
        ready_prev = np.zeros(n_sec)
        min_days = int(round(beh.processing_days))
        ice_prev = np.zeros(n_nat)
        return_demand_prev = 0.0
        groups = np.zeros(n_group)
        cohesion = np.ones(n_group)
        for gi, cv in enumerate(sc.caravans, start=1):
            cohesion[gi] = cv.cohesion
        caravan_day = {}
        for gi, cv in enumerate(sc.caravans, start=1):
            caravan_day.setdefault((cv.date - w.dates[0]).days, []).append((gi, cv))
        place_index = {pid: i for i, pid in enumerate(w.place_ids)}
        sector_crossings = [np.flatnonzero(net.crossing_sector == s) for s in range(n_sec)]
        agent_days = 0
        start_ord = sc.start.toordinal()
        trend_end = beh.trend_until or dt.date.max

        for d in range(w.n_days):
            date = w.dates[d]
            key = np.uint64(R.day_key(np.uint64(sc.seed), np.uint64(d)))
            rules.apply(d, book)                         # conditional levers may rewrite today's row
            tal = np.zeros((K.N_CHUNKS, width), np.int64)

            # ---- departures
            years = (min(date, trend_end).toordinal() - start_ord) / 365.25
            doy = date.timetuple().tm_yday
            season = 1.0 + amp * np.cos(2 * np.pi * (doy - (peak - 0.5) * 30.44) / 365.25)
            push = (1 - beh.aid_effect * lv.aid[d]) * (1 - beh.sanctions_relief_effect * lv.sanctions[d])
            chance = good_ema / np.maximum(total_ema, 1e-9)
            pull = np.clip(((chance + 0.05) / (ref + 0.05)) ** elast, 0.05, 5.0)
            # the same news reaches people already on the way: when the chance falls below what it has been,
            # some stop (the response fades as the long-run memory catches up)
            chance_slow = good_slow / np.maximum(total_slow, 1e-9)
            quit_nat = beh.news_quit_rate * np.clip(1.0 - ((chance + 0.05) / (chance_slow + 0.05)) ** elast, 0.0, 1.0)
            lam = base * (1 + trend) ** years * season * push * pull / scale
            parole = np.minimum(lv.parole_daily[d] / scale, lam * beh.parole_substitution)
            counts = np.array([R.poisson(float(lam[k] - parole[k]), key, R.S_DEPART, k) for k in range(n_nat)], np.int64)
            parole_n = np.array([R.poisson(float(parole[k]), key, R.S_PAROLE, k) for k in range(n_nat)], np.int64)
            n_old = pop.n
            pop.reserve(int(counts.sum() + parole_n.sum()) + sum(math.ceil(cv.size / scale) for _, cv in caravan_day.get(d, [])))
            ag = pop.view()
            target_cum = lv.target_cum[d]                # today's split of each nationality over border cities
            n_new = K.departures(ag, pop.n, net, counts, parole_n, target_cum, key, d)
            for gi, cv in caravan_day.get(d, []):
                cum = np.cumsum([cv.nationalities.get(nm, 0.0) for nm in w.nat_names])
                cum = cum / cum[-1]
                first = int(np.searchsorted(cum, 0.5))
                tgt = w.border_cities.index(place_index[cv.target]) if cv.target else \
                    int(np.searchsorted(target_cum[first], R.uniform(key, R.S_CARAVAN, gi), side="right"))
                n_new = K.caravan(ag, n_new, net, int(math.ceil(cv.size / scale)), place_index[cv.origin],
                                  min(tgt, len(w.border_cities) - 1), cum, gi, target_cum, key, d)
            pop.n = n_new
            sinks[K.PAROLED] += int(parole_n.sum())
            # [border | US | transit + today's departers]: each phase gets the part it acts on
            active = np.concatenate([pop.active, np.arange(n_old, n_new, dtype=np.int64)[
                ag.status[n_old:n_new] < FIRST_SINK]])
            at_border, held_us, in_transit = active[:pop.bounds[0]], active[pop.bounds[0]:pop.bounds[1]], active[pop.bounds[1]:]
            agent_days += active.shape[0]

            # ---- movement and route choice
            cont = lv.contention[d][net.leg_mode]
            block = np.where(net.leg_region == 2, 1.0 - lv.guat_block[d], 1.0)
            seat_cap = net.leg_capacity * (1.0 - cont) * block / scale
            p_admit = np.where(np.isinf(net.leg_capacity), (1.0 - cont) * block,
                               np.minimum(1.0, seat_cap / np.maximum(demand_prev, 1.0)))
            variants = np.zeros(8, np.bool_)             # which kinds of traveller exist today
            for v in range(8):
                variants[v] = ((v & 1) == 0 or lv.visa[d].any()) and ((v & 4) == 0 or groups[1:].any())
            route = K.route_table(net, lv, d, p_admit, beh.route_time_weight, beh.route_cost_weight,
                                  beh.route_risk_weight, variants)
            K.movement(ag, in_transit, net, lv, d, key, route, p_admit, cohesion, quit_nat, tal, o)
            # ---- inspections in Mexico
            K.inspections(ag, in_transit, net, lv, d, key, groups * scale, beh.caravan_leakage, beh.caravan_full_size,
                          beh.mexico_detention_days, tal, o)
            # ---- waiting and crossing
            closed = lv.closed[d]
            slots = np.zeros(n_place)
            open_ports = (~closed) & (net.crossing_kind == 0)
            np.add.at(slots, net.crossing_city[open_ports], net.crossing_appt[open_ports] * lv.appointments[d] / scale)
            K.border_arrivals(ag, at_border, lv, d, key, beh.appointment_seekers, tal, o)
            new_seekers = tal[:, o[K.O_SEEKER_IN]: o[K.O_SEEKER_IN] + n_place].sum(axis=0)
            p_slot = np.minimum(1.0, slots / np.maximum(seekers_prev + new_seekers, 1.0))
            K.border(ag, at_border, net, lv, d, key, p_slot, beh.crossing_hazard,
                     beh.appointment_patience_days, beh.port_presentation_share, beh.give_up_hazard + quit_nat, tal, o)
            # ---- US encounter
            p_accept = min(1.0, lv.returns_cap[d] / scale / max(return_demand_prev, 1.0))
            K.encounter(ag, at_border, net, lv, d, key, p_accept, beh.restricted_release_factor, tal, o)
            # ---- custody and processing
            so_far = tal.sum(axis=0)
            arrived = so_far[o[K.O_CUSTODY_IN]: o[K.O_CUSTODY_IN] + n_sec]
            in_custody = custody_prev + arrived
            queue = ready_prev + (arrived if min_days == 0 else 0.0)
            redeploy = np.array([w.crossing_redeploy[ix][closed[ix]].sum() for ix in sector_crossings])
            capacity = (w.sector_processing * lv.proc_factor[d] + redeploy) / scale
            holding = w.sector_holding * lv.hold_factor[d] / scale
            p_process = np.minimum(1.0, capacity / np.maximum(queue, 1.0))
            remaining = in_custody - np.minimum(queue, capacity)
            p_overflow = beh.overflow_release * np.maximum(remaining - holding, 0.0) / np.maximum(remaining, 1.0)
            K.custody(ag, held_us, net, lv, d, key, p_process, p_overflow, p_accept, beh.restricted_release_factor,
                      min_days, tal, o)
            # ---- removal flights
            so_far = tal.sum(axis=0)
            ice_queue = ice_prev + so_far[o[K.O_ICE_IN]: o[K.O_ICE_IN] + n_nat]
            seats = lv.flights[d] * pol.seats_per_flight / scale
            p_flight = np.minimum(1.0, seats / np.maximum(ice_queue, 1.0))
            K.removals(ag, held_us, d, key, p_flight, int(beh.max_ice_detention_days), tal, o)
            # ---- repeat attempts
            # Title 42 expulsions were quick and carried no penalty, so more of the expelled tried again
            retry_expulsion = beh.retry_after_return if beh.retry_after_expulsion is None else beh.retry_after_expulsion
            K.retries(ag, active, d, key, retry_expulsion, beh.retry_after_return, beh.retry_after_removal,
                      beh.retry_delay_days, tal, o)

            # ---- census, books, record
            status, place, waiting, seekers, custody_s, ready_s, ice, groups_n = K.census(
                ag, active, n_place, n_sec, n_nat, n_group, d + 1 - min_days)
            tally = tal.sum(axis=0)
            sinks[FIRST_SINK:] += tally[o[K.O_SINK]: o[K.O_SINK] + N_STATUS - FIRST_SINK]
            status = status + sinks
            if int(status.sum()) != pop.n:
                raise ConservationError(
                    f"day {date}: {pop.n} agents created but {int(status.sum())} found across statuses "
                    f"({dict(zip(STATUS_NAMES, status.tolist()))}); the run is stopped")
            if d % AUDIT_EVERY == 0 or d == w.n_days - 1:
                full = pop.status_counts()
                if not np.array_equal(full, status):
                    raise ConservationError(f"day {date}: books {status.tolist()} differ from a full scan {full.tolist()}")
            pop.active, b0, b1 = K.compact(ag, active)
            pop.bounds = (int(b0), int(b1))
            demand_prev = tally[o[K.O_LEGDEMAND]: o[K.O_LEGDEMAND] + n_leg].astype(float)
            seekers_prev = seekers.astype(float)
            custody_prev = custody_s.astype(float)
            ready_prev = ready_s.astype(float)
            ice_prev = ice.astype(float)
            return_demand_prev = float(tally[o[K.O_RETURN_DEMAND]])
            groups = groups_n.astype(float)
            good = tally[o[K.O_GOOD]: o[K.O_GOOD] + n_nat]
            bad = tally[o[K.O_BAD]: o[K.O_BAD] + n_nat]
            good_ema = good_ema * (1 - decay) + good * scale * decay
            total_ema = total_ema * (1 - decay) + (good + bad) * scale * decay
            good_slow = good_slow * (1 - decay_slow) + good * scale * decay_slow
            total_slow = total_slow * (1 - decay_slow) + (good + bad) * scale * decay_slow
            book.record(d, tally, o, status, place, waiting, custody_s, capacity, holding, closed, lv, counts,
                        chance, pop.n, scale)
            if progress is not None:
                progress(d + 1, w.n_days)

        self.metrics = book.to_frame()
        self.info = {
            "scenario": sc.name, "scenario_hash": scenario_hash(sc), "seed": sc.seed, "scale": scale,
            "version": __version__, "start": str(sc.start), "end": str(sc.end), "spinup_days": sc.spinup_days,
            "agents_created": int(pop.n), "agent_days": int(agent_days),
            "bytes_per_agent": BYTES_PER_AGENT, "agent_store_bytes": int(pop.nbytes),
            "wall_seconds": round(time.perf_counter() - t0, 3),
            "rule_switches": rules.log,
        }
        self._pop = pop
        return self

    # ------------------------------------------------------------------ results
    def to_df(self) -> pd.DataFrame:
        if self.metrics is None:
            raise RuntimeError("run() the simulation first")
        return self.metrics

    def save(self, out_dir: str | Path) -> Path:
        from .results import write_run
        return write_run(out_dir, self.to_df(), self.info)

    def summary(self) -> dict:
        from .results import summarise
        return summarise(self.to_df(), self.info)


def _tally_layout(n_sec: int, n_nat: int, n_leg: int, n_place: int) -> tuple[np.ndarray, int]:
    """Offsets of each block in a tally row (see kernels.O_*)."""
    sizes = {
        K.O_USBP: n_sec, K.O_NAT: n_nat, K.O_LEGFLOW: n_leg, K.O_LEGDEMAND: n_leg, K.O_COUNTS: len(COUNTS_AS),
        K.O_GOOD: n_nat, K.O_BAD: n_nat, K.O_SINK: N_STATUS - FIRST_SINK, K.O_MXDET_NAT: n_nat,
        K.O_CUSTODY_IN: n_sec, K.O_ICE_IN: n_nat, K.O_OFO_SECTOR: n_sec, K.O_SEEKER_IN: n_place,
        K.O_COUNTS_NAT: len(COUNTS_AS) * n_nat,
    }
    o = np.zeros(K.O_WIDTH, np.int64)
    pos = 0
    for slot in range(K.O_WIDTH):
        o[slot] = pos
        pos += sizes.get(slot, 1)
    return o, pos


class _MetricBook:
    """Collects one row of named values per recorded day; becomes the tidy (date, metric, value) table."""

    def __init__(self, w: World, extra: list[str] | tuple = ()):
        self.w = w
        sec, nat = w.sector_names, w.nat_names
        self.names: list[str] = (
            ["sw_encounters", "usbp_encounters", "ofo_encounters", "darien_crossings", "mexico_detentions",
             "releases", "removals", "returns_to_mexico", "repeat_encounters", "gotaways", "appointments_used",
             "title42_expulsions", "overflow_releases", "mexico_deportations", "moved_south", "departures",
             "agents_created", "trade_blocked_usd", "mexico_personnel", "mexico_enforcement", "stranded_mexico",
             "custody_over_capacity", "us_custody_population", "gave_up_border", "gave_up_en_route",
             "panama_returns", "processed_us"]
            + [f"usbp_encounters:{s}" for s in sec] + [f"ofo_encounters:{s}" for s in sec]
            + [f"sw_encounters:{n}" for n in nat] + [f"mexico_detentions:{n}" for n in nat]
            + [f"departures:{n}" for n in nat] + [f"perceived_chance:{n}" for n in nat]
            + [f"{counted}:{n}" for counted in COUNTS_AS for n in nat]
            + [f"custody_population:{s}" for s in sec] + [f"holding_capacity:{s}" for s in sec]
            + [f"processing_capacity:{s}" for s in sec]
            + [f"waiting_population:{w.place_names[p]}" for p in w.border_cities]
            + [f"place_population:{p}" for p in w.place_ids] + [f"leg_flow:{l}" for l in w.leg_ids]
            + [f"crossing_open:{c}" for c in w.crossing_ids] + [f"population:{s}" for s in STATUS_NAMES]
            + list(extra)
        )
        self.extra_values = np.zeros(len(extra))  # written each day by policies.RuleBook.apply
        self.index = {n: i for i, n in enumerate(self.names)}
        # people stopped in Mexico (transit hubs, checkpoint towns, border cities): "stranded"
        self.mexican_stops = np.isin(w.net.place_kind, (1, 2, 3)) & _mexican(w)
        n_rec = w.n_days - w.first_day
        self.rows = np.zeros((n_rec, len(self.names)))
        self.history: dict[str, list[float]] = {}  # every day, spin-up included, for conditional rules
        self.days_recorded = 0

    def record(self, d, tally, o, status, place, waiting, custody_s, capacity, holding, closed, lv, counts,
               chance, n_agents, scale):
        w = self.w
        n_sec, n_nat, n_leg = len(w.sector_names), len(w.nat_names), len(w.leg_ids)
        row = np.zeros(len(self.names))
        ix = self.index

        def put(prefix_start, values):
            row[prefix_start: prefix_start + len(values)] = values

        usbp = tally[o[K.O_USBP]: o[K.O_USBP] + n_sec] * scale
        ofo_s = tally[o[K.O_OFO_SECTOR]: o[K.O_OFO_SECTOR] + n_sec] * scale
        row[ix["usbp_encounters"]] = usbp.sum()
        row[ix["ofo_encounters"]] = tally[o[K.O_OFO]] * scale
        row[ix["sw_encounters"]] = usbp.sum() + tally[o[K.O_OFO]] * scale
        for c, counted in enumerate(COUNTS_AS):        # series counted on legs (counts_as), and by nationality
            row[ix[counted]] = tally[o[K.O_COUNTS] + c] * scale
        row[ix["mexico_detentions"]] = tally[o[K.O_MXDET]] * scale
        for name, slot in (("releases", K.O_RELEASES), ("removals", K.O_REMOVALS), ("returns_to_mexico", K.O_RETURNS),
                           ("repeat_encounters", K.O_REPEAT), ("gotaways", K.O_GOTAWAY), ("appointments_used", K.O_APPT),
                           ("title42_expulsions", K.O_EXPULSIONS), ("overflow_releases", K.O_OVERFLOW),
                           ("mexico_deportations", K.O_DEPORT), ("moved_south", K.O_SOUTH),
                           ("gave_up_border", K.O_GIVEUP), ("gave_up_en_route", K.O_QUIT),
                           ("panama_returns", K.O_PANAMA), ("processed_us", K.O_PROCESSED)):
            row[ix[name]] = tally[o[slot]] * scale
        row[ix["departures"]] = counts.sum() * scale
        row[ix["agents_created"]] = n_agents
        row[ix["trade_blocked_usd"]] = float(w.crossing_trade[closed].sum())
        row[ix["mexico_personnel"]] = lv.personnel[d]
        row[ix["mexico_enforcement"]] = lv.enforcement[d]
        row[ix["stranded_mexico"]] = float(place[self.mexican_stops].sum()) * scale
        cust = custody_s * scale
        row[ix["custody_over_capacity"]] = float(np.maximum(cust - holding * scale, 0).sum())
        row[ix["us_custody_population"]] = float(cust.sum())
        put(ix[f"usbp_encounters:{w.sector_names[0]}"], usbp)
        put(ix[f"ofo_encounters:{w.sector_names[0]}"], ofo_s)
        put(ix[f"sw_encounters:{w.nat_names[0]}"], tally[o[K.O_NAT]: o[K.O_NAT] + n_nat] * scale)
        put(ix[f"mexico_detentions:{w.nat_names[0]}"], tally[o[K.O_MXDET_NAT]: o[K.O_MXDET_NAT] + n_nat] * scale)
        put(ix[f"departures:{w.nat_names[0]}"], counts * scale)
        put(ix[f"perceived_chance:{w.nat_names[0]}"], chance)
        put(ix[f"{COUNTS_AS[0]}:{w.nat_names[0]}"],
            tally[o[K.O_COUNTS_NAT]: o[K.O_COUNTS_NAT] + len(COUNTS_AS) * n_nat] * scale)
        put(ix[f"custody_population:{w.sector_names[0]}"], cust)
        put(ix[f"holding_capacity:{w.sector_names[0]}"], holding * scale)
        put(ix[f"processing_capacity:{w.sector_names[0]}"], capacity * scale)
        put(ix[f"waiting_population:{w.place_names[w.border_cities[0]]}"], waiting[w.border_cities] * scale)
        put(ix[f"place_population:{w.place_ids[0]}"], place * scale)
        put(ix[f"leg_flow:{w.leg_ids[0]}"], tally[o[K.O_LEGFLOW]: o[K.O_LEGFLOW] + n_leg] * scale)
        put(ix[f"crossing_open:{w.crossing_ids[0]}"], (~closed).astype(float))
        put(ix[f"population:{STATUS_NAMES[0]}"], status)
        if len(self.extra_values):
            row[len(row) - len(self.extra_values):] = self.extra_values
        if not hasattr(self, "full"):
            self.full = np.zeros((w.n_days, len(self.names)))
        self.full[d] = row
        if d >= w.first_day:
            self.rows[d - w.first_day] = row

    def to_frame(self) -> pd.DataFrame:
        w = self.w
        dates = pd.to_datetime(pd.Series(w.dates[w.first_day:])).dt.date
        n_rec, n_m = self.rows.shape
        return pd.DataFrame({
            "date": np.repeat(dates.to_numpy(), n_m),
            "metric": np.tile(np.array(self.names, dtype=object), n_rec),
            "value": self.rows.reshape(-1),
        }).astype({"metric": "string"})


def _mexican(w: World) -> np.ndarray:
    return np.array([p.country == "MX" for p in w.scenario.places])
