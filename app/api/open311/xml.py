"""GeoReport v2's XML: the same answers as the JSON ones, with the standard's element names (services/service,
service_definition/attributes/attribute/values/value, service_requests/request, errors/error)."""
from __future__ import annotations

from datetime import date, datetime
from xml.etree import ElementTree as ET

from flask import Response

CONTENT_TYPE = "text/xml; charset=utf-8"
# a list's element name -> the name of each item in it
ITEMS = {"attributes": "attribute", "values": "value", "services": "service", "service_requests": "request",
         "errors": "error", "endpoints": "endpoint", "formats": "format"}


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def _fill(element: ET.Element, value) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _fill(ET.SubElement(element, key), item)
    elif isinstance(value, list):
        name = ITEMS.get(element.tag, "item")
        for item in value:
            _fill(ET.SubElement(element, name), item)
    else:
        element.text = _text(value)


def document(root: str, value) -> bytes:
    element = ET.Element(root)
    _fill(element, value)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(element, encoding="unicode").encode("utf-8")


def respond(root: str, value, status: int = 200) -> Response:
    return Response(document(root, value), status=status, content_type=CONTENT_TYPE)
