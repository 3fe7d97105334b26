"""The US encounter: between ports a Border Patrol apprehension (into custody) or a got-away; at a port an
Office of Field Operations encounter — released with an appointment, else processed at once."""
from __future__ import annotations

from numba import njit

from .. import rng as R
from ..codes import BETWEEN_PORTS, CROSSING, EVADED, F_APPT, RELEASED_US, US_CUSTODY
from ..metrics import Metric
from ..tally import Block, slots
from .common import SHARED, chunk, over_chunks, to_sink
from .outcomes import apply_outcome, outcome

BLOCKS = (
    Block("usbp", "sector", "Border Patrol apprehensions by sector"),
    Block("ofo", "one", "encounters at ports of entry (Office of Field Operations)"),
    Block("ofo_sector", "sector", "encounters at ports, by the sector the port lies in"),
    Block("encounters_nat", "nationality", "southwest border encounters by nationality"),
    Block("usbp_nat", "nationality", "Border Patrol apprehensions by nationality"),
    Block("repeat", "one", "encounters of people encountered before"),
    Block("gotaways", "one", "crossed between ports undetected"),
    Block("appointments_used", "one", "presented at a port with a CBP One appointment"),
    Block("custody_in", "sector", "entering Border Patrol custody, by sector"),
)
T = slots(SHARED + BLOCKS)
MAX_ATTEMPTS = 127          # ag.attempts is one signed byte


@njit(nogil=True, cache=True)
def encounter(ag, first, last, net, lv, d, key, p_accept, restricted_factor, tal, o, c0, c1):
    """Crossing into the US: a got-away, a Border Patrol apprehension (custody), or a port encounter."""
    n = last - first
    for c in range(c0, c1):
        lo, hi = chunk(n, c)
        row = tal[c]
        for i in range(first + lo, first + hi):
            if ag.status[i] != CROSSING:
                continue
            x = ag.crossing[i]
            nat = ag.nat[i]
            s = net.crossing_sector[x]
            if net.crossing_kind[x] == BETWEEN_PORTS:         # Border Patrol
                if R.uniform(key, R.S_GOTAWAY, ag.uid[i]) < net.sector_gotaway[s]:
                    row[o[T.gotaways]] += 1
                    row[o[T.good] + nat] += 1
                    to_sink(ag, i, EVADED, d, row, o)
                    continue
                count_encounter(ag, i, nat, row, o)
                row[o[T.usbp] + s] += 1
                row[o[T.usbp_nat] + nat] += 1
                row[o[T.custody_in] + s] += 1
                ag.status[i] = US_CUSTODY
                ag.sector[i] = s
                ag.since[i] = d
                ag.timer[i] = 0                               # not yet processed (phases/custody.py)
                continue
            # a port of entry: Office of Field Operations
            count_encounter(ag, i, nat, row, o)
            row[o[T.ofo]] += 1
            row[o[T.ofo_sector] + s] += 1
            if ag.flags[i] & F_APPT:
                row[o[T.appointments_used]] += 1
                row[o[T.releases]] += 1
                row[o[T.good] + nat] += 1
                to_sink(ag, i, RELEASED_US, d, row, o)
                continue
            out = outcome(net, lv, d, nat, R.uniform(key, R.S_OUTCOME, ag.uid[i]),
                          R.uniform(key, R.S_ACCEPT, ag.uid[i]), p_accept, restricted_factor, row, o)
            apply_outcome(ag, i, out, net.crossing_city[x], d, nat, row, o)


@njit(inline="always", cache=True)
def count_encounter(ag, i, nat, row, o):
    row[o[T.encounters_nat] + nat] += 1
    if ag.attempts[i] > 0:
        row[o[T.repeat]] += 1
    if ag.attempts[i] < MAX_ATTEMPTS:
        ag.attempts[i] += 1


class Encounter:
    """Reads: regime, title42_expulsion, title8_removal, mexico_accepts_returns, returns_to_mexico_cap (shared by
    lottery among yesterday's claimants). Publishes `day.p_accept` for custody."""
    name = "encounter"
    BLOCKS = BLOCKS
    STATE = ("return_demand",)   # what changes day to day: saved to branch from

    def __init__(self, run):
        self.run = run
        self.return_demand = 0.0

    def step(self, day) -> None:
        run, d, scale = self.run, day.d, self.run.scenario.scale
        day.p_accept = min(1.0, run.timelines.returns_to_mexico_cap[d] / scale / max(self.return_demand, 1.0))
        over_chunks(encounter, day.agents, *day.at_border, run.kernel_net, run.kernel_levers, d, day.key, day.p_accept,
                  run.scenario.behaviour.restricted_release_factor, day.tal, run.offsets[self.name])

    def end_day(self, day) -> None:
        self.return_demand = float(day.one("return_demand"))

    METRICS = (
        Metric("sw_encounters", None, "people", "flow", True, "southwest border encounters (Border Patrol and ports)",
               lambda ph, day: (day.block("usbp") * day.scale).sum() + day.one("ofo") * day.scale),
        Metric("usbp_encounters", None, "people", "flow", True, "Border Patrol apprehensions between ports",
               lambda ph, day: (day.block("usbp") * day.scale).sum()),
        Metric("ofo_encounters", None, "people", "flow", True, "encounters at ports of entry",
               lambda ph, day: day.one("ofo") * day.scale),
        Metric("repeat_encounters", None, "people", "flow", True, "encounters of people encountered before",
               lambda ph, day: day.one("repeat") * day.scale),
        Metric("gotaways", None, "people", "flow", True, "crossed between ports undetected",
               lambda ph, day: day.one("gotaways") * day.scale),
        Metric("appointments_used", None, "people", "flow", True, "presented at a port with an appointment",
               lambda ph, day: day.one("appointments_used") * day.scale),
        Metric("usbp_encounters", "sector", "people", "flow", True, "Border Patrol apprehensions by sector",
               lambda ph, day: day.block("usbp") * day.scale),
        Metric("ofo_encounters", "sector", "people", "flow", True, "port encounters by sector",
               lambda ph, day: day.block("ofo_sector") * day.scale),
        Metric("sw_encounters", "nationality", "people", "flow", True, "southwest border encounters by nationality",
               lambda ph, day: day.block("encounters_nat") * day.scale),
        # what 2019 is scored on: CBP's SW table by citizenship starts in Oct 2019, OHSS's Border Patrol one earlier
        Metric("usbp_nationality", "nationality", "people", "flow", True, "Border Patrol apprehensions by nationality",
               lambda ph, day: day.block("usbp_nat") * day.scale),
    )
