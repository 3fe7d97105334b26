"""Repeat attempts: those returned to Mexico or sent home today decide whether to try again — after a
Title 42 expulsion (quick, no penalty) at one rate, after any other return at another, after a removal
home at a third (and then only after regrouping)."""
from __future__ import annotations

from numba import njit

from .. import rng as R
from ..codes import DECIDE_RETRY, F_EXPELLED, GAVE_UP, REGROUPING, REMOVED, WAITING_BORDER
from ..tally import Block, slots
from .common import SHARED, chunk, over_chunks, to_sink

BLOCKS: tuple[Block, ...] = ()
T = slots(SHARED + BLOCKS)


@njit(nogil=True, cache=True)
def retries(ag, first, last, d, key, retry_expulsion, retry_return, retry_removal, regroup_days, tal, o, c0, c1):
    """Those returned to Mexico or sent home today decide whether to try again (timer == DECIDE_RETRY marks
    them): after a Title 42 expulsion at `retry_expulsion`, after any other return at `retry_return`."""
    n = last - first
    for c in range(c0, c1):
        lo, hi = chunk(n, c)
        row = tal[c]
        for i in range(first + lo, first + hi):
            if ag.timer[i] != DECIDE_RETRY:
                continue
            st = ag.status[i]
            u = R.uniform(key, R.S_RETRY, ag.uid[i])
            if st == WAITING_BORDER:
                rate = retry_expulsion if ag.flags[i] & F_EXPELLED else retry_return
                ag.flags[i] &= ~F_EXPELLED
                ag.timer[i] = 0
                if u >= rate:
                    to_sink(ag, i, GAVE_UP, d, row, o)
            elif st == REGROUPING:
                if u < retry_removal:
                    ag.timer[i] = R.exp_days(regroup_days, R.uniform(key, R.S_REGROUP, ag.uid[i]))
                else:
                    ag.timer[i] = 0
                    to_sink(ag, i, REMOVED, d, row, o)


class Retries:
    """Reads: behaviour.retry_after_* and retry_delay_days."""
    name = "retries"
    BLOCKS = BLOCKS
    STATE = ()   # what changes day to day: saved to branch from
    METRICS = ()

    def __init__(self, run):
        self.run = run

    def step(self, day) -> None:
        beh = self.run.scenario.behaviour
        # Title 42 expulsions were quick and carried no penalty, so more of the expelled tried again
        retry_expulsion = beh.retry_after_return if beh.retry_after_expulsion is None else beh.retry_after_expulsion
        over_chunks(retries, day.agents, *day.rows, day.d, day.key, retry_expulsion, beh.retry_after_return, beh.retry_after_removal,
                beh.retry_delay_days, day.tal, self.run.offsets[self.name])

    def end_day(self, day) -> None:
        pass
