"""`corridor serve`: a Dash app to ask "what if" of the talks' levers in a browser, offline.

Modules: `edits` (the page's scenario as a YAML overlay of a bundled one; upload checks), `controls` (the
controls, from the lever registry), `runqueue` (runs in child processes, a bounded number at once), `figures`
and `corridor_map` (plotly charts and the map, drawn from bundled data only), `compare_view` (the pinned run
against the next), `layout` (the page), `callbacks` (what it does) and `app` (the server).
"""
from .app import create_app, serve

__all__ = ["create_app", "serve"]
