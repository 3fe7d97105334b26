"""Self-contained HTML report comparing scenario runs.

``write_report`` turns each run's tidy metrics table (date, metric, value) into figures (matplotlib, Agg
canvas, embedded as base64 PNG and also saved under ``figures/``), a map of the corridor drawn from the
bundled Natural Earth outlines, a table of how the baseline fits the observed record, and a table of totals
over a period with differences from a baseline scenario. The page loads nothing from anywhere.

The modules, in the order a report is made: ``world_tables`` and ``labels`` (what the report knows about
the corridor: places, legs, sectors in the scenario's order, and the scenario's labels file), ``prepare``
(tidy → wide, monthly, observed, bands, period), ``plotting`` (the shared drawing vocabulary), ``series``
(time-series figures), ``map``, ``figures`` (which figures, with which captions), ``totals``, ``fit`` and
``page`` (the HTML and ``write_report``).
"""

from ..analysis.observed import is_stock
from .fit import fit_table
from .labels import ReportLabels, labels_for
from .page import SECTION_TITLES, write_report
from .prepare import band_tables, daily_table, monthly_table, observed_table
from .totals import DEFAULT_PERIOD, report_totals
from .world_tables import WorldTables

__all__ = ["WorldTables", "ReportLabels", "labels_for", "write_report", "SECTION_TITLES", "DEFAULT_PERIOD",
           "report_totals", "fit_table", "is_stock", "daily_table", "monthly_table", "observed_table",
           "band_tables"]
