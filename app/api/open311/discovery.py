"""Open311 service discovery (GET /open311/discovery.json): where this server's GeoReport v2 endpoint is,
which formats it speaks, and how to get a key."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import current_app, jsonify, request

from app.api.open311 import schemas, xml
from app.api.open311.api import XML_DOC, open311_errors
from app.api.openapi import OPEN311_PREFIX, PREFIX, ApiBlueprint, guard_blueprint

blp = ApiBlueprint("Open311_discovery", __name__, url_prefix="/open311",
                   description="Open311 service discovery.")
guard_blueprint(blp, allow_key_param=True)
open311_errors(blp)

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# when this server's Open311 endpoint last changed in a way a client would notice
CHANGESET = datetime(2026, 12, 1, tzinfo=timezone.utc)
FORMATS = ["application/json", "text/xml"]


def discovery() -> dict:
    base = request.host_url.rstrip("/")
    return {
        "changeset": CHANGESET,
        "contact": current_app.config.get(
            "OPEN311_CONTACT", "ท้องถิ่นดิจิทัล: ask the organisation (jurisdiction_id = its DLA code) for help."),
        "key_service": current_app.config.get(
            "OPEN311_KEY_SERVICE", "An organisation's administrator issues API keys (การเชื่อมต่อระบบ → กุญแจ API); "
                                   f"documentation: {base}{PREFIX}/docs"),
        "endpoints": [{"specification": SPECIFICATION, "url": f"{base}{OPEN311_PREFIX}", "changeset": CHANGESET,
                       "type": "production", "formats": list(FORMATS)}],
    }


def _doc(fmt):
    content_type = "application/json" if fmt == "json" else "text/xml"

    def decorator(func):
        func = blp.alt_response(429, schema=schemas.Open311ErrorSchema(many=True) if fmt == "json" else XML_DOC,
                                content_type=content_type, description="Too many calls: wait Retry-After seconds",
                                headers={"Retry-After": {"description": "seconds to wait",
                                                         "schema": {"type": "integer"}}})(func)
        func = blp.alt_response(403, schema=schemas.Open311ErrorSchema(many=True) if fmt == "json" else XML_DOC,
                                content_type=content_type, description="An api_key was sent and is not valid")(func)
        func = blp.response(200, schemas.Open311DiscoverySchema if fmt == "json" else XML_DOC,
                            content_type=content_type)(func)
        return blp.doc(security=[], tags=["Open311"])(func)
    return decorator


@blp.route("/discovery.json", methods=["GET"])
@_doc("json")
def discovery_json():
    """Where the GeoReport v2 endpoint is and what it speaks. Public."""
    return jsonify(schemas.Open311DiscoverySchema().dump(discovery()))


@blp.route("/discovery.xml", methods=["GET"])
@_doc("xml")
def discovery_xml():
    """The same, as XML. Public."""
    return xml.respond("discovery", schemas.Open311DiscoverySchema().dump(discovery()))
