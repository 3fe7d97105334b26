"""Nationalities: one per CBP citizenship label, with the origins they leave from, their dated splits over
border cities, departures (initial guesses the calibration replaces), the Title 42 share month by month, and
the US and Mexican removal rules that apply to them."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from .border_splits import BorderSplits, Encounters
from .deportation import Deportation
from .emit import Flow
from .facts import Facts
from .inputs import EARLY, Observed

T42_END = dt.date(2023, 5, 12)
T42_MONTH_MIN = 500   # encounters in a month below which the month's share is too noisy: the period's share is used
T42_GROUPS = {"MEXICO": "Mexico", "GUATEMALA": "Guatemala", "HONDURAS": "Honduras", "EL SALVADOR": "El Salvador"}


@dataclass
class Title42Rows:
    """The two tables Title 42 shares are read from."""
    components: pd.DataFrame     # Border Patrol by citizenship group (Mexico, Northern Triangle)
    by_citizenship: pd.DataFrame  # all SW encounters by month, state and citizenship


def title42_rows(t: Title42Rows, key: str, first_month: str) -> tuple[pd.DataFrame, str]:
    """Encounters by title of authority from `first_month` to Apr 2023, and where they come from.

    Mexico and the Northern Triangle: Border Patrol only (component detail). Others: all SW encounters by
    citizenship (no USBP/OFO split exists), a lower bound for the Border Patrol share since ports rarely used
    Title 42.
    """
    if key in T42_GROUPS:
        comp = t.components
        d = comp[(comp.component == "U.S. Border Patrol") & (comp.citizenship_group == T42_GROUPS[key])]
        src = (f"observed/cbp_sw_encounters_monthly_component_detail.csv, Border Patrol, {T42_GROUPS[key]}, "
               f"{first_month}..2023-04: Title 42 / all")
    else:
        d = t.by_citizenship[t.by_citizenship.cit == key]
        src = (f"observed/cbp_sw_encounters_monthly_state_citizenship_detail.csv, {key.title()}, {first_month}..2023-04: "
               "Title 42 / all SW encounters (ports included, so a lower bound for the Border Patrol share)")
    return d[(d.month >= first_month) & (d.month <= "2023-04")], src


def title42_counts(d: pd.DataFrame) -> tuple[float, float, float]:
    """(Title 42 encounters, all encounters, rounded share) of a set of rows."""
    t42 = float(d[d.title_of_authority == "Title 42"].encounters.sum())
    tot = float(d.encounters.sum())
    return t42, tot, (round(t42 / tot, 2) if tot else 0.0)


def title42_share(t: Title42Rows, key: str, first_month: str) -> tuple[float, str]:
    """Observed share of encounters processed under Title 42 over first_month..2023-04, with its citation."""
    d, src = title42_rows(t, key, first_month)
    t42, tot, v = title42_counts(d)
    return v, f"{src} = {t42:,.0f} / {tot:,.0f} = {v}"


def title42_monthly(t: Title42Rows, key: str, first_month: str, period_share: float) -> list[tuple[dt.date, float]]:
    """The observed Title 42 share month by month (same rows as `title42_share`), as (first day, share) steps.

    The share moved within the period (Venezuelans: 0.74 in Nov 2022, when Mexico had just begun to take them
    back, against 0.25 by Jan 2023, when many came through ports with appointments): a single average would
    soften the news the model's migrants hear.
    """
    d, _ = title42_rows(t, key, first_month)
    out = []
    for month, g in d.groupby("month"):
        _, tot, v = title42_counts(g)
        out.append((dt.date.fromisoformat(month + "-01"), v if tot >= T42_MONTH_MIN else period_share))
    return out


def title42_rule(F: Facts) -> str:
    """The cross-checks quoted in the comment above `nationalities:`."""
    return ("cross-checks: " + F.cite("us", 55, "Title 42 vs Title 8, monthly examples")
            + " (Jan 2023: 41.3% of SW encounters under Title 42); "
            + F.cite("us", 50, "USBP Title 8 apprehensions vs Title 42"))


def nationality_table(F: Facts, fitted: bool) -> list[tuple]:
    """CBP label, FY2023 key, origins (weights, source), title42 steps, t8 removal, returnable, mexico deport."""
    return [
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
          "marked `# fitted:`; initial guess 0.5 each)" if fitted else "is an initial guess, to be fitted") + " to the "
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


def build_nationalities(F: Facts, obs: Observed, enc_table: Encounters, splits: BorderSplits,
                        deportation: Deportation, fitted: bool) -> list[dict]:
    """The `nationalities:` items, before fitted values are merged (`fitted` only changes what sources say)."""
    obs_t42 = Title42Rows(obs.components, enc_table.all)
    items = []
    for label, key, (origins, osrc), t42, t8, retn, dep in nationality_table(F, fitted):
        enc = float(enc_table.by_cit[key])
        base = round(enc * 0.8 / 365, 1)
        monthly_note = (f"; month by month (months under {T42_MONTH_MIN} encounters take the period's share), the first "
                        "month's share also before it")
        everyone = t42[0] == "all"
        first = "2022-10" if everyone else t42[2]
        v, vsrc = title42_share(obs_t42, key, first)
        vsrc += monthly_note
        (_, v_first), *later = title42_monthly(obs_t42, key, first, v)
        # the first month's share also holds from the series' start (EARLY, or the day returns began)
        start = [(EARLY, v_first)] if everyone else [(EARLY, 0.0), (t42[1], v_first)]
        t42 = [Flow({"from": d, "value": x}) for d, x in (*start, *later, (T42_END, 0.0))]
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
            "border_cities": splits.dated(label, key),
            "departures": {"base_per_day": base, "trend_per_year": 0.0, "seasonal_amplitude": 0.1,
                           "seasonal_peak_month": 8, "elasticity": 1.0, "reference_chance": 0.6},
            "title42_expulsion": t42,
            "title8_removal": t8,
            "returnable_to_mexico": retn,
            "mexico_detention_deport": dep if label == "Mexico" else deportation.steps(dep),
            "transit_mexico": label != "Mexico",
            "source": "; ".join([
                f"origins: {osrc}",
                "border_cities: derived (rules in the comment above `nationalities:`)",
                ("departures: fitted where marked `# fitted:`; base_per_day started from" if fitted else
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
        items.append(item)
    return items
