"""The two facts tables, addressed by file and CSV line number, with checked number extraction.

Figures are read out of the CSV text with regular expressions and the build stops if a row moved or a pattern
no longer matches, so a changed facts file cannot silently change the scenario.
"""
from __future__ import annotations

import re

import pandas as pd

from .inputs import FACTS, BuildError

TABLES = {"us": "facts_us.csv", "transit": "facts_transit.csv", "y2019": "facts_2019_2022.csv"}


def parse_number(text: str) -> float:
    """A figure as the facts tables write it ('1,800', '15\u202f000') as a float."""
    return float(text.replace(",", "").replace("\u202f", ""))


def matched_number(pattern: str, text: str, where: str) -> float:
    """The first group of `pattern` in `text` as a number; a clear error naming `where` if it does not match."""
    m = re.search(pattern, text)
    if not m:
        raise BuildError(f"{where}: pattern {pattern!r} not found in {text!r}")
    return parse_number(m.group(1))


class Facts:
    """Rows of facts_us.csv and facts_transit.csv by line number (header = line 1), each checked against the topic
    the builder expects, so that an edited table stops the build instead of shifting a citation."""

    def __init__(self) -> None:
        self.tables: dict[str, tuple[str, pd.DataFrame]] = {}
        for short, fname in TABLES.items():
            df = pd.read_csv(FACTS / fname, dtype=str)
            df["line"] = df.index + 2
            self.tables[short] = (fname, df)

    def row(self, table: str, line: int, expect: str) -> dict:
        """The row as a dict, with its citation under "cite": `<file> row <line> (<quantity>)`."""
        fname, df = self.tables[table]
        r = df[df.line == line]
        if r.empty:
            raise BuildError(f"{fname}: no row {line} (expected a row about {expect!r})")
        r = r.iloc[0].to_dict()
        if expect.lower() not in (r["quantity"] + " " + r["topic"]).lower():
            raise BuildError(f"{fname} row {line}: expected a row about {expect!r}, found {r['quantity']!r}; "
                             "the facts file changed: update the builder")
        q = r["quantity"] if len(r["quantity"]) <= 60 else r["quantity"][:57].rstrip() + "..."
        r["cite"] = f"{fname} row {line} ({q})"
        return r

    def num(self, table: str, line: int, expect: str, pattern: str, col: str = "value") -> tuple[float, str]:
        """A number from a facts row: the first group of `pattern` in column `col`; returns (value, citation)."""
        r = self.row(table, line, expect)
        return matched_number(pattern, r[col], r["cite"]), r["cite"]

    def cite(self, table: str, line: int, expect: str) -> str:
        """The citation of a row, checked against its expected topic."""
        return self.row(table, line, expect)["cite"]
