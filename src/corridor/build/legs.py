"""Legs, modes, costs and checkpoints: every directed leg of the corridor with its distance, time, fare and the
inspection posts it passes, each value citing its facts row or saying which default rule applied."""
from __future__ import annotations

from .facts import Facts
from .inputs import Observed
from .places import Geography, great_circle_km

# exchange rates (assumed, 2022-2023 averages) to convert fares quoted in local currency
MXN_PER_USD = 17.5
COP_PER_USD = 4700.0
GTQ_PER_USD = 7.8
FX_NOTE = f"assumed exchange rates {MXN_PER_USD} MXN, {COP_PER_USD:.0f} COP, {GTQ_PER_USD} GTQ per USD"

ROAD_FACTOR = 1.3
SPEED = {"bus": 600.0, "train": 300.0, "truck": 500.0, "foot": 25.0, "boat": 100.0}   # km per day, assumed
DET = {"bus": 0.10, "train": 0.05, "truck": 0.03, "foot": 0.05, "air": 0.15, "boat": 0.05}  # per passage, guesses
BUS_USD_KM = round(1800 / MXN_PER_USD / 1900, 3)            # facts_transit row 85
TRUCK_USD_KM = round(3500 / 2900, 2)                         # facts_transit row 90, ~2,900 km Tapachula–border
TRAIN_USD_KM = 0.02
SOUTH_MX = {"ciudad-hidalgo", "tapachula", "tuxtla", "arriaga", "juchitan", "oaxaca", "tenosique", "palenque",
            "villahermosa", "coatzacoalcos", "orizaba", "apizaco", "puebla", "cancun", "chilpancingo"}
SOUTH_AMERICA = {"VE", "CO", "EC", "PE", "CL", "BR"}


def cost_rules(F: Facts) -> dict[str, str]:
    """Where a leg's fare comes from when no facts row gives one, by mode."""
    return {
        "bus": f"derived: US${BUS_USD_KM}/km from the regular Tapachula–Mexico City fare (1,800 MXN for >1,900 km, "
               + F.cite("transit", 85, "Bus fare & time Tapachula") + f"; {FX_NOTE})",
        "truck": f"derived: US${TRUCK_USD_KM}/km = smuggler price for transit through Mexico only, US$3,000-4,000 ("
                 + F.cite("transit", 90, "Coyote price ranges") + "), over ~2,900 road km Tapachula–border",
        "train": f"assumed: US${TRAIN_USD_KM}/km (freight trains carry riders without fare; allowance for extortion "
                 "'cuotas')",
        "foot": "assumed: 0 (walking; food and lodging not counted)",
        "boat": "assumed",
        "air": "assumed: US$150 + US$0.08 per great-circle km (one-way fare, order of magnitude)",
    }


class Legs:
    """The legs in scenario order; `add` derives what a leg's facts do not give and records why in its source."""

    def __init__(self, F: Facts, places: Geography) -> None:
        self.F = F
        self.places = places
        self.geo = places.geo
        self.cost_rule = cost_rules(F)
        self.items: list[dict] = []

    def fact_days(self, table, line, expect, value, what):
        """A travel time from a facts row: (days, "what (citation)")."""
        return (value, f"{what} ({self.F.cite(table, line, expect)})")

    def add(self, frm, to, mode, *, km=None, days=None, cost=None, insp=None, cap=None, visa=False, counts=None,
            region=None, note=None):
        """Add a directed leg. km/days/cost: (value, source) from facts, or None for the default rule.

        insp: (name, n_posts, source) — an inspection passage; detection per passage at enforcement 1.0 is
        1 - (1 - DET[mode]) ** n_posts (several posts bypassed by one long leg compound), an initial guess.
        """
        (c1, la1, lo1, _), (c2, la2, lo2, _) = self.geo[frm], self.geo[to]
        gc = great_circle_km(la1, lo1, la2, lo2)
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
            src.append(f"cost: {self.cost_rule[mode]}")
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
        self.items.append(item)


def south_america(b: Legs) -> None:
    """South America to Necoclí and through the Darién."""
    F, leg, fact_days = b.F, b.add, b.fact_days
    leg("caracas", "san-cristobal", "bus")
    leg("caracas", "cucuta", "bus")
    leg("maracaibo", "cucuta", "bus")
    leg("san-cristobal", "cucuta", "bus")
    leg("san-cristobal", "cucuta", "foot",
        note="walking across the Simón Bolívar bridge / trochas (assumed parallel)")
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
        days=(6.0, "typical 5-8 days in the jungle (" + F.cite("transit", 98, "Darién crossing duration (typical)")
              + "; " + F.cite("transit", 81, "Darién crossing time") + "; "
              + F.cite("transit", 76, "Darién walking time")
              + "), range 2.5-10 (" + F.cite("transit", 74, "Darién crossing packages") + "; "
              + F.cite("transit", 73, "Darién guide fee") + ")"),
        cost=(320.0, F.cite("transit", 74, "Darién crossing packages") + ": Capurganá/Acandí route package $320"))


