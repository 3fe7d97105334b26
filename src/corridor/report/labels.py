"""What a report says about one corridor, read from a small file beside its scenario, not written in code.

A bundled scenario NAME may have ``data/scenarios/labels/NAME.yaml``; a scenario without one uses the file
of the nearest scenario it ``extends`` (so every us-mexico variant shares ``labels/us-mexico.yaml``). A
scenario with no labels file anywhere up its chain gets generic choices: the first run as baseline, every
day the runs share as the totals period, a map window fitted to its places, no named observed source.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..scenario import bundled_dir, read_yaml

__all__ = ["ReportLabels", "labels_for", "read_labels"]

LABELS_DIR = "labels"  # beside the scenario files


@dataclass(frozen=True)
class ReportLabels:
    """The corridor-specific words and windows of a report; every field optional.

    baseline: scenario the others are differenced from when it is among the runs.
    totals_period: (start, end) of the totals table and the maps, clipped to the days the runs cover.
    map_extent: (lon min, lon max, lat min, lat max) of the map.
    observed_source: who published the observed series, for the captions.
    source: the file they were read from ('' for none).
    """

    baseline: str | None = None
    totals_period: tuple[str, str] | None = None
    map_extent: tuple[float, float, float, float] | None = None
    observed_source: str | None = None
    source: str = ""


def read_labels(path: Path) -> ReportLabels:
    """One labels file; an unknown key or a malformed value is an InputError naming the file and field."""
    data = read_yaml(path)
    fields = {"baseline", "totals_period", "map_extent", "observed_source"}
    unknown = sorted(set(data) - fields)
    if unknown:
        raise InputError(f"{path}: unknown field(s) {', '.join(unknown)}; valid: {', '.join(sorted(fields))}")

    def pair(key, n, kind):
        v = data.get(key)
        if v is None:
            return None
        if not isinstance(v, list) or len(v) != n:
            raise InputError(f"{path}: field {key!r}: expected a list of {n} values, got {v!r}")
        try:
            return tuple(kind(x) for x in v)
        except (TypeError, ValueError):
            raise InputError(f"{path}: field {key!r}: expected {kind.__name__} values, got {v!r}") from None

    for key in ("baseline", "observed_source"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise InputError(f"{path}: field {key!r}: expected text, got {data[key]!r}")
    return ReportLabels(baseline=data.get("baseline"), totals_period=pair("totals_period", 2, str),
                        map_extent=pair("map_extent", 4, float), observed_source=data.get("observed_source"),
                        source=str(path))


def labels_for(name: str) -> ReportLabels:
    """The labels of the bundled scenario `name`, or of the nearest one it extends; empty when none has any."""
    here = bundled_dir()
    seen: set[str] = set()
    while name and name not in seen:
        seen.add(name)
        labels = here / LABELS_DIR / f"{name}.yaml"
        if labels.is_file():
            return read_labels(labels)
        scenario = here / f"{name}.yaml"
        if not scenario.is_file():
            break
        name = read_yaml(scenario).get("extends")
    return ReportLabels()
