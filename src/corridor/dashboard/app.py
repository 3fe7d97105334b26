"""The Dash server: assets served from the installed packages (no CDN), loopback by default, bounded requests."""
from __future__ import annotations

from pathlib import Path

import dash

from .callbacks import register
from .layout import page
from .runqueue import RunQueue

__all__ = ["create_app", "serve", "MAX_REQUEST_BYTES"]

MAX_REQUEST_BYTES = 2 * 1024 * 1024   # a callback's body: an upload (base64) and the controls


def create_app(queue: RunQueue | None = None, parallel: int = 2) -> dash.Dash:
    app = dash.Dash("corridor", title="corridor — what if?", serve_locally=True,
                    assets_folder=str(Path(__file__).with_name("assets")), suppress_callback_exceptions=True,
                    update_title=None, compress=False)
    app.server.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    app.layout = page
    register(app, queue or RunQueue(parallel=parallel))
    return app


def serve(host: str = "127.0.0.1", port: int = 8050, parallel: int = 2) -> None:
    """Run the app until interrupted (Flask's threaded server: one page's callbacks never wait for a run)."""
    app = create_app(parallel=parallel)
    app.run(host=host, port=port, debug=False, threaded=True)