def central_america(b: Legs) -> None:
    """Panama to Guatemala, and the Central American origins."""
    F, leg, fact_days = b.F, b.add, b.fact_days
    leg("lajas-blancas", "paso-canoas", "bus",
        cost=(60.0, F.cite("transit", 153, "Flujo Controlado") + ": US$60 to Paso Canoas"))
    leg("paso-canoas", "penas-blancas", "bus",
        cost=(30.0, F.cite("transit", 154, "Costa Rica bus fare") + ": US$30"))
    leg("penas-blancas", "managua", "bus",
        cost=(150.0 + round(BUS_USD_KM * 0, 1),
              F.cite("transit", 148, "Nicaragua transit 2023")
              + ": US$150/person 'salvoconducto' (fare itself not counted)"))
    leg("managua", "danli", "bus")
    leg("danli", "tegucigalpa", "bus")
    leg("tegucigalpa", "san-pedro-sula", "bus")
    leg("san-pedro-sula", "guatemala-city", "bus", note="via Corinto / Agua Caliente")
    leg("san-pedro-sula", "el-ceibo", "bus", note="via Petén (assumed route)")
    leg("managua", "guatemala-city", "bus",
        km=(800.0, F.cite("transit", 149, "Bus Managua → Guatemala City")
            + ": ~800 km via El Guasaule and El Salvador"),
        days=fact_days("transit", 149, "Bus Managua → Guatemala City", 2.0, "2 days"),
        cost=(round(40 + BUS_USD_KM * 800), F.cite("transit", 149, "Bus Managua → Guatemala City")
              + f": US$40 bribe at the Honduran border + bus at US${BUS_USD_KM}/km (derived)"))
    leg("san-salvador", "guatemala-city", "bus")
    leg("guatemala-city", "quetzaltenango", "bus")
    leg("guatemala-city", "tecun-uman", "bus")
    leg("quetzaltenango", "tecun-uman", "bus")
    leg("guatemala-city", "el-ceibo", "bus", note="via Petén")


def guatemala_to_mexico(b: Legs) -> None:
    """Across the Suchiate and at El Ceibo."""
    F, leg, fact_days = b.F, b.add, b.fact_days
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


def southern_mexico(b: Legs) -> None:
    """Chiapas, the Isthmus, Tabasco and Veracruz to Puebla and Mexico City."""
    F, leg, fact_days = b.F, b.add, b.fact_days
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
               F.cite("transit", 40, "Highway checkpoint seizures") + "; "
               + F.cite("transit", 62, "Late-October 2023 caravan"))
    leg("juchitan", "coatzacoalcos", "bus", insp=ISTHMUS)
    leg("juchitan", "coatzacoalcos", "train", insp=ISTHMUS,
        note="Ferrocarril del Istmo, Ixtepec–Medias Aguas–Coatzacoalcos")
    leg("juchitan", "coatzacoalcos", "foot", insp=ISTHMUS, note="caravans crossed the Isthmus on foot ("
        + F.cite("transit", 62, "Late-October 2023 caravan") + ")")
    leg("juchitan", "oaxaca", "bus")
    leg("tapachula", "mexico-city", "bus",
        km=(1900.0, F.cite("transit", 85, "Bus fare & time Tapachula") + ": >1,900 km"),
        days=fact_days("transit", 85, "Bus fare & time Tapachula", 0.8, "18-20 h"),
        cost=(round(1800 / MXN_PER_USD),
              F.cite("transit", 85, "Bus fare & time Tapachula") + f": 1,800 MXN; {FX_NOTE}"),
        insp=("Hwy 200 posts, Tapanatepec, La Ventosa (through bus)", 3, C25 + "; " + TAPANATEPEC))
    leg("tapachula", "tijuana", "bus",
        cost=(round(2500 / MXN_PER_USD),
              F.cite("transit", 86, "Irregular ('los tijuanos')") + f": 2,500 MXN; {FX_NOTE}"),
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
        insp=("National Guard guarding trains at Coatzacoalcos", 1,
              F.cite("transit", 115, "Coatzacoalcos train waits")))
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


