"""Departures at origins: a base rate per nationality with trend and season, cut by development aid and
sanctions relief (after their delay), scaled by the perceived chance of getting in — learned with a delay
from what happened to earlier migrants of the same nationality — and diverted to flights by parole.
Caravans leave on their dates. The same news, when it turns bad, makes some of those on the way stop
(`quit_nat`, read by movement and the border)."""
from __future__ import annotations

import datetime as dt
import math

import numpy as np
from numba import njit

from .. import rng as R
from ..codes import CARAVAN_COHORT, IN_TRANSIT, NO_GROUP, NO_LEG, PAROLED
from ..metrics import Metric
from ..tally import Block
from .common import draw_target, origin_of, person_key

BLOCKS: tuple[Block, ...] = ()


@njit(cache=True)
def departures(ag, n0, net, counts, parole_counts, target_cum, key, day):
    """Create today's departers at their origins (serial: creation order fixes agent identities).

    counts[nat] people leave by land, each heading for a border city drawn from today's split
    (target_cum[nat], cumulative); parole_counts[nat] fly in on parole (created straight into the
    PAROLED status so the books hold them too). Returns the new agent count.
    """
    i = n0
    for nat in range(counts.shape[0]):
        for k in range(parole_counts[nat] + counts[nat]):
            ag.uid[i + k] = person_key(day, nat, k)
        for _ in range(parole_counts[nat]):
            ag.nat[i] = nat
            ag.status[i] = PAROLED
            ag.place[i] = net.nat_origin_place[net.nat_origin_start[nat]]
            ag.leg[i] = NO_LEG
            ag.since[i] = day
            ag.group[i] = NO_GROUP
            i += 1
        for _ in range(counts[nat]):
            spawn(ag, i, nat, net, target_cum, key, day, NO_GROUP)
            i += 1
    return i


@njit(inline="always", cache=True)
def spawn(ag, i, nat, net, target_cum, key, day, group):
    ag.nat[i] = nat
    ag.status[i] = IN_TRANSIT
    ag.place[i] = origin_of(net, nat, R.uniform(key, R.S_ORIGIN, ag.uid[i]))
    ag.leg[i] = NO_LEG
    ag.timer[i] = 0
    ag.target[i] = draw_target(target_cum, nat, R.uniform(key, R.S_TARGET, ag.uid[i]))
    ag.attempts[i] = 0
    ag.flags[i] = 0
    ag.group[i] = group
    ag.since[i] = day


@njit(cache=True)
def caravan(ag, n0, net, size, origin, target, nat_cum, group, target_cum, key, day):
    """A caravan: `size` agents leave `origin` together, one group id, one target."""
    for j in range(size):
        i = n0 + j
        ag.uid[i] = person_key(day, CARAVAN_COHORT + group, j)
        u = R.uniform(key, R.S_NATDRAW, ag.uid[i])
        nat = 0
        for k in range(nat_cum.shape[0]):
            if u < nat_cum[k]:
                nat = k
                break
        spawn(ag, i, nat, net, target_cum, key, day, group)
        ag.place[i] = origin
        ag.target[i] = target
    return n0 + size


