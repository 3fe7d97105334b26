"""Mexico's deportation share of the migrants it detains: derived by year for the Northern Triangle, small for
the rest, and paused in December 2023 when INM ran out of funds."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .emit import Flow
from .facts import Facts, matched_number
from .inputs import EARLY

# INM suspended deportations for lack of resources in December 2023 (the row gives the month, not the day: 1 December
# assumed); they resume with the stepped-up enforcement after the 27 December talks (policies.mexico_enforcement),
# when Mexico also restarted flights to Venezuela (29-30 December).
DEPORT_PAUSE = (dt.date(2023, 12, 1), dt.date(2023, 12, 28))


@dataclass
class Deportation:
    northern_triangle: list[tuple[dt.date, float]]   # the yearly ratio steps
    northern_triangle_src: str
    others_src: str
    pause_src: str
    ratios: tuple[float, float]                       # 2022, 2023 (unrounded, for `--explain`)

    def steps(self, dep) -> list[Flow]:
        """A nationality's deportation share ("NTCA" or a constant) as a dated series, with December 2023's pause."""
        steps = list(self.northern_triangle) if dep == "NTCA" else [(EARLY, dep)]
        year_value = steps[-1][1]
        steps += [(DEPORT_PAUSE[0], 0.0), (DEPORT_PAUSE[1], year_value)]
        return [Flow({"from": d, "value": v}) for d, v in steps]


def build_deportation(F: Facts) -> Deportation:
    """Northern Triangle: deportations from Mexico over NT detention events, each year from the facts rows."""
    DEP22, c_d22 = F.num("transit", 43, "Deportations of Guatemalans", r"([\d,]+) \(2022\)")
    HN22, c_e22 = F.num("transit", 34, "Events of irregular migrants in Mexico 2022", r"Honduras ([\d,]+)")
    GT22, _ = F.num("transit", 34, "Events of irregular migrants in Mexico 2022", r"Guatemala ([\d,]+)")
    Q1 = F.row("transit", 26, "Foreigners presented or channelled, Q1 2022")
    SV_GT = (matched_number(r"El Salvador ([\d.]+)%", Q1["value"], Q1["cite"])
             / matched_number(r"Guatemala ([\d.]+)%", Q1["value"], Q1["cite"]))
    NTCA22 = HN22 + GT22 * (1 + SV_GT)
    DEP_RATIO_22 = DEP22 / NTCA22
    R47 = F.row("transit", 47, "Returns (devueltos) from Mexico")
    DEP23 = sum(matched_number(k + r" ([\d,]+)", R47["value"], R47["cite"])
                for k in ("Guatemala", "Honduras", "El Salvador"))
    J23 = F.row("transit", 11, "Events of persons in irregular migration situation (presented + channelled), January")
    GT_J = matched_number(r"Guatemala ([\d.]+)%", J23["value"], J23["cite"])
    HN_J = matched_number(r"Honduras ([\d.]+)%", J23["value"], J23["cite"])
    EV23, c_ev23 = F.num("transit", 14, "Encounters (eventos) with irregular migrants in Mexico, annual",
                         r"([\d,]+) \(2023\)")
    NTCA23 = EV23 * (GT_J * (1 + SV_GT) + HN_J) / 100
    DEP_RATIO_23 = DEP23 * 12 / 10 / NTCA23
    ntca_src = (f"derived: Northern Triangle deportations from Mexico / NT detention events: 2022 {DEP22:,.0f} / "
                f"~{NTCA22:,.0f} = {DEP_RATIO_22:.2f} ({c_d22}; {c_e22}; El Salvador scaled from Guatemala by "
                f"{Q1['cite']}); 2023 {DEP23:,.0f} in Jan-Oct x 12/10 / ~{NTCA23:,.0f} = {DEP_RATIO_23:.2f} "
                f"({R47['cite']}; {c_ev23}; shares {J23['cite']}); each year's ratio from its 1 January (the 2022 "
                f"one also before)")
    pause_src = ("INM suspended deportations for lack of resources in December 2023 ("
                 + F.cite("transit", 31, "INM deportation suspension") + "; 'INM lacks funds to manage massive "
                 "deportations by plane': " + F.cite("transit", 32, "Internal 'deportation' flights") + "): 0 from "
                 f"{DEPORT_PAUSE[0]} (day assumed) to {DEPORT_PAUSE[1] - dt.timedelta(days=1)}, back to the year's "
                 "value from the day after the 27 December talks (" + F.cite("transit", 52, "Mexico–Venezuela "
                 "repatriation flights restarted") + ")")
    others_src = ("derived: Mexico returned almost no one else: Nicaraguans 327 in Jan-Oct 2023 (" + R47["cite"]
                  + ") of ~40,000 events (" + F.cite("transit", 34, "Events of irregular migrants in Mexico 2022")
                  + "), Cubans 47 in Apr-Aug 2023 (" + F.cite("transit", 51, "Returns of irregular migrants from "
                  "Mexico") + "), Venezuelan flights only from 29 Dec 2023 ("
                  + F.cite("transit", 52, "Mexico–Venezuela repatriation") + "); 0.05 allows air returns of South "
                  "Americans and others")
    steps = [(EARLY, round(DEP_RATIO_22, 2)), (dt.date(2023, 1, 1), round(DEP_RATIO_23, 2))]
    return Deportation(steps, ntca_src, others_src, pause_src, (DEP_RATIO_22, DEP_RATIO_23))