def northern_mexico(b: Legs) -> None:
    """Central and northern Mexico to the border cities."""
    F, leg, fact_days = b.F, b.add, b.fact_days
    leg("morelia", "guadalajara", "bus")
    leg("morelia", "queretaro", "bus")
    leg("mexico-city", "queretaro", "bus")
    leg("mexico-city", "queretaro", "train",
        note="Ferromex/CPKC from Huehuetoca (" + F.cite("transit", 116, "Huehuetoca") + ")")
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
        note="through train Irapuato–Torreón–Chihuahua–Juárez ("
             + F.cite("transit", 112, "Puente Siglo XXI") + ")")
    leg("torreon", "saltillo", "train")
    leg("torreon", "saltillo", "bus")
    leg("torreon", "monterrey", "train",
        note=F.cite("transit", 112, "Puente Siglo XXI") + ": Torreón then Juárez or Monterrey")
    leg("saltillo", "monterrey", "bus")
    leg("saltillo", "monterrey", "train")
    HWY57 = ("INM checkpoint at km 53 of Hwy 57 (Castaños/Monclova)", 1,
             F.cite("transit", 106, "Train arrivals at Piedras Negras") + "; "
             + F.cite("transit", 104, "Castaños/Monclova"))
    leg("monterrey", "piedras-negras", "train", note=F.cite("transit", 106, "Train arrivals at Piedras Negras")
        + "; " + F.cite("transit", 104, "Castaños/Monclova"))
    leg("monterrey", "piedras-negras", "bus", insp=HWY57)
    leg("saltillo", "piedras-negras", "bus", insp=HWY57)
    leg("saltillo", "ciudad-acuna", "bus", insp=HWY57)
    leg("piedras-negras", "ciudad-acuna", "bus")
    NL = ("Nuevo León highway posts", 1,
          F.cite("transit", 40, "Highway checkpoint seizures") + ": Nuevo León among states; "
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
        cost=(round(1400 / MXN_PER_USD),
              F.cite("transit", 87, "Bus fare CDMX") + f": informal line up to 1,400 MXN for "
              f"irregular foreigners; {FX_NOTE}"),
        insp=SLP[:1] + (1,) + SLP[2:])
    leg("mexico-city", "monterrey", "truck", insp=SLP)
    leg("mexico-city", "ciudad-juarez", "truck", insp=(SLP[0] + "; Hwy 45 posts", 2, SLP[2]))
    leg("mexico-city", "hermosillo", "truck",
        insp=("Pacific highway posts (Sinaloa/Sonora)", 2, "assumed location; brief (northern highway posts)"))
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


def air(b: Legs, obs: Observed) -> None:
    """Flights: charters to Managua, flights into Mexico (visa-gated), and domestic flights."""
    F, leg = b.F, b.add
    HAITI_CAP = round(31000 / 91)
    leg("havana", "managua", "air", cost=(3000.0, F.cite("transit", 152, "Cuba→Managua flights") + ": min ~US$3,000"),
        cap=(900.0, "derived: up to 9 flights a day x >=100 passengers ("
             + F.cite("transit", 152, "Cuba→Managua flights") + ")"),
        note="Nicaragua visa-free for Cubans since Nov 2021 (" + F.cite("transit", 160, "Nicaragua visa-free") + ")")
    leg("port-au-prince", "managua", "air",
        cost=(4000.0, F.cite("transit", 150, "Haiti→Managua charter") + ": US$3,000-5,000"),
        cap=(float(HAITI_CAP), "derived: ~31,000 passengers Aug-Oct 2023 / 91 days ("
             + F.cite("transit", 150, "Haiti→Managua charter") + "); the charters ran Aug 2023 - 30 Oct 2023 only, "
             "which a leg cannot express (schema has no dated leg availability)"))
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
    leg("delhi", "quito", "air",
        note="Indians among Darién crossers (" + F.cite("transit", 183, "Darién crossings 2022") + ")")
    leg("sao-paulo", "bogota", "air")
    # Ecuadorians reached the US border far more often than they crossed the Darién, so most of them came another way.
    cit = obs.by_citizenship
    EC_ENC = int(cit[(cit.citizenship == "ECUADOR") & cit.month.between("2023-01", "2023-09")].encounters.sum())
    EC_DARIEN, c_ecd = F.num("transit", 181, "Darién crossings Jan–Sep 2023 by region", r"Ecuador ([\d,]+)")
    leg("guayaquil", "san-salvador", "air",
        cost=(6000.0, "assumed: a smuggler's air package, within the US$4,000-20,000 coyote prices by origin ("
              + F.cite("transit", 90, "Coyote price ranges by origin") + "); it does not decide who flies: from "
              "Guayaquil the flight is the only way on, and the share of Ecuadorians who leave from Guayaquil is fitted"),
        note=f"assumed route (no facts row describes it): a flight from Ecuador to Central America north of "
             f"Nicaragua (San Salvador stands for it) that skips the Darién; evidence that most Ecuadorians came another way: "
             f"{EC_ENC:,} SW encounters of Ecuadorians in Jan-Sep 2023 (observed/cbp_sw_encounters_monthly_by_"
             f"citizenship.csv) against {EC_DARIEN:,.0f} Ecuadorian Darién crossings ({c_ecd})")
    AIRPORT = ("INM airport checks (domestic flight)", 1, "assumed")
    leg("cancun", "mexico-city", "air", insp=AIRPORT)
    leg("mexico-city", "tijuana", "air", insp=AIRPORT,
        note=F.cite("transit", 93, "Coyote price for Hondurans") + ": premium trips with internal flights in Mexico")


def build_legs(F: Facts, obs: Observed, places: Geography) -> list[dict]:
    """Every leg of the scenario, in the order the YAML lists them."""
    b = Legs(F, places)
    for region in (south_america, central_america, guatemala_to_mexico, southern_mexico, northern_mexico):
        region(b)
    air(b, obs)
    return b.items
