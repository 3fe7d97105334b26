"""The fitted values of `corridor calibrate --defaults`, merged into the built items and marked `# fitted:`.

Each value replaces the builder's initial guess; its note says how it was fitted, when, and against which
training objective, so the scenario shows which numbers came from calibration.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from .inputs import BuildError, shown


class Fit:
    """Dotted path -> (value, "fitted: how, date, objective (file)"), with the paths the build has used."""

    def __init__(self, values: dict[str, tuple[object, str]] | None = None, meta: dict | None = None,
                 path: Path | None = None) -> None:
        self.values = dict(values or {})
        self.meta = dict(meta or {})
        self.path = path
        self.used: set[str] = set()

    def __bool__(self) -> bool:
        return bool(self.values)

    def __len__(self) -> int:
        return len(self.values)

    @classmethod
    def read(cls, path: Path) -> "Fit":
        """The fit file written by `corridor calibrate --defaults`; an empty fit if the file does not exist."""
        if not path.exists():
            return cls(path=path)
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        try:
            date, objective, values = doc["date"], doc["objective"], doc["values"]
        except (KeyError, TypeError):
            raise BuildError(f"{path}: expected keys date, objective, values "
                             "(written by `corridor calibrate --defaults`)") from None
        meta = {k: v for k, v in doc.items() if k != "values"}
        out = {key: (v["value"], f"fitted: {v['how']}, {date}, training objective {objective} ({shown(path)})")
               for key, v in values.items()}
        return cls(out, meta, path)

    @property
    def shown_path(self) -> str:
        return shown(self.path) if self.path else "the fit file"

    def training_window(self) -> str:
        return self.meta.get("figures", {}).get("train", {}).get("window", "the training months")

    def take(self, key: str) -> tuple[object, str] | None:
        """The fitted (value, note) at `key`, recorded as used; None if not fitted."""
        if key not in self.values:
            return None
        self.used.add(key)
        return self.values[key]

    def unused(self) -> list[str]:
        return sorted(set(self.values) - self.used)

    def apply(self, items: list[dict], list_key: str) -> None:
        """Put the fitted values of list items (`nationalities.<name>....`, `sectors.<name>....`) into the items,
        and say so in an item's `source` where it describes the field."""
        for key, (value, _) in self.values.items():
            parts = key.split(".")
            if parts[0] != list_key:
                continue
            item = next((x for x in items if x.get("name", x.get("id")) == parts[1]), None)
            if item is None or len(parts) < 3:
                raise BuildError(f"{self.shown_path}: fitted value {key!r} names no {list_key} item")
            node = item
            for part in parts[2:-1]:
                node = node.setdefault(part, {})
            node[parts[-1]] = value
            self.used.add(key)
            field = ".".join(parts[2:])
            if isinstance(item.get("source"), str) and f"; {field}: " in item["source"]:
                item["source"] = item["source"].replace(
                    f"; {field}: ", f"; {field}: fitted (marked `# fitted:`); before fitting: ", 1)

    def notes_for(self, list_key: str, name: str) -> list[tuple[list[str], str]]:
        """(path inside the item, note) for every fitted value of one list item, to mark in the YAML."""
        out = []
        for key, (_, note) in self.values.items():
            parts = key.split(".")
            if parts[:2] == [list_key, name]:
                out.append((parts[2:], note))
        return out
