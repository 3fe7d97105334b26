"""The policy levers of the baseline, as dated series from observed/events.csv and the facts tables: enforcement,
visas, returns to Mexico, crossing closures, removal flights, CBP One slots, parole and the regime; each step's
comment cites its row."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ruamel.yaml.comments import CommentedMap

from .border_splits import Encounters
from .emit import Commented, series
from .facts import Facts, matched_number
from .inputs import EARLY, ENFORCEMENT_2024, BuildError, shown

FLIGHT_LABEL = {"GUATEMALA": "Guatemala", "HONDURAS": "Honduras", "EL SALVADOR": "El Salvador",
                "COLOMBIA": "Colombia", "ECUADOR": "Ecuador", "PERU": "Peru"}
PAROLE_WORD = {"Cuba": "Cubans", "Haiti": "Haitians", "Nicaragua": "Nicaraguans", "Venezuela": "Venezuelans"}
BOOK_AHEAD = 14          # days of CBP One slots booked ahead (assumed)
DARIEN_RETURN = 0.05     # Panama's returns after the July 2024 agreement (assumed)


@dataclass
class Levers:
    """The figures the policies are derived from, with their citations."""
    appointments: dict = field(default_factory=dict)
    parole: dict = field(default_factory=dict)
    flights: dict = field(default_factory=dict)
    returns_cap: int = 0


def derive_levers(F: Facts, enc: Encounters) -> Levers:
    """CBP One slots before May 2023, parole per month, removal flights and Mexico's returns cap."""
    APPT_MAY, _ = F.num("us", 100, "CBP One appointments per day", r"([\d,]+) \(from May 12")
    APPT_JUN, _ = F.num("us", 100, "CBP One appointments per day", r"-> ([\d,]+) \(June 2023\)")
    APPT_JUL, c_appt = F.num("us", 100, "CBP One appointments per day", r"-> ([\d,]+) \(from June 30")
    CUM_JUN, c_cum = F.num("us", 102, "CBP One cumulative scheduled", r"more than ([\d,]+)")
    MAY_JUN, c_mj = F.num("us", 101, "CBP One appointments processed May 12", r"more than ([\d,]+)")
    PRE_MAY = ((CUM_JUN - MAY_JUN - (6 * APPT_JUN + 1 * APPT_JUL) - BOOK_AHEAD * APPT_JUL)
               / (dt.date(2023, 5, 12) - dt.date(2023, 1, 18)).days)
    PRE_MAY = round(PRE_MAY, -1)

    CAP30K, c_cap = F.num("us", 107, "CHNV parole cap", r"up to ([\d,]+) per month")
    PAR = F.row("us", 111, "CHNV parole arrivals cumulative to end of Dec 2023")
    PAR_N = {k: matched_number(k[:-1] + r"[a-z]* >?([\d,]+)", PAR["value"], PAR["cite"])
             for k in ("Cubans", "Haitians", "Nicaraguans", "Venezuelans")}
    PAR_TOT = sum(PAR_N.values())
    PAROLE = {nat: round(CAP30K * PAR_N[k] / PAR_TOT) for nat, k in PAROLE_WORD.items()}
    V_ENT, c_v = F.num("us", 108, "Venezuela parole process arrivals", r"([\d,]+) entered")
    V_AUTH, _ = F.num("us", 108, "Venezuela parole process arrivals", r"~([\d,]+) more authorized")
    V_DAYS = (dt.date(2023, 1, 5) - dt.date(2022, 10, 18)).days
    VEN_PHASE1 = round((V_ENT + V_AUTH) / V_DAYS * 30.4)

    FLIGHTS_WK, c_fl = F.num("us", 90, "Repatriation flights per week", r"over ([\d,]+) per week")
    VEN_FLIGHTS, c_vf = F.num("us", 91, "Venezuela removal flights count", r"(\d+)th flight Dec")
    VEN_DAYS = (dt.date(2023, 12, 27) - dt.date(2023, 10, 18)).days + 1
    VEN_PER_DAY = round(VEN_FLIGHTS / VEN_DAYS, 3)
    REST_FLIGHTS = FLIGHTS_WK / 7 - VEN_PER_DAY
    FL_TOT = sum(float(enc.by_cit[k]) for k in FLIGHT_LABEL)
    FLIGHTS = {label: round(REST_FLIGHTS * float(enc.by_cit[k]) / FL_TOT, 2) for k, label in FLIGHT_LABEL.items()}

    return Levers(
        appointments=dict(may=APPT_MAY, jun=APPT_JUN, jul=APPT_JUL, cite=c_appt, cum=CUM_JUN, c_cum=c_cum,
                          may_jun=MAY_JUN, c_mj=c_mj, pre_may=PRE_MAY),
        parole=dict(cap=CAP30K, c_cap=c_cap, row=PAR, counts=PAR_N, per_month=PAROLE, ven_entered=V_ENT,
                    ven_authorised=V_AUTH, ven_days=V_DAYS, ven_phase1=VEN_PHASE1, c_v=c_v),
        flights=dict(per_week=FLIGHTS_WK, c_fl=c_fl, ven_flights=VEN_FLIGHTS, c_vf=c_vf, ven_per_day=VEN_PER_DAY,
                     rest=REST_FLIGHTS, by_nationality=FLIGHTS),
        returns_cap=round(CAP30K / 30))


