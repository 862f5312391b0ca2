"""Front-end libraries installed from npm (`make assets`) and served by the app itself, never from a CDN."""
from __future__ import annotations

import os

from flask import Flask, abort, send_from_directory


def init_app(app: Flask) -> None:
    @app.route("/vendor/leaflet/<path:filename>")
    def leaflet(filename: str):
        folder = app.config["LEAFLET_DIR"]
        if not os.path.isdir(folder):
            abort(404)  # not installed: the location box works without the map
        return send_from_directory(folder, filename, max_age=86400)

    @app.context_processor
    def _map_settings():
        return {"leaflet_available": os.path.isfile(os.path.join(app.config["LEAFLET_DIR"], "leaflet.js")),
                "map_tile_url": app.config["MAP_TILE_URL"],
                "map_tile_attribution": app.config["MAP_TILE_ATTRIBUTION"]}
