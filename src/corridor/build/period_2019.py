"""The figures of the 2019 scenario (us-mexico-2019), each derived from a cited row: departures from FY2019
encounters, the border-city splits of 2019, Mexico's enforcement before and after the June 2019 deployment, the
Migrant Protection Protocols as returns to Mexico, metering as daily processing at ports, Mexico's deportation
share and personnel, and the caravans of 2018-20."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

import pandas as pd

from .border_splits import LEAD_DAYS, LEAD_OTHERS, SPLIT_MONTH_MIN, BorderSplits, Encounters, state_sectors
from .emit import Flow
from .facts import Facts
from .inputs import OBSERVED, Observed
from .monthly import OHSS_NATIONALITY, OTHER
from .places import BORDER_IDS, SECTOR_OF_CITY

START, END, SPINUP = dt.date(2019, 1, 1), dt.date(2020, 2, 29), 120
EARLY = dt.date(2018, 1, 1)       # first step of dated series: before the spin-up (2018-09-03)
IPF_MONTHS = ("2018-08", "2019-09")   # OHSS Border Patrol by citizenship: the months before CBP's table by state
STATE_MONTHS = ("2019-10", "2020-02")  # CBP's SW encounters by state and citizenship, month by month (us-mexico's rule)
SEED_MONTHS = ("2019-10", "2020-02")   # the pre-COVID months of FY2020: P(state | nationality) of the IPF's seed
REPEAT_FACTOR = 0.8               # as us-mexico's initial guesses: encounters x 0.8 for repeat crossings
NTCA = ("Guatemala", "Honduras", "El Salvador")
OFO_GROUP = {"Mexico": "Mexico", "Guatemala": "Guatemala", "Honduras": "Honduras", "El Salvador": "El Salvador"}
# nationalities MPP returned to Mexico (Spanish-speaking non-Mexicans; assumed from the rows that name them)
MPP_NATIONALITIES = ("Guatemala", "Honduras", "El Salvador", "Nicaragua", "Cuba", "Venezuela", "Colombia", "Ecuador",
                     "Peru")
DEPLOYMENT = dt.date(2019, 6, 10)    # the National Guard's deployment begins (events_2018_2022.csv 2019-06-09 row)
LATE_2019 = dt.date(2019, 8, 1)      # Mexico's detentions from here on are known only as the year's total less Jan - Jul


def months(a: str, b: str) -> list[str]:
    out, m = [], pd.Period(a, "M")
    while str(m) <= b:
        out.append(str(m))
        m += 1
    return out


@dataclass
class Enforcement:
    pre: float
    post: float
    late: float       # Aug - Dec 2019: the deployment at full strength, the flow through Mexico smaller
    text: str


def fy2019_encounters(obs: Observed, labels: list[str]) -> tuple[dict[str, float], str]:
    """FY2019 SW encounters per model nationality: Border Patrol by citizenship (OHSS) plus ports (CBP's component
    table names Mexico and the Northern Triangle; its `Other` is split by the Border Patrol shares, assumed)."""
    ohss = pd.read_csv(OBSERVED / "usbp_sw_citizenship_monthly_ohss.csv")
    f = ohss[ohss.fiscal_year == 2019]
    usbp = f.groupby(f.citizenship.map(OHSS_NATIONALITY).fillna(OTHER)).usbp_encounters.sum()
    comp = obs.components
    ofo = comp[(comp.fiscal_year == 2019) & (comp.component == "Office of Field Operations")]
    ofo = ofo.groupby("citizenship_group").encounters.sum()
    rest = [n for n in labels if n not in OFO_GROUP]
    rest_usbp = sum(float(usbp.get(n, 0)) for n in rest)
    out = {}
    for n in labels:
        u = float(usbp.get(n, 0))
        p = float(ofo[OFO_GROUP[n]]) if n in OFO_GROUP else float(ofo["Other"]) * u / rest_usbp
        out[n] = u + p
    text = ("FY2019 SW encounters = Border Patrol by citizenship (observed/usbp_sw_citizenship_monthly_ohss.csv, "
            "labels mapped as in observed/monthly.csv) + ports (observed/cbp_sw_encounters_monthly_component_detail"
            f".csv, Office of Field Operations FY2019: Mexico {ofo['Mexico']:,.0f}, Guatemala {ofo['Guatemala']:,.0f}, "
            f"Honduras {ofo['Honduras']:,.0f}, El Salvador {ofo['El Salvador']:,.0f}; its 'Other' {ofo['Other']:,.0f} "
            "split over the other nationalities by their Border Patrol shares, assumed)")
    return out, text


class Splits2019:
    """Each nationality's split over border cities, month by month from Aug 2018 to Feb 2020.

    There is no sector x citizenship table for 2019. To Sep 2019: iterative proportional fitting of a seed, each
    nationality's P(sector) in Oct 2019 - Feb 2020 (CBP's SW encounters by state and citizenship, each state split
    over its sectors as us-mexico does), to the month's Border Patrol totals by sector (OHSS) and by citizenship
    (OHSS). From Oct 2019: us-mexico's rule month by month. Sectors to cities as us-mexico (BorderSplits.city_split).
    """

    def __init__(self, F: Facts, obs: Observed, enc: Encounters, labels: dict[str, str]) -> None:
        self.bs = BorderSplits(F, obs, enc)
        self.enc, self.labels = enc, labels          # label -> CBP key
        sec = obs.sector_monthly
        self.sec = sec
        seed_rows = enc.all[(enc.all.month >= SEED_MONTHS[0]) & (enc.all.month <= SEED_MONTHS[1])]
        s_sec = sec[(sec.month >= SEED_MONTHS[0]) & (sec.month <= SEED_MONTHS[1])].groupby("sector").usbp_encounters.sum()
        by_state = state_sectors(s_sec, float(seed_rows[seed_rows.state == "NM"].encounters.sum()))
        self.seed: dict[str, dict[str, float]] = {}
        for label, key in labels.items():
            states = seed_rows[seed_rows.cit == key].groupby("state").encounters.sum()
            p = defaultdict(float)
            for state, secs in by_state.items():
                tot = sum(secs.values())
                for s, v in secs.items():
                    p[s] += states.get(state, 0) / states.sum() * v / tot
            self.seed[label] = dict(p)
        ohss = pd.read_csv(OBSERVED / "usbp_sw_citizenship_monthly_ohss.csv")
        ohss = ohss[(ohss.month >= IPF_MONTHS[0]) & (ohss.month <= IPF_MONTHS[1])]
        self.nat_month = ohss.groupby([ohss.month, ohss.citizenship.map(OHSS_NATIONALITY).fillna(OTHER)]
                                      ).usbp_encounters.sum()
        self.rule = (
            "derived. There is no Border Patrol table by sector and citizenship for 2019, so for Aug 2018 - Sep 2019 "
            "each month's nationality x sector table is fitted (iterative proportional fitting, 200 rounds) to the "
            "month's Border Patrol encounters by sector (observed/usbp_sw_sector_monthly_ohss.csv) and by citizenship "
            "(observed/usbp_sw_citizenship_monthly_ohss.csv), from a seed of each nationality's P(sector) in Oct 2019 "
            "- Feb 2020 (observed/cbp_sw_encounters_monthly_state_citizenship_detail.csv by state, each state split "
            "over its sectors by their Border Patrol encounters; the assumption: where a nationality went within the "
            "border moved with the sector totals, keeping its FY2020 pattern as far as the margins allow); Oct 2019 - "
            "Feb 2020: us-mexico's rule month by month (P(state | citizenship) of the month from the same file, each "
            "state split over its sectors by the month's Border Patrol encounters; months with fewer than "
            f"{SPLIT_MONTH_MIN} encounters of the nationality take the seed's split); each sector over its cities as "
            "us-mexico; a month's split applies to people leaving a lead time before it starts, as us-mexico "
            f"(Mexicans {LEAD_DAYS['Mexico']} days, Central Americans, Cubans, Haitians and Nicaraguans "
            f"{LEAD_DAYS['Guatemala']}, others {LEAD_OTHERS})")

    def ipf(self, month: str) -> dict[str, dict[str, float]]:
        """label -> P(sector) in a month before Oct 2019."""
        sectors = self.sec[self.sec.month == month].groupby("sector").usbp_encounters.sum()
        nat = {n: float(self.nat_month.get((month, n), 0.0)) for n in self.labels}
        m = {n: {s: nat[n] * self.seed[n].get(s, 0.0) for s in sectors.index} for n in self.labels}
        for _ in range(200):
            for s in sectors.index:
                col = sum(m[n][s] for n in m)
                if col > 0:
                    for n in m:
                        m[n][s] *= float(sectors[s]) / col
            for n in m:
                row = sum(m[n].values())
                if row > 0:
                    for s in m[n]:
                        m[n][s] *= nat[n] / row
        return {n: ({s: v / sum(m[n].values()) for s, v in m[n].items()} if sum(m[n].values()) > 0
                    else self.seed[n]) for n in m}

    def cities(self, p_sector: dict[str, float]) -> dict[str, float]:
        w = defaultdict(float)
        for s, p in p_sector.items():
            split = self.bs.city_split.get(s, ({[b for b in BORDER_IDS if SECTOR_OF_CITY[b] == s][0]: 1.0}, ""))[0]
            for city, f in split.items():
                w[city] += p * f
        return {c: round(w[c], 4) for c in BORDER_IDS if round(w[c], 4) > 0}

    def dated(self) -> dict[str, list[Flow]]:
        """label -> its dated splits (first from EARLY; a month's split for people leaving a lead time before it)."""
        out: dict[str, list[Flow]] = {n: [] for n in self.labels}
        for month in months(*IPF_MONTHS) + months(*STATE_MONTHS):
            by_nat = self.ipf(month) if month <= IPF_MONTHS[1] else None
            for n, key in self.labels.items():
                if by_nat is not None:
                    weights = self.cities(by_nat[n])
                else:
                    d = self.enc.all
                    states = d[(d.cit == key) & (d.month == month)].groupby("state").encounters.sum()
                    weights = (self.bs.city_weights(states, self.bs.month_state_sectors(month))
                               if states.sum() >= SPLIT_MONTH_MIN else self.cities(self.seed[n]))
                lead = dt.timedelta(days=LEAD_DAYS.get(n, LEAD_OTHERS))
                start = EARLY if not out[n] else dt.date.fromisoformat(month + "-01") - lead
                if not out[n] or out[n][-1]["weights"] != weights:
                    out[n].append(Flow({"from": start, "weights": weights}))
        return out


def non_mexican_encounters(obs: Observed, first: str, last: str) -> float:
    """SW encounters (Border Patrol and ports) of non-Mexicans over the months (CBP's component table)."""
    c = obs.components
    c = c[(c.month >= first) & (c.month <= last)]
    return float(c.encounters.sum() - c[c.citizenship_group == "Mexico"].encounters.sum())


def enforcement(F: Facts, obs: Observed) -> Enforcement:
    """Mexico's enforcement before and after the June 2019 deployment, relative to 2023 (1.0).

    Events are flow x detection: the share of those crossing Mexico whom it detains is taken as
    detentions / (detentions + non-Mexican US encounters) of the same months (the assumptions: the US encounters
    stand for the flow that got through, with no lag and no repeat counting either side), and the lever as
    proportional to it."""
    pre_rows = [(2, "2018-12"), (4, "2019-01"), (6, "2019-02"), (8, "2019-03"), (11, "2019-04"), (14, "2019-05")]
    post_rows = [(16, "2019-06"), (17, "2019-07")]
    D_pre = D_post = 0.0
    cites = []
    for line, month in pre_rows + post_rows:
        r = F.row("y2019", line, "presentados")
        if r["period"] != month:
            raise ValueError(f"{r['cite']}: period {r['period']!r}, expected {month}")
        if month <= "2019-05":
            D_pre += float(r["value"])
        else:
            D_post += float(r["value"])
        cites.append(str(line))
    U_pre = non_mexican_encounters(obs, "2018-12", "2019-05")
    U_post = non_mexican_encounters(obs, "2019-06", "2019-07")
    ev = pd.read_csv(OBSERVED / "mexico_irregular_migration_events.csv")
    D23 = float(ev[(ev.period_start == "2023-01-01") & (ev.period_end == "2023-12-31")
                   & (ev.measure == "annual_total_events")].events.iloc[0])
    U23 = non_mexican_encounters(obs, "2023-01", "2023-12")
    # Aug - Dec 2019: the year's presentados less the months above (no monthly row after July is bundled)
    year = F.row("y2019", 20, "presentados")
    if year["period"] != "2019":
        raise ValueError(f"{year['cite']}: period {year['period']!r}, expected 2019")
    D_late = float(year["value"]) - (D_pre - float(F.row("y2019", 2, "presentados")["value"])) - D_post
    U_late = non_mexican_encounters(obs, "2019-08", "2019-12")
    p_pre, p_post, p23 = D_pre / (D_pre + U_pre), D_post / (D_post + U_post), D23 / (D23 + U23)
    p_late = D_late / (D_late + U_late)
    pre, post, late = round(p_pre / p23, 2), round(p_post / p23, 2), round(p_late / p23, 2)
    text = (f"derived, an input: events are flow x detection, so the share detained of those crossing Mexico is taken "
            f"as Mexico's detentions / (detentions + non-Mexican SW encounters of the same months) and the lever as "
            f"proportional to it. Dec 2018 - May 2019: {D_pre:,.0f} presentados (facts_2019_2022.csv rows "
            f"{', '.join(cites[:6])}) / ({D_pre:,.0f} + {U_pre:,.0f}) = {p_pre:.3f}; Jun - Jul 2019: {D_post:,.0f} "
            f"(rows {', '.join(cites[6:])}) / ({D_post:,.0f} + {U_post:,.0f}) = {p_post:.3f}; Aug - Dec 2019: {D_late:,.0f} "
            f"({year['cite']}: {float(year['value']):,.0f} in 2019, less Jan - Jul above) / ({D_late:,.0f} + "
            f"{U_late:,.0f}) = {p_late:.3f}; 2023 (the lever's 1.0): "
            f"{D23:,.0f} (observed/mexico_irregular_migration_events.csv 2023 annual) / ({D23:,.0f} + {U23:,.0f}) = "
            f"{p23:.3f}; non-Mexican encounters from observed/cbp_sw_encounters_monthly_component_detail.csv. So "
            f"{pre} before the deployment (an initial guess of the 2019 level against 2023's, for the calibration to "
            f"revise), {post} from it ({post / pre:.2f}x the pre-June level) and {late} from August ({late / pre:.2f}x). "
            "ASSUMPTIONS: the US encounters stand "
            "for the flow that got through Mexico, in the same month (no lag), and repeat attempts weigh alike on "
            "both sides; the detection per passage scales with the lever, so the cumulative share is proportional "
            "only while it is small (at 0.2-0.3 the error is under ~15%). A model whose 2019 flow is off would "
            "misread these counts the same way, which is why the step is an input, not fitted to US outcomes")
    return Enforcement(pre, post, late, text)


def mpp_cap(F: Facts) -> tuple[list[tuple[dt.date, float, str]], str]:
    """Mexico's returns cap (people a day) from MPP enrolments by month: new MPP cases a month / days."""
    steps: list[tuple[dt.date, float, str]] = [(EARLY, 0, "no MPP before it started")]
    monthly = [(72, "2019-01", dt.date(2019, 1, 29)), (73, "2019-02", None), (74, "2019-03", None),
               (75, "2019-04", None), (76, "2019-05", None), (77, "2019-06", None), (78, "2019-07", None),
               (80, "2019-08", None)]
    total = 0.0
    for line, month, first in monthly:
        r = F.row("y2019", line, "new MPP immigration-court cases")
        if r["period"] != month:
            raise ValueError(f"{r['cite']}: period {r['period']!r}, expected {month}")
        start = first or dt.date.fromisoformat(month + "-01")
        end = (pd.Period(month, "M") + 1).start_time.date()
        days = (end - start).days
        v = float(r["value"])
        total += v
        steps.append((start, round(v / days, 1), f"{r['cite']}: {v:,.0f} / {days} days"))
    cum, c_cum = F.num("y2019", 92, "returned to Mexico under MPP (cumulative)", r"([\d,]+)")
    so = dt.date(2019, 9, 1)
    steps.append((so, round((cum - total) / 91, 1),
                  f"derived: ({c_cum}: over {cum:,.0f} through Nov 2019 - {total:,.0f} Jan-Aug) / 91 days"))
    jan, c_jan = F.num("y2019", 88, "returned to Mexico under MPP (SRE)", r"([\d,]+)")
    steps.append((dt.date(2019, 12, 1), round(jan / 31, 1),
                  f"{c_jan}: about {jan:,.0f} in January 2020 / 31 days, also for December 2019 (assumed; "
                  "DHS's ~57,000 through January 2020 in the same row would leave only ~1,000 for both months)"))
    feb = F.row("y2019", 81, "new MPP immigration-court cases")
    steps.append((dt.date(2020, 2, 1), round(float(feb["value"]) / 29, 1), f"{feb['cite']}: {float(feb['value']):,.0f} / 29 days"))
    text = ("Migrant Protection Protocols as returns of non-Mexicans to Mexico: mexico_accepts_returns = 1 for the "
            "nationalities MPP returned, from its start at San Ysidro (events_2018_2022.csv 2019-01-28 row: first "
            "return 2019-01-29); the lever is per nationality, not per port, so the dated expansions (Calexico "
            "2019-03-12, El Paso 03-19, Laredo 07-09, Brownsville 07-19, Big Bend 08-01, Eagle Pass 10-28, Tucson "
            "11-22, Nogales 2020-01-02: events_2018_2022.csv rows of those dates) act through the cap: Mexico's "
            "returns a day = MPP enrolments of the month / its days (below). Enrolments are TRAC's new MPP court "
            "cases (about one a person).")
    return steps, text


def metering(F: Facts) -> tuple[float, str]:
    """Asylum seekers processed a day at the ports under metering, border-wide."""
    r = F.row("y2019", 106, "CAIM Ciudad Juarez list")
    processed = float(r["value"].split("/")[1].replace(",", ""))
    waiting_j = float(r["value"].split("/")[2].replace(",", ""))
    days = (dt.date(2019, 8, 18) - dt.date(2018, 10, 1)).days
    total_w, c_w = F.num("y2019", 103, "asylum seekers on/awaiting waitlists", r"([\d,]+)")
    per_day = round(processed / days / (waiting_j / total_w), -1)
    text = (f"metering (CBP's daily limit on asylum seekers processed at ports; events_2018_2022.csv 2018-12-01 row) "
            f"as the appointment slots of the ports: derived {per_day:.0f}/day = Ciudad Juárez's list processed "
            f"{processed:,.0f} in Oct 2018 - 18 Aug 2019 ({r['cite']}) / {days} days, over Juárez's share of those "
            f"waiting, {waiting_j:,.0f} of {total_w:,.0f} in Aug 2019 (same row; {c_w}). ASSUMED: the same rate "
            "all period and at every port in proportion to the model's appointment shares")
    return per_day, text


def deport_share(F: Facts) -> tuple[float, str]:
    ret, c_ret = F.num("y2019", 58, "foreigners returned (deportaciones)", r"([\d,]+)")
    pres, c_pres = F.num("y2019", 20, "presentados", r"([\d,]+)")
    v = round(ret / pres, 2)
    return v, (f"derived: Mexico's returns in 2019 / foreigners presented in 2019 = {ret:,.0f} ({c_ret}) / {pres:,.0f} "
               f"({c_pres}) = {v}, for the Northern Triangle (nearly all of those returned; a lower bound for their "
               "share); others as us-mexico's 'others' rule (0.05; Cubans, Haitians and Africans were mostly given "
               "exit permits, not deported: assumed)")