class Departures:
    """Reads: development_aid, sanctions_relief (delayed), parole_per_month, the border-city splits; the good
    and bad outcomes of earlier days (the news). Publishes `day.quit_nat` and the day's parts of the store."""
    name = "departures"
    BLOCKS = BLOCKS
    STATE = ("good_ema", "total_ema", "good_slow", "total_slow", "counts", "chance", "net_fast", "net_slow",
             "net_days")   # what changes day to day: saved to branch from

    def __init__(self, run):
        sc, self.run = run.scenario, run
        dep = sc.nationalities
        self.base = np.array([n.departures.base_per_day for n in dep])
        self.trend = np.array([n.departures.trend_per_year for n in dep])
        self.amp = np.array([n.departures.seasonal_amplitude for n in dep])
        self.peak = np.array([n.departures.seasonal_peak_month for n in dep])
        self.elast = np.array([n.departures.elasticity for n in dep])
        self.ref = np.array([n.departures.reference_chance for n in dep])
        beh = sc.behaviour
        # perceived chance of getting in, per nationality: smoothed share of good outcomes
        self.decay = 1.0 / beh.perceived_chance_days
        self.good_ema = self.ref.copy()
        self.total_ema = np.ones(len(dep))
        # the same, remembered longer: news is the short-run chance falling below the long-run one
        self.decay_slow = 1.0 / max(beh.news_memory_days, beh.perceived_chance_days)
        self.good_slow, self.total_slow = self.ref.copy(), np.ones(len(dep))
        self.caravan_day: dict[int, list] = {}
        for gi, cv in enumerate(sc.caravans, start=1):
            self.caravan_day.setdefault((cv.date - run.world.dates[0]).days, []).append((gi, cv))
        self.place_index = {pid: i for i, pid in enumerate(run.world.place_ids)}
        self.start_ord = sc.start.toordinal()
        self.trend_end = beh.trend_until or dt.date.max
        self.counts = np.zeros(len(dep), np.int64)
        self.chance = self.ref.copy()
        # network momentum: good outcomes a day, recent and long-run (from zero, bias-corrected by net_days)
        # counted from the middle of the spin-up, acting from its end
        self.net_fast, self.net_slow, self.net_days = np.zeros(len(dep)), np.zeros(len(dep)), 0
        self.spinup = sc.spinup_days

    def store_rows(self) -> int:
        """The store's first size: about two months of departures and the largest caravan (it holds only
        the agents on their way, and grows when more are at once)."""
        sc = self.run.scenario
        return int(float(np.sum(self.base)) * 60 / sc.scale + max((c.size for c in sc.caravans), default=0) / sc.scale)

    def step(self, day) -> None:
        run, sc, w = self.run, self.run.scenario, self.run.world
        beh, lv, scale, d, key = sc.behaviour, run.timelines, sc.scale, day.d, day.key
        years = (min(day.date, self.trend_end).toordinal() - self.start_ord) / 365.25
        doy = day.date.timetuple().tm_yday
        season = 1.0 + self.amp * np.cos(2 * np.pi * (doy - (self.peak - 0.5) * 30.44) / 365.25)
        push = (1 - beh.aid_effect * lv.development_aid[d]) * (1 - beh.sanctions_relief_effect * lv.sanctions_relief[d])
        chance = self.good_ema / np.maximum(self.total_ema, 1e-9)
        elast, ref = self.elast, self.ref
        pull = np.clip(((chance + 0.05) / (ref + 0.05)) ** elast, 0.05, 5.0)
        # the same news reaches people already on the way: when the chance falls below what it has been,
        # some stop (the response fades as the long-run memory catches up)
        chance_slow = self.good_slow / np.maximum(self.total_slow, 1e-9)
        day.quit_nat = beh.news_quit_rate * np.clip(1.0 - ((chance + 0.05) / (chance_slow + 0.05)) ** elast, 0.0, 1.0)
        lam = self.base * (1 + self.trend) ** years * season * push * pull / scale
        if beh.network_elasticity > 0 and d >= self.spinup and self.net_days > 0:
            lam = lam * self.network_pull(beh.network_elasticity)
        parole = np.minimum(lv.parole_per_day[d] / scale, lam * beh.parole_substitution)
        n_nat = len(lam)
        counts = np.array([R.poisson(float(lam[k] - parole[k]), key, R.S_DEPART, k) for k in range(n_nat)], np.int64)
        parole_n = np.array([R.poisson(float(parole[k]), key, R.S_PAROLE, k) for k in range(n_nat)], np.int64)
        pop = run.pop
        n_old = pop.n
        today = self.caravan_day.get(d, [])
        n_make = int(counts.sum() + parole_n.sum()) + sum(math.ceil(cv.size / scale) for _, cv in today)
        pop.reserve(n_make)
        pop.clear_rows(n_old, n_old + n_make)        # rows a compaction left behind look like new ones
        ag = pop.kernel_view()
        target_cum = lv.target_cum[d]                # today's split of each nationality over border cities
        n_new = departures(ag, pop.n, run.kernel_net, counts, parole_n, target_cum, key, d)
        for gi, cv in today:
            cum = np.cumsum([cv.nationalities.get(nm, 0.0) for nm in w.nat_names])
            cum = cum / cum[-1]
            first = int(np.searchsorted(cum, 0.5))
            tgt = w.border_cities.index(self.place_index[cv.target]) if cv.target else \
                int(np.searchsorted(target_cum[first], R.uniform(key, R.S_CARAVAN, gi), side="right"))
            n_new = caravan(ag, n_new, run.kernel_net, int(math.ceil(cv.size / scale)), self.place_index[cv.origin],
                            min(tgt, len(w.border_cities) - 1), cum, gi, target_cum, key, d)
        pop.n = n_new
        pop.created += n_new - n_old
        day.paroled = int(parole_n.sum())
        day.agents = ag
        # the parts as they stand this morning, [border | US | transit + today's departers]: each phase
        # passes over the part it acts on (and skips final statuses, such as those created into parole)
        b0, b1 = pop.bounds
        day.rows, day.at_border, day.held_us, day.in_transit = (0, n_new), (0, b0), (b0, b1), (b1, n_new)
        day.n_active = n_new - day.paroled
        self.counts, self.chance = counts, chance

    def network_pull(self, eta: float) -> np.ndarray:
        """Momentum through migrant networks: when more of a nationality got in lately than over the long run,
        more leave (and fewer when fewer did); it fades as the long-run level catches up."""
        t = self.net_days
        fast = self.net_fast / (1.0 - (1.0 - self.decay) ** t)
        slow = self.net_slow / (1.0 - (1.0 - self.decay_slow) ** t)
        return np.clip(((fast + 1.0) / (slow + 1.0)) ** eta, 0.2, 5.0)

    def end_day(self, day) -> None:
        """Tonight's news: today's good and bad outcomes update the perceived chance of getting in."""
        scale = self.run.scenario.scale
        good, bad = day.block("good"), day.block("bad")
        w = self.run.scenario.behaviour.mexico_news_weight
        if w > 0:                              # detentions in Mexico are news too: the journey's chance, not the border's
            bad = bad + w * day.block("mexico_detentions_nat")
        decay, decay_slow = self.decay, self.decay_slow
        self.good_ema = self.good_ema * (1 - decay) + good * scale * decay
        self.total_ema = self.total_ema * (1 - decay) + (good + bad) * scale * decay
        self.good_slow = self.good_slow * (1 - decay_slow) + good * scale * decay_slow
        self.total_slow = self.total_slow * (1 - decay_slow) + (good + bad) * scale * decay_slow
        if day.d >= self.spinup // 2:          # once the corridor has filled: its first arrivals are no momentum
            self.net_fast = self.net_fast * (1 - decay) + good * scale * decay
            self.net_slow = self.net_slow * (1 - decay_slow) + good * scale * decay_slow
            self.net_days += 1

    METRICS = (
        Metric("departures", None, "people", "flow", True, "people setting out by land today",
               lambda ph, day: ph.counts.sum() * day.scale),
        Metric("departures", "nationality", "people", "flow", True, "people setting out by land, by nationality",
               lambda ph, day: ph.counts * day.scale),
        Metric("perceived_chance", "nationality", "share", "level", False,
               "the chance of getting in as people at origin perceive it (smoothed share of good outcomes)",
               lambda ph, day: ph.chance),
    )
