"""The nine Border Patrol sectors: processing and holding capacity and the gotaway share, derived from the facts
rows that give border-wide or per-sector figures and the FY2023 sector shares."""
from __future__ import annotations

from dataclasses import dataclass

from .facts import Facts
from .inputs import Observed
from .places import Geography


@dataclass
class Sectors:
    items: list[dict]
    gotaway_oct22: float        # known gotaways / (gotaways + USBP encounters), Oct 2022
    gotaway_q1fy24: float       # the same, Oct - mid Dec 2023


def usbp_encounters(obs: Observed, months: list[str]) -> float:
    m = obs.monthly
    return float(m[(m.series == "usbp_encounters") & (m.month.isin(months))].value.sum())


def build_sectors(F: Facts, obs: Observed, places: Geography) -> Sectors:
    """The `sectors:` items, in the order of observed/usbp_sw_sectors.csv."""
    sector_share = dict(zip(obs.sectors.sector, obs.sectors.share_fy2023))
    HOLD_TOTAL, c_ht = F.num("us", 32, "USBP custody and capacity utilization, early Dec 2023", r"capacity ~([\d,]+)")
    RGV_HOLD, c_rgv = F.num("us", 16, "RGV sector custody vs capacity", r"capacity ([\d,]+)")
    DR_HOLD, c_dr = F.num("us", 21, "Sector custody vs capacity", r"Del Rio <([\d,]+)", col="quote_or_note")
    LRT_HOLD, _ = F.num("us", 21, "Sector custody vs capacity", r"Laredo ~([\d,]+)", col="quote_or_note")
    ELP_HOLD, _ = F.num("us", 21, "Sector custody vs capacity", r"El Paso ~([\d,]+)", col="quote_or_note")
    known_hold = {"Rio Grande Valley": (RGV_HOLD, c_rgv + " (May 2023)"),
                  "Del Rio": (DR_HOLD, c_dr + " ('capacity <1,900', Sep 2023)"),
                  "Laredo": (LRT_HOLD, c_dr + " (implied ~2,200, derived by the compiler)"),
                  "El Paso": (ELP_HOLD, c_dr + " (implied ~5,000, derived by the compiler)")}
    PROC_TOTAL, c_pt = F.num("us", 36, "USBP daily apprehensions and total CBP daily encounters",
                             r"USBP ([\d,]+) \(Dec 18\)")
    GOT_OCT22, c_g = F.num("us", 177, "Known gotaways", r">([\d,]+) in Oct 2022")
    GOT_Q1FY24, _ = F.num("us", 177, "Known gotaways", r"~([\d,]+) Oct 1")

    u_oct22 = usbp_encounters(obs, ["2022-10"])
    u_q1 = usbp_encounters(obs, ["2023-10", "2023-11"]) + usbp_encounters(obs, ["2023-12"]) * 15 / 31
    GOT_A = GOT_OCT22 / (GOT_OCT22 + u_oct22)
    GOT_B = GOT_Q1FY24 / (GOT_Q1FY24 + u_q1)
    GOTAWAY = round((GOT_A + GOT_B) / 2, 2)

    items = []
    rest = HOLD_TOTAL - sum(v for v, _ in known_hold.values())
    rest_share = sum(sector_share[s] for s in sector_share if s not in known_hold)
    for s in obs.sectors.sector:
        sh = sector_share[s]
        if s in known_hold:
            hold, hsrc = known_hold[s][0], "holding_capacity: " + known_hold[s][1]
        else:
            hold = round(rest * sh / rest_share, -1)
            hsrc = (f"holding_capacity: derived, SW border total ~{HOLD_TOTAL:,.0f} ({c_ht}; other figures "
                    "10,000-16,000: " + F.cite("us", 30, "stated SW border capacity") + "; "
                    + F.cite("us", 28, "DHS contingency plan") + f") minus the four sectors with a figure, split by "
                    f"FY2023 share ({sh} of the rest's {rest_share:.4f}; observed/usbp_sw_sectors.csv share_fy2023)")
        proc = round(PROC_TOTAL * sh, 0)
        items.append({
            "name": s, "city": places.sector_place[s], "processing_capacity": float(max(proc, 50.0)),
            "holding_capacity": float(hold), "gotaway_share": GOTAWAY,
            "source": (f"processing_capacity: derived, the highest reported Border Patrol daily processing, "
                       f"{PROC_TOTAL:,.0f} on 2023-12-18 ({c_pt}), split by FY2023 sector share {sh} (observed/"
                       f"usbp_sw_sectors.csv); initial guess, to be fitted; {hsrc}; gotaway_share: derived, known "
                       f"gotaways / (gotaways + USBP encounters): Oct 2022 {GOT_A:.2f}, Oct-mid Dec 2023 "
                       f"{GOT_B:.2f} ({c_g}; observed/monthly.csv), mean")})
    return Sectors(items, GOT_A, GOT_B)
