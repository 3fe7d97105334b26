"""Crossings: every land port with its trade and CBP One appointment share, the sub-crossings events.csv closes,
the two rail bridges, and one between-ports stretch per border city."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from .facts import Facts, matched_number
from .inputs import Observed
from .places import BORDER_IDS, DISPLAY, SECTOR_OF_CITY, Geography

CBP_ONE_PORTS = ["San Ysidro", "Calexico", "Nogales", "El Paso", "Eagle Pass", "Laredo", "Hidalgo", "Brownsville"]
SUB_CROSSINGS = [  # closed separately in events.csv: id, name, parent port, the events.csv rows
    ("san-ysidro-pedwest", "San Ysidro PedWest (pedestrian)", "San Ysidro", "2023-09-14 and 2023-12-09 rows"),
    ("eagle-pass-bridge-1", "Eagle Pass International Bridge 1 (vehicles)", "Eagle Pass", "2023-11-27 row"),
    ("nogales-morley-gate", "Nogales Morley Gate (pedestrian)", "Nogales", "2023-09-25 row"),
]


def slug(s: str) -> str:
    """An id from a name: lower case, accents dropped, runs of other characters as one dash."""
    s = s.lower().replace("á", "a").replace("é", "e").replace("í", "i").replace("ó", "o").replace("ú", "u")
    return re.sub(r"[^a-z0-9]+", "-", s).strip("-")


def redeploy_capacity(persons: float) -> float:
    """People a day of extra Border Patrol processing a closed port frees, by its 2018 inbound persons (assumed)."""
    return 50.0 if persons < 2e6 else (100.0 if persons < 1e7 else 200.0)


@dataclass
class Crossings:
    """The `crossings:` items and the rules quoted in the comment above them."""
    items: list[dict]
    appointment_rule: str
    redeploy_rule: str
    truck_rule: str
    appointment_shares: dict[str, float]
    derived: dict[str, float] = field(default_factory=dict)   # for `--explain`


def appointment_shares(F: Facts, ports: pd.DataFrame) -> tuple[dict[str, float], str]:
    """CBP One slots by port: the field offices' split of OFO Title 8 inadmissibles (Oct-Dec 2023), then 2018
    pedestrians within a field office; the biggest share takes the rounding so that they sum to 1."""
    fo = F.row("us", 57, "credible-fear inadmissibles issued NTA, Oct-Dec 2023")
    fo_split = {o: matched_number(o + r" ~([\d,]+)", fo["value"], fo["cite"])
                for o in ("El Paso", "Laredo", "San Diego", "Tucson")}
    ped = {p: float(ports.loc[ports.port_name == p, "bts_2018_inbound_pedestrians"].iloc[0]) for p in CBP_ONE_PORTS}
    fo_of = {p: ports.loc[ports.port_name == p, "ofo_field_office"].iloc[0] for p in CBP_ONE_PORTS}
    tot_fo = sum(fo_split.values())
    out = {}
    for p in CBP_ONE_PORTS:
        same = [q for q in CBP_ONE_PORTS if fo_of[q] == fo_of[p]]
        out[p] = fo_split[fo_of[p]] / tot_fo * ped[p] / sum(ped[q] for q in same)
    r = {p: round(v, 4) for p, v in out.items()}
    biggest = max(r, key=r.get)
    r[biggest] = round(1 - sum(v for k, v in r.items() if k != biggest), 4)
    rule = ("assumed split of CBP One slots over the 8 ports that took appointments: by OFO field office in proportion "
            "to Title 8 inadmissibles Oct-Dec 2023 (El Paso ~7,600/mo, Laredo ~24,400, San Diego ~15,800, Tucson "
            "~4,000: " + fo["cite"] + "), then within a field office by 2018 inbound pedestrians (observed/"
            "us_mexico_ports_of_entry.csv); cross-check: Tijuana ~400/day of 1,450 ("
            + F.cite("transit", 175, "CBP One entries via Tijuana") + "), Reynosa+Matamoros ~500/day ("
            + F.cite("transit", 168, "Migrants waiting for CBP One in Tamaulipas") + ")")
    return r, rule


def build_crossings(F: Facts, obs: Observed, places: Geography) -> Crossings:
    """Every crossing of the scenario, in the order the YAML lists them."""
    PORTS, geo = obs.ports, places.geo

    # value of two-way trade carried per inbound truck (for ports without a facts figure)
    LAREDO_TRADE, c_lt = F.num("us", 121, "Port Laredo total two-way trade", r"\$([\d,]+) billion")
    TRUCK_SHARE, c_ts = F.num("us", 127, "trade share by mode", r"truck ([\d.]+)%")
    LAREDO_TRUCKS, c_lk = F.num("us", 123, "Port Laredo inbound truck", r"([\d,]+) inbound")
    USD_PER_TRUCK = LAREDO_TRADE * 1e9 * TRUCK_SHARE / 100 / LAREDO_TRUCKS
    truck_rule = (f"derived: 2018 BTS inbound trucks (observed/us_mexico_ports_of_entry.csv) x US${USD_PER_TRUCK:,.0f} "
                  f"of two-way trade per inbound truck (= Laredo $320B x truck share 72.2% / 2,936,130 inbound trucks: "
                  f"{c_lt}; {c_ts}; {c_lk}) / 365")
    RAIL_TRADE, c_rt = F.num("us", 115, "rail traffic via El Paso + Eagle Pass", r"\$([\d.]+) billion")
    railcars = F.row("us", 126, "US-Mexico rail crossings historical")
    EP_CARS = matched_number(r"Eagle Pass ([\d,]+)", railcars["value"], railcars["cite"])
    ELP_CARS = matched_number(r"El Paso ([\d,]+)", railcars["value"], railcars["cite"])
    EAGLE_RAIL_SHARE = EP_CARS / (EP_CARS + ELP_CARS)
    EAGLE_TRADE, c_et = F.num("us", 125, "Port of Eagle Pass two-way trade", r"\$([\d.]+) billion")
    ELP_DISTRICT, c_ed = F.num("us", 114, "Laredo and El Paso customs districts", r"El Paso \$([\d.]+) billion")

    appt, appt_rule = appointment_shares(F, PORTS)
    redeploy_rule = ("assumed: people/day of extra processing in the sector when closed, by 2018 inbound persons: 50 "
                     "(<2M), 100 (2-10M), 200 (>10M); scale: at 1.5 h per person ("
                     + F.cite("us", 35, "Optimal processing time") + ") one officer processes ~5 people per 8-h "
                     "shift, so 100/day ~ 20 officers (731 were reassigned border-wide in 2019: "
                     + F.cite("us", 136, "CBP officers reassigned") + ")")

    items: list[dict] = []
    for _, p in PORTS.iterrows():
        lat, lon = p.lat, p.lon
        csrc = [f"observed/us_mexico_ports_of_entry.csv row '{p.port_name}' (BTS port {p.bts_port_code})"]
        if pd.isna(lat):
            lat, lon = 29.18, -102.96
            csrc.append("coordinates assumed (the file has none for Boquillas; approximate Boquillas crossing)")
        city = places.nearest_border_city(float(lat), float(lon), p.usbp_sector_containing)
        csrc.append(f"city: nearest border city in the port's sector to the port ({p.mexican_city} in the file)")
        if p.port_name == "Laredo":
            trade = LAREDO_TRADE * 1e9 / 365
            tsrc = f"trade: {c_lt} / 365 (includes the Laredo rail bridge, not modelled separately)"
        elif p.port_name == "Eagle Pass":
            road = EAGLE_TRADE - RAIL_TRADE * EAGLE_RAIL_SHARE
            trade = road * 1e9 / 365
            tsrc = (f"trade: derived, Eagle Pass 2023 two-way trade ${EAGLE_TRADE}B ({c_et}) minus its rail bridge "
                    f"share (${RAIL_TRADE}B x {EAGLE_RAIL_SHARE:.3f}, see eagle-pass-rail-bridge) = ${road:.2f}B/yr / "
                    "365; all road trade put on this crossing (commercial traffic; Bridge 1 carries passenger "
                    "vehicles, assumed)")
        elif p.port_name == "El Paso":
            others = ["Santa Teresa", "Columbus", "Tornillo-Fabens", "Presidio", "Boquillas"]
            other_trade = sum(float(PORTS.loc[PORTS.port_name == q, "bts_2018_inbound_trucks"].iloc[0]) * USD_PER_TRUCK
                              for q in others) / 1e9
            road = ELP_DISTRICT - RAIL_TRADE * (1 - EAGLE_RAIL_SHARE) - other_trade
            trade = road * 1e9 / 365
            tsrc = (f"trade: derived, El Paso customs district 2018 ${ELP_DISTRICT}B ({c_ed}) minus the El Paso rail "
                    f"bridge (${RAIL_TRADE * (1 - EAGLE_RAIL_SHARE):.2f}B) minus the district's other ports by the "
                    f"truck rule (${other_trade:.2f}B) = ${road:.2f}B/yr / 365")
        else:
            trade = float(p.bts_2018_inbound_trucks) * USD_PER_TRUCK / 365
            tsrc = (f"trade: {float(p.bts_2018_inbound_trucks):,.0f} inbound trucks in 2018 x the truck rule (comment "
                    "above `crossings:`)")
        share = appt.get(p.port_name, 0.0)
        csrc.append(tsrc)
        csrc.append("appointment_share: derived (rule in the comment above `crossings:`)" if share
                    else "appointment_share: 0 (no CBP One appointments here)")
        csrc.append("redeploy_capacity: assumed (rule in the comment above `crossings:`)")
        items.append({
            "id": slug(p.port_name), "name": f"{p.port_name} port of entry", "kind": "port", "city": city,
            "sector": p.usbp_sector_containing, "lat": float(lat), "lon": float(lon), "appointment_share": share,
            "redeploy_capacity": redeploy_capacity(float(p.bts_2018_inbound_persons)),
            "trade_usd_per_day": round(trade, -3), "source": "; ".join(csrc)})

    def port(name):
        return PORTS[PORTS.port_name == name].iloc[0]

    for cid, name, parent, ev in SUB_CROSSINGS:
        p = port(parent)
        items.append({
            "id": cid, "name": name, "kind": "port",
            "city": places.nearest_border_city(p.lat, p.lon, p.usbp_sector_containing),
            "sector": p.usbp_sector_containing, "lat": float(p.lat), "lon": float(p.lon), "appointment_share": 0.0,
            "redeploy_capacity": 100.0, "trade_usd_per_day": 0.0,
            "source": (f"named in observed/events.csv ({ev}); coordinates of the parent port ({parent}, observed/"
                       "us_mexico_ports_of_entry.csv); trade 0: pedestrians/passenger vehicles only, commercial traffic "
                       "stays on the parent port (assumed; local retail losses such as "
                       + F.cite("us", 130, "Mexican visitor spending") + " are not counted); redeploy_capacity 100: "
                       "assumed (officers freed to help Border Patrol, per events.csv)")})

    for cid, parent, share in (("eagle-pass-rail-bridge", "Eagle Pass", EAGLE_RAIL_SHARE),
                               ("el-paso-rail-bridge", "El Paso", 1 - EAGLE_RAIL_SHARE)):
        p = port(parent)
        items.append({
            "id": cid, "name": f"{parent} international railway bridge", "kind": "rail_bridge",
            "city": places.nearest_border_city(p.lat, p.lon, p.usbp_sector_containing),
            "sector": p.usbp_sector_containing,
            "lat": float(p.lat), "lon": float(p.lon), "appointment_share": 0.0, "redeploy_capacity": 50.0,
            "trade_usd_per_day": round(RAIL_TRADE * 1e9 * share / 365, -3),
            "source": (f"trade: derived, ${RAIL_TRADE}B over both rail bridges Nov 2022-Oct 2023 ({c_rt}) split by "
                       f"incoming rail cars (Eagle Pass {EP_CARS:,.0f} vs El Paso {ELP_CARS:,.0f}: {railcars['cite']}; "
                       f"share {share:.3f}) / 365; closure cost cross-check ~$200M/day for both ("
                       + F.cite("us", 116, "Economic cost of Dec 2023") + "); coordinates of the town's port "
                       "(observed/us_mexico_ports_of_entry.csv); redeploy_capacity 50: assumed")})

    # one stretch between ports per border city (the engine keeps one between-ports crossing per city)
    for sector in obs.sectors.sector:
        cities = [b for b in BORDER_IDS if SECTOR_OF_CITY[b] == sector]
        for k, b in enumerate(cities):
            cid = f"between-ports-{slug(sector)}" + ("" if k == 0 else f"-{b}")
            items.append({
                "id": cid, "name": f"Between ports, {sector} sector ({DISPLAY[b]})",
                "kind": "between_ports", "city": b, "sector": sector, "lat": geo[b][1], "lon": geo[b][2],
                "appointment_share": 0.0, "redeploy_capacity": 0.0, "trade_usd_per_day": 0.0,
                "source": ("one irregular-crossing stretch per border city; coordinates of the city (observed/"
                           "route_nodes_geonames.csv); no trade, no officers to redeploy")})

    return Crossings(items, appt_rule, redeploy_rule, truck_rule, appt,
                     {"usd_per_truck": USD_PER_TRUCK, "eagle_rail_share": EAGLE_RAIL_SHARE})
