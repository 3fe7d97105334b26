"""observed/monthly.csv, the tidy `month,series,value` table the runs are scored on, from the observed files it
summarises (`python -m corridor.build.monthly` rewrites it; `--check` exits 1 if the committed file differs).

Oct 2019 - Dec 2023 is the table us-mexico was calibrated on; Oct 2018 - Sep 2019 adds the months of the 2019
scenario (us-mexico-2019): the CBP totals and the OHSS sectors as for the later months, and Border Patrol
encounters by citizenship (OHSS) as `usbp_nationality:<model nationality>`, since CBP's SW table by citizenship
(the `sw_encounters:<c>` rows) starts only in Oct 2019.
"""
from __future__ import annotations

import argparse
import csv
import io
import sys

import pandas as pd

from .inputs import OBSERVED

MONTHLY = OBSERVED / "monthly.csv"
FIRST, FIRST_BY_CITIZENSHIP, LAST = "2018-10", "2019-10", "2023-12"
USBP_NATIONALITY = ("2018-10", "2019-09")   # the months before CBP's SW table by citizenship begins
# OHSS citizenship labels -> the model's nationality names (us-mexico.yaml); every other label folds into Other
OHSS_NATIONALITY = {
    "Mexico": "Mexico", "Guatemala": "Guatemala", "Honduras": "Honduras", "El Salvador": "El Salvador",
    "Nicaragua": "Nicaragua", "Cuba": "Cuba", "Haiti": "Haiti", "Venezuela": "Venezuela", "Colombia": "Colombia",
    "Ecuador": "Ecuador", "Peru": "Peru", "Brazil": "Brazil", "China, People's Republic": "China, Peoples Republic Of",
    "India": "India", "Russia": "Russia", "Turkey": "Turkey", "Romania": "Romania",
}
OTHER = "Other"


def rows() -> list[tuple[str, str, int]]:
    """(month, series, value) of every row, FIRST..LAST."""
    def csv_(name: str) -> pd.DataFrame:
        return pd.read_csv(OBSERVED / name)

    out: list[tuple[str, str, int]] = []
    tot = csv_("cbp_sw_encounters_monthly.csv")
    tot = tot[(tot.month >= FIRST) & (tot.month <= LAST)]
    for r in tot.itertuples():
        out += [(r.month, "sw_encounters", r.total_encounters), (r.month, "usbp_encounters", r.usbp_encounters),
                (r.month, "ofo_encounters", r.ofo_encounters)]
    sec = csv_("usbp_sw_sector_monthly_ohss.csv")
    sec = sec[(sec.month >= FIRST) & (sec.month <= LAST)]
    out += [(r.month, f"usbp_encounters:{r.sector}", r.usbp_encounters) for r in sec.itertuples()]
    cit = csv_("cbp_sw_encounters_monthly_by_citizenship.csv")
    cit = cit[(cit.month >= FIRST_BY_CITIZENSHIP) & (cit.month <= LAST)]
    out += [(r.month, f"sw_encounters:{r.citizenship.title()}", r.encounters) for r in cit.itertuples()]
    ohss = csv_("usbp_sw_citizenship_monthly_ohss.csv")
    ohss = ohss[(ohss.month >= USBP_NATIONALITY[0]) & (ohss.month <= USBP_NATIONALITY[1])]
    nat = ohss.citizenship.map(OHSS_NATIONALITY).fillna(OTHER)
    by_nat = ohss.groupby([ohss.month, nat]).usbp_encounters.sum()
    out += [(m, f"usbp_nationality:{n}", v) for (m, n), v in by_nat.items()]
    dar = csv_("darien_monthly.csv")
    dar = dar[(dar.value_type != "missing") & (dar.month >= FIRST) & (dar.month <= LAST)]
    out += [(r.month, "darien_crossings", r.crossings) for r in dar.itertuples()]
    return sorted((m, s, int(v)) for m, s, v in out)


def text() -> str:
    """The file's text as it was first written: fields with commas quoted, CRLF line ends."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["month", "series", "value"])
    w.writerows(rows())
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m corridor.build.monthly", description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="write nothing; exit 1 if monthly.csv differs")
    a = ap.parse_args(argv)
    new = text()
    if a.check:
        same = MONTHLY.read_bytes() == new.encode("utf-8")
        print(f"{MONTHLY} {'is up to date' if same else 'differs from what the builder writes'}",
              file=sys.stdout if same else sys.stderr)
        return 0 if same else 1
    MONTHLY.write_bytes(new.encode("utf-8"))
    print(f"wrote {MONTHLY}: {new.count(chr(10)) - 1} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
