"""Each nationality's split over the Mexican border cities, month by month, from the observed encounters by state
and citizenship, each state split over its Border Patrol sectors and each sector over its cities."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pandas as pd

from .emit import Flow
from .facts import Facts
from .inputs import EARLY, Observed
from .places import BORDER_IDS, SECTOR_OF_CITY

TINY = {"CANADA", "UKRAINE", "PHILIPPINES", "MYANMAR (BURMA)"}   # folded into OTHER
# The split month by month, June 2022 (the spin-up's first month) to September 2023 (the last training month; it
# holds after, so the validation months and the forecast take none of their own data). A month's split applies to
# people leaving LEAD days before the month starts, the time it takes them to reach the border.
SPLIT_MONTHS = ("2022-06", "2023-09")
SPLIT_MONTH_MIN = 500   # encounters below which a month's split is too noisy: the FY2023 split is used
LEAD_DAYS = {"Mexico": 3, "Guatemala": 14, "Honduras": 14, "El Salvador": 14, "Cuba": 14, "Haiti": 14,
             "Nicaragua": 14}
LEAD_OTHERS = 30


class Encounters:
    """SW border encounters by month, state and citizenship (labels in TINY folded into OTHER), and FY2023 totals."""

    def __init__(self, obs: Observed) -> None:
        detail = obs.state_citizenship.copy()
        detail["cit"] = detail.citizenship.where(~detail.citizenship.isin(TINY), "OTHER")
        self.all = detail
        fy23 = detail[detail.fiscal_year == 2023]
        self.fy2023 = fy23
        self.by_cit = fy23.groupby("cit").encounters.sum()
        self.by_cit_state = fy23.pivot_table(index="cit", columns="state", values="encounters", aggfunc="sum",
                                             fill_value=0)
        self.nm_total = float(fy23[fy23.state == "NM"].encounters.sum())


def state_sectors(sectors: pd.Series, nm_total: float) -> dict[str, dict[str, float]]:
    """state -> {sector: weight}, from Border Patrol encounters by sector and the NM state total (El Paso spans
    NM and west Texas)."""
    return {
        "CA": {"San Diego": sectors["San Diego"], "El Centro": sectors["El Centro"]},
        "AZ": {"Tucson": sectors["Tucson"], "Yuma": sectors["Yuma"]},
        "NM": {"El Paso": 1.0},
        "TX": {"El Paso": max(sectors["El Paso"] - nm_total, 0.0), "Big Bend": sectors["Big Bend"],
               "Del Rio": sectors["Del Rio"], "Laredo": sectors["Laredo"],
               "Rio Grande Valley": sectors["Rio Grande Valley"]},
    }


class BorderSplits:
    """The rules that turn encounters by state into weights over border cities, and the dated splits they give."""

    def __init__(self, F: Facts, obs: Observed, enc: Encounters) -> None:
        self.enc = enc
        self.sec = obs.sector_monthly
        sec = self.sec
        sec23 = sec[sec.fiscal_year == 2023].groupby("sector").usbp_encounters.sum()
        self.fy2023_state_sectors = state_sectors(sec23, enc.nm_total)
        self._months: dict[str, dict] = {}
        # Del Rio: Piedras Negras vs Ciudad Acuña
        PN_2WK, c_pn = F.num("transit", 176, "Piedras Negras arrivals", r"~([\d,]+) processed by Border Patrol Del Rio")
        DR_SEP23 = float(sec[(sec.month == "2023-09") & (sec.sector == "Del Rio")].usbp_encounters.sum())
        self.pn_share = PN_SHARE = round(min(PN_2WK / (DR_SEP23 * 14 / 30), 0.9), 2)
        REY, c_rey = F.num("transit", 168, "Migrants waiting for CBP One in Tamaulipas", r"Reynosa ([\d,]+)")
        MAT, _ = F.num("transit", 168, "Migrants waiting for CBP One in Tamaulipas", r"Matamoros ([\d,]+)")
        self.rey_share = REY_SHARE = round(REY / (REY + MAT), 2)
        self.city_split = {  # sector -> ({city: share}, source)
            "Tucson": ({"nogales": 0.5, "sonoyta": 0.5},
                       "assumed 50/50 (Nogales, Sasabe and Douglas vs the Ajo/Lukeville area)"),
            "Del Rio": ({"piedras-negras": PN_SHARE, "ciudad-acuna": round(1 - PN_SHARE, 2)},
                        f"derived: ~{PN_2WK:,.0f} processed from Piedras Negras crossings in two weeks of Sep 2023 "
                        f"({c_pn}) over Del Rio's Sep 2023 encounters x 14/30 (observed/usbp_sw_sector_monthly_ohss"
                        f".csv) = {PN_SHARE}"),
            "Rio Grande Valley": ({"reynosa": REY_SHARE, "matamoros": round(1 - REY_SHARE, 2)},
                                  f"derived: people waiting for CBP One end Jun 2023, Reynosa {REY:,.0f} vs Matamoros "
                                  f"{MAT:,.0f} ({c_rey})"),
        }
        lead_src = ("assumed, consistent with journeys of about a month from Venezuela (up to two months), the "
                    "Central American leg about two weeks (" + F.cite("transit", 96, "Example self-financed Venezuelan "
                    "journey") + "; " + F.cite("transit", 97, "Duration Venezuela") + ")")
        self.fy2023_rule = (
            "derived, FY2023 P(state | citizenship) from observed/cbp_sw_encounters_monthly_state_"
            "citizenship_detail.csv, each state split over its sectors by FY2023 Border Patrol encounters (observed/"
            "usbp_sw_sector_monthly_ohss.csv; TX El Paso = El Paso sector minus the NM state total, since the "
            "sector spans NM and west Texas; NM -> Ciudad Juárez; the Yuma sector's CA part is ignored), each "
            "sector over its cities: " + "; ".join(f"{k}: {v[1]}" for k, v in self.city_split.items()))
        self.monthly_rule = (
            f"month by month from {SPLIT_MONTHS[0]} to {SPLIT_MONTHS[1]} (the last training month, held after it): "
            "P(state | citizenship) of the month, each state split over its sectors by the month's Border Patrol "
            "encounters, for people leaving a lead time before the month starts (Mexicans "
            f"{LEAD_DAYS['Mexico']} days, Central Americans, Cubans, Haitians and Nicaraguans "
            f"{LEAD_DAYS['Guatemala']}, others {LEAD_OTHERS}: {lead_src}); months with fewer than "
            f"{SPLIT_MONTH_MIN} encounters of the nationality take the FY2023 split")

    def month_state_sectors(self, month: str) -> dict[str, dict[str, float]]:
        """The month's state -> {sector: weight} (the same for every nationality, so computed once per month)."""
        if month not in self._months:
            sec, detail = self.sec, self.enc.all
            self._months[month] = state_sectors(
                sec[sec.month == month].groupby("sector").usbp_encounters.sum(),
                float(detail[(detail.month == month) & (detail.state == "NM")].encounters.sum()))
        return self._months[month]

    def city_weights(self, states: pd.Series, by_state: dict | None = None) -> dict[str, float]:
        """Encounters by state (one nationality) -> weights over border cities."""
        by_state = self.fy2023_state_sectors if by_state is None else by_state
        w = defaultdict(float)
        for state, secs in by_state.items():
            p_state = states.get(state, 0) / states.sum()
            tot = sum(secs.values())
            for sec, v in secs.items():
                p_sec = p_state * v / tot
                split = self.city_split.get(sec, ({[b for b in BORDER_IDS if SECTOR_OF_CITY[b] == sec][0]: 1.0}, ""))[0]
                for city, f in split.items():
                    w[city] += p_sec * f
        return {c: round(w[c], 4) for c in BORDER_IDS if round(w[c], 4) > 0}

    def dated(self, label: str, cit: str) -> list[Flow]:
        """A nationality's dated splits over border cities (rule in `monthly_rule`), repeated splits merged."""
        d = self.enc.all
        rows = d[(d.cit == cit) & (d.month >= SPLIT_MONTHS[0]) & (d.month <= SPLIT_MONTHS[1])]
        fy2023 = self.city_weights(self.enc.by_cit_state.loc[cit])
        lead = dt.timedelta(days=LEAD_DAYS.get(label, LEAD_OTHERS))
        out: list[Flow] = []
        for month, g in rows.groupby("month"):
            states = g.groupby("state").encounters.sum()
            weights = (self.city_weights(states, self.month_state_sectors(month))
                       if states.sum() >= SPLIT_MONTH_MIN else fy2023)
            start = EARLY if not out else dt.date.fromisoformat(month + "-01") - lead
            if not out or out[-1]["weights"] != weights:
                out.append(Flow({"from": start, "weights": weights}))
        return out
