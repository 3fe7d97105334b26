"""Behaviour (the schema defaults written out with their status, fitted values merged) and the caravans of
2023, each with the facts rows that give their size, date and attrition."""
from __future__ import annotations

import datetime as dt

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from corridor.scenario import Behaviour

from .emit import Commented, comment_before, flow, tree, wrap
from .facts import Facts
from .fit import Fit


def behaviour_guesses(F: Facts) -> list[tuple[str, object, str]]:
    """(field, initial value, status) in the order the YAML lists them."""
    return [
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
        ("network_elasticity", 0.0, "initial guess (no network effect), to be fitted: departures follow the momentum "
                                    "of those of the same nationality who got in (recent against long-run), e.g. the "
                                    "spring 2019 rise of Central American families"),
        ("mexico_news_weight", 0.0, "initial guess (off), to be fitted: a detention in Mexico may reach origins as "
                                    "bad news like a return at the US border (the journey's chance of getting in, not "
                                    "only the border's); identified by Mexico's enforcement steps of June and August 2019"),
        ("retry_after_removal", 0.2, "schema default (assumed)"),
        ("trend_until", dt.date(2023, 12, 31), "assumed: the last observed month (observed/monthly.csv ends "
                                               "2023-12); the 2024 forecast holds each nationality's fitted trend "
                                               "level instead of extrapolating it"),
        ("retry_delay_days", 60.0, "schema default (assumed)"),
        ("mexico_detention_days", 5.0, "schema default, consistent with INM provisional stays of <=48 h (type A) and "
                                       "<=7 days (type B) (" + F.cite("transit", 33, "INM detention facilities") + ")"),
        ("processing_days", 1.0, "schema default (assumed): a Title 42 expulsion took hours; the rest of a Title 8 "
                                 "stay follows processing, by outcome (below)"),
        ("custody_days_release", 2.0, "schema default (initial guess, to be fitted): ~3 days in custody in all for a "
                                      "release, 'nearly three days' on average (" + F.cite("us", 14, "Average time in custody")
                                      + "); TEDS 72 h (" + F.cite("us", 7, "TEDS") + ")"),
        ("custody_days_removal", 1.0, "schema default (assumed, to be fitted)"),
        ("ice_transfer_days", 2.0, "schema default (initial guess, to be fitted); held beyond 72 h for want of ICE bed "
                                   "space (" + F.cite("us", 27, "OIG El Paso") + ")"),
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


def schema_default(field: str):
    return Behaviour.model_fields[field].default


def build_behaviour(F: Facts, fit: Fit) -> CommentedMap:
    """`behaviour:`, each value with its status; a fitted value says how it was fitted and what it replaced."""
    rows = behaviour_guesses(F)
    known = {k for k, _, _ in rows}
    for key in fit.values:
        if key.startswith("behaviour.") and key.split(".", 1)[1] not in known:
            rows.append((key.split(".", 1)[1], None, "schema default"))
    b = Commented(indent=2)
    for k, v, c in rows:
        taken = fit.take(f"behaviour.{k}")
        if taken is not None:
            before = schema_default(k) if v is None else v
            v, note = taken
            c = f"{note}; before fitting {before}: {c}"
        b.put(k, v, c)
    return b.map


def caravan_cohesion() -> tuple[float, float]:
    """Daily chance a member stays, from attrition: ~3,000 -> ~1,500 in 6 days; 5,000 -> 1,500 in ~14 days."""
    return round(0.5 ** (1 / 6), 3), round((1500 / 5000) ** (1 / 14), 3)


def build_caravans(F: Facts) -> CommentedSeq:
    """The caravans that left Tapachula in 2023, each with the rows that give its date and size above it."""
    coh_generic, coh_oct = caravan_cohesion()
    cars = [
        (dt.date(2023, 4, 23), 2500, coh_generic,
         {"Venezuela": 0.3, "Honduras": 0.2, "Guatemala": 0.1, "El Salvador": 0.1, "Cuba": 0.1, "Haiti": 0.1,
          "Other": 0.1},
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
    seq = CommentedSeq()
    for d, size, coh, nats, src in cars:
        seq.append(tree({"date": d, "origin": "tapachula", "size": size, "cohesion": coh}))
        seq[-1]["nationalities"] = flow(nats)
        comment_before(seq, len(seq) - 1, wrap(src, 2), indent=2)
    return seq