def enforcement_2024() -> dict:
    """Mexico's 2024 enforcement steps, derived from the UPM events of 2024 (see ENFORCEMENT_2024)."""
    import yaml
    try:
        doc = yaml.safe_load(ENFORCEMENT_2024.read_text(encoding="utf-8"))
        steps = doc["steps"]
        for s in steps:
            dt.date.fromisoformat(s["from"]), float(s["value"])
        return doc
    except (OSError, KeyError, TypeError, ValueError, yaml.YAMLError) as err:
        raise BuildError(f"{shown(ENFORCEMENT_2024)}: cannot read Mexico's 2024 enforcement steps ({err}); rerun "
                         "tools/derive_mexico_enforcement_2024.py") from None


def build_policies(F: Facts, lv: Levers) -> CommentedMap:
    """The `policies:` mapping, every value with its source beside it or above it."""
    p = Commented(indent=2)
    cite = F.cite
    e24 = enforcement_2024()
    p.put("mexico_enforcement", series([(EARLY, 1.0, "1.0 = the calibrated 2023 level (by definition)")] + [
        (dt.date.fromisoformat(s["from"]), s["value"],
         f"derived: model events {s['model_events']:,} = published {s['observed_events']:,.0f} over {s['window']} "
         f"({s['source']})") for s in e24["steps"]]),
        above="Mexico's stepped-up enforcement after the 2023-12-27 Mexico City talks (events.csv 2023-12-27 row; the "
              "2024-01-04 row quotes White House officials citing increased Mexican enforcement: trains, the Chiapas "
              f"caravan, flights to Venezuela), measured by the UPM events of 2024 ({shown(ENFORCEMENT_2024)}, "
              f"{e24['command']}): {e24['method']}. ASSUMPTION: {e24['assumption']}.")
    p.put("mexico_personnel", 32000,
          cite("transit", 18, "Federal forces (army, navy, National Guard) assigned") + ": ~32,000/month since Oct 2021")
    contention = Commented(indent=4)
    contention.put("train", series([
        (EARLY, 0.0, "no contention before the halt"),
        (dt.date(2023, 9, 19), 0.5, "assumed: 60 northbound trains halted; most migrant-carrying departures on those "
                                    "routes (EFE: 30% of all operations)"),
        (dt.date(2023, 9, 21), 0.2, "assumed: partial restart on routes without 'heightened risk' (facts_transit.csv "
                                    "row 102)"),
        (dt.date(2023, 10, 16), 0.0, "assumed: normal service; >1,000-rider trains reached Juárez (row 105) and "
                                     "Piedras Negras (row 106) in Sep-Nov 2023")]))
    p.put("contention", contention.map,
          above="contention on freight trains: Ferromex halted 60 northbound trains on 2023-09-19 (~30% of its "
                "operations), partial restart 2023-09-20 (observed/events.csv 2023-09-19 row; "
                + cite("transit", 102, "Ferromex suspension") + "). Values are the share of train capacity cut "
                "(detection is raised by the same factor).")
    p.put("guatemala_border_block", 0.0,
          "no blocking at the Guatemala border in the period (no facts row describes one)")
    p.put("darien_return", series([
        (EARLY, 0, "no returns from Panama before the agreement"),
        (dt.date(2024, 8, 1), DARIEN_RETURN, "ASSUMED (see above): repatriation flights from August 2024 (events.csv "
                                             "2024-07-01 row)")]),
        above="ASSUMPTION: Panama's controls after the US-Panama agreement of July 2024 (observed/events.csv "
              "2024-07-01 row: repatriation flights from August 2024, barbed wire on Darién trails) send home 5% "
              "of those who cross the Darién from 2024-08-01. No facts row gives the size: the 5% is the builder's "
              "assumption, not a measurement (a 2024 policy input to vary).")
    p.put("return_south", 0.3, "schema default, assumed; busing south is documented but not as a share ("
          + cite("transit", 22, "Migrants relocated by INM") + "; "
          + cite("transit", 32, "Internal 'deportation' flights") + ")")
    p.put("return_south_to", "tapachula", cite("transit", 22, "Migrants relocated by INM")
          + ": relocations from Tapachula to Chiapas/Tabasco; flights to Villahermosa (row 32)")

    # Haitians and Chinese: a long-standing requirement, older than the facts tables reach (assumed); without it the
    # model flies them into Mexico, while they crossed the Darién in numbers (row 179)
    long_visa = ("assumed: long-standing requirement (no facts row gives its date); consistent with "
                 + cite("transit", 179, "Darién crossings 2023 by nationality") + ": 46,558 Haitians and 25,344 "
                 "Chinese crossed the Darién in 2023 instead of flying to Mexico")
    visas = Commented(indent=4)
    visas.put("Venezuela", series([(dt.date(2022, 1, 21), 1,
                                    cite("transit", 161, "Mexico visa requirement for Venezuelans"))]))
    visas.put("Ecuador", series([(dt.date(2021, 9, 4), 1, cite("transit", 162, "Mexico visa requirement for Ecuadorians"))]))
    visas.put("Brazil", series([(dt.date(2022, 8, 18), 1,
                                 cite("transit", 163, "Mexico visa/authorization requirement for Brazilians")
                                 + " (physical visa; electronic authorisation since 2021-12-11)")]))
    for n in ("Haiti", "China, Peoples Republic Of"):
        visas.put(n, series([(EARLY, 1, long_visa)]))
    visas.put("Peru", series([(EARLY, 0, "no visa before May 2024"),
                              (dt.date(2024, 5, 6), 1, "facts/README.md line 166 ('Mexico's visa rules: ... Peru 6 May "
                                                       "2024'; no CSV row); a 2024 policy input")]))
    p.put("mexico_visa_required", visas.map)

    chnv = cite("us", 87, "Mexico acceptance of CHNV returns")
    accepts = Commented(indent=4)
    accepts.put("Venezuela", series([(EARLY, 0, ""), (dt.date(2022, 10, 12), 1, "observed/events.csv 2022-10-12 row")]))
    for n in ("Cuba", "Haiti", "Nicaragua"):
        accepts.put(n, series([(EARLY, 0, ""), (dt.date(2023, 1, 5), 1, chnv)]))
    p.put("mexico_accepts_returns", accepts.map,
          above="Mexico takes back non-Mexicans from the US: Venezuelans from 2022-10-12 (expelled to Mexico under "
                "Title 42, observed/events.csv 2022-10-12 row), Cubans, Haitians, Nicaraguans from 2023-01-05 ("
                + chnv + ": up to 30,000/month, continued after Title 42 ended on 2023-05-11; "
                + cite("transit", 188, "US expulsions to Mexico") + "). The engine needs this flag for Title 42 "
                "expulsions of these nationalities too, hence the earlier start than the 2023-05-12 post-Title-42 "
                "arrangement.")
    p.put("returns_to_mexico_cap", lv.returns_cap, "derived: up to 30,000 CHNV nationals a month / 30 (" + chnv + ")")

    closed = Commented(indent=4)
    closed.put("san-ysidro-pedwest", series([
        (EARLY, 0, ""), (dt.date(2023, 9, 14), 1, "observed/events.csv 2023-09-14 row: PedWest suspended"),
        (dt.date(2023, 11, 16), 0, "same row: reopened northbound 2023-11-16"),
        (dt.date(2023, 12, 9), 1, "observed/events.csv 2023-12-09 row: closed again"),
        (dt.date(2024, 1, 4), 0, "observed/events.csv 2024-01-04 row: resumed")]))
    closed.put("lukeville", series([
        (EARLY, 0, ""), (dt.date(2023, 12, 4), 1, "observed/events.csv 2023-12-04 row (vehicle processing already "
                                                  "reduced from 2023-11-27)"),
        (dt.date(2024, 1, 4), 0, "observed/events.csv 2024-01-04 row")]))
    closed.put("eagle-pass-bridge-1", series([
        (EARLY, 0, ""), (dt.date(2023, 9, 20), 1, cite("us", 128, "Eagle Pass Bridge 1 northbound")
                         + ": suspended Sep 20 - Oct 16 2023"),
        (dt.date(2023, 10, 16), 0, "same row"),
        (dt.date(2023, 11, 27), 1, "observed/events.csv 2023-11-27 row"),
        (dt.date(2024, 1, 4), 0, "observed/events.csv 2024-01-04 row")]))
    closed.put("nogales-morley-gate", series([
        (EARLY, 0, ""), (dt.date(2023, 9, 25), 1, "observed/events.csv 2023-09-25 row (customs works; still closed "
                                                  "mid-Dec)"),
        (dt.date(2024, 1, 4), 0, "observed/events.csv 2024-01-04 row")]))
    for rb in ("eagle-pass-rail-bridge", "el-paso-rail-bridge"):
        closed.put(rb, series([
            (EARLY, 0, "a brief Sep 2023 suspension at Eagle Pass (facts_us.csv row 128) has no dates and is left out"
             if rb.startswith("eagle") else ""),
            (dt.date(2023, 12, 18), 1, "observed/events.csv 2023-12-18 row"),
            (dt.date(2023, 12, 22), 0, "observed/events.csv 2023-12-22 row (resumed 14:00 ET)")]))
    p.put("crossings_closed", closed.map)
    p.put("processing_capacity_factor", {})
    p.put("holding_capacity_factor", {})

    fl = lv.flights
    flights = Commented(indent=4)
    for n, v in fl["by_nationality"].items():
        flights.put(n, v, "derived (see above)")
    flights.put("Venezuela", series([(EARLY, 0, "no direct flights before Oct 2023"),
                                     (dt.date(2023, 10, 18), fl["ven_per_day"],
                                      cite("us", 86, "Venezuela direct removal flights resumed"))]))
    flights.put("Mexico", 0, "Mexicans are removed over land")
    p.put("removal_flights_per_day", flights.map,
          above=f"removal flights: 'over {fl['per_week']:.0f} repatriation flights a week' late 2023 ({fl['c_fl']}) = "
                f"{fl['per_week'] / 7:.2f}/day; Venezuela: {fl['ven_flights']:.0f} flights 2023-10-18..12-27 "
                f"({fl['c_vf']}) = {fl['ven_per_day']}/day; the remaining {fl['rest']:.2f}/day split over Guatemala, "
                "Honduras, El Salvador, Colombia, Ecuador, Peru by FY2023 encounters (derived; applied over the whole "
                "period, assumed). Mexicans are returned over land (no flights).")
    p.put("seats_per_flight", 135.0, "schema default (assumed); first Venezuela flight carried 127-130 (facts_us.csv "
                                     "rows 86, 91)")

    a = lv.appointments
    p.put("appointments_per_day", series([
        (EARLY, 0, "no scheduling before launch"),
        (dt.date(2023, 1, 18), a["pre_may"], "observed/events.csv 2023-01-18 row (launch); value derived above"),
        (dt.date(2023, 5, 12), a["may"], "observed/events.csv 2023-05-11 row: 1,000/day from 2023-05-12"),
        (dt.date(2023, 6, 1), a["jun"], "facts_us.csv row 100 (June 2023; day assumed)"),
        (dt.date(2023, 6, 30), a["jul"], "observed/events.csv 2023-06-30 row")]),
        above=f"CBP One slots per day. Before 2023-05-12: derived {a['pre_may']:.0f}/day = (>{a['cum']:,.0f} scheduled "
              f"2023-01-18..06-30 ({a['c_cum']}) - >{a['may_jun']:,.0f} processed 05-12..06-23 ({a['c_mj']}) - 6 "
              f"days x {a['jun']:.0f} - 1 day x {a['jul']:.0f} - an assumed {BOOK_AHEAD}-day booking window x "
              f"{a['jul']:.0f}) / 113 days. Later steps: " + a["cite"] + "; the exact date of the 1,250 step in June "
              "is not given (2023-06-01 assumed).")

    pa = lv.parole
    parole = Commented(indent=4)
    chnv_row = "observed/events.csv 2023-01-09 row (CHNV)"
    parole.put("Venezuela", series([
        (EARLY, 0, ""),
        (dt.date(2022, 10, 18), pa["ven_phase1"], "observed/events.csv 2022-10-12 row (applications from 2022-10-18)"),
        (dt.date(2023, 1, 9), pa["per_month"]["Venezuela"], chnv_row)]))
    for n in ("Cuba", "Haiti", "Nicaragua"):
        parole.put(n, series([(EARLY, 0, ""), (dt.date(2023, 1, 9), pa["per_month"][n], chnv_row)]))
    p.put("parole_per_month", parole.map,
          above=f"parole: the CHNV cap of {pa['cap']:,.0f} travel authorisations a month combined ({pa['c_cap']}) split "
                f"by arrivals to end Dec 2023 ({pa['row']['cite']}: "
                + ", ".join(f"{k} {v:,.0f}" for k, v in pa["counts"].items())
                + f"). Venezuela's first phase (2022-10-18..2023-01-08): derived ({pa['ven_entered']:,.0f} entered + "
                f"~{pa['ven_authorised']:,.0f} authorised) / {pa['ven_days']} days x 30.4 = {pa['ven_phase1']:,.0f}/month "
                f"({pa['c_v']}).")
    p.put("regime", series([
        (EARLY, "title42", "Title 42 in force since March 2020 (facts_us.csv row 53)"),
        (dt.date(2023, 5, 12), "title8", "observed/events.csv 2023-05-11 row: Title 42 ends; Circumvention of Lawful "
                                         "Pathways rule"),
        (dt.date(2024, 6, 5), "title8_restricted", "observed/events.csv 2024-06-04 row: Proclamation 10773 effective "
                                                   "2024-06-05")]))
    p.put("development_aid", {}, "none in the baseline",
          above="Proclamation 10773 suspends entry while the 7-day average is >=2,500/day and lifts 14 days after it "
                "falls below 1,500 (events.csv 2024-06-04 row); the scenario applies it from 2024-06-05 for the rest "
                "of 2024 (the threshold rule could be expressed in `rules:` once the engine supports them).")
    p.put("sanctions_relief", {}, "none in the baseline")
    p.put("push_delay_days", 120, "assumed")
    return p.map
