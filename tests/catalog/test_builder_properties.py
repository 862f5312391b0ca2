"""Property tests for the field kinds with the most room for disagreement: text with a pattern, the
address (line, subdistrict, postcode) and files. The WTForms form (screens, portal) and the marshmallow
schema (API, seeds) built from one spec accept and refuse the same input with the same message."""
import io

import geothai
import marshmallow
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import FileStorage, MultiDict

from app.catalog.builder import build_form, build_schema, check_uploads, form_values
from tests.catalog.test_builder import agree, via_schema

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))

PATTERNS = [
    ("^[0-9]{13}$", "เลขทะเบียนนิติบุคคลต้องเป็นตัวเลข 13 หลัก"),
    ("^[0-9]{10,15}$", ""),
    ("[A-Z]{2}-[0-9]+", "รหัสไม่ถูกต้อง"),
    ("^(ก|ข|ค)[0-9]{1,4}$", ""),
]
PATTERN_SAMPLES = ["0105551234567", "010555123456", "0123456789", "AB-12", "ab-12", "ก123", "ง12", "",
                   " 0105551234567 ", "AB-", "๑๒๓", "0105551234567\n"]


@SETTINGS
@given(pattern=st.sampled_from(PATTERNS), required=st.booleans(), max_length=st.sampled_from([None, 12, 200]),
       raw=st.one_of(st.sampled_from(PATTERN_SAMPLES), st.from_regex(r"[0-9A-Zก-ฮ\- ]{0,16}", fullmatch=True),
                     st.text(max_size=20)))
def test_pattern_fields_agree(app, pattern, required, max_length, raw):
    spec = {"code": "f", "kind": "text", "required": required, "pattern": pattern[0],
            "pattern_error_th": pattern[1]}
    if max_length:
        spec["max_length"] = max_length
    agree(app, spec, raw)


POSTCODES = ["50100", "50000", "50200", "10200", "1020", "abcde", ""]
SUBDISTRICTS = sorted({s.code for p in ("50100", "50000", "50200", "10200") for s in geothai.by_postal_code(p)})[:12]


def _address_both(app, spec, parts):
    data = MultiDict({f"f-{k}": v for k, v in parts.items()})
    data.add("csrf_token", "posted")
    with app.test_request_context(method="POST", data=data):
        form = build_form([spec])(meta={"csrf": False})
        ok = form.validate()
        via_form = (ok, form.f.data if ok else form.f.errors[0])
    schema = via_schema(app, spec, parts)
    return via_form, (schema[0], schema[1]["f"] if schema[0] else schema[2])


@SETTINGS
@given(required=st.booleans(),
       line=st.one_of(st.sampled_from(["99/1 หมู่ 3 ถนนเชียงใหม่-หางดง", "", "   ", "x" * 301]), st.text(max_size=40)),
       subdistrict=st.one_of(st.sampled_from(SUBDISTRICTS + ["999999", "12", ""]), st.text(max_size=7)),
       postcode=st.one_of(st.sampled_from(POSTCODES), st.text(max_size=6)))
def test_address_fields_agree(app, required, line, subdistrict, postcode):
    spec = {"code": "f", "kind": "address", "required": required}
    via_form, via_api = _address_both(app, spec, {"line": line, "subdistrict": subdistrict, "postcode": postcode})
    assert via_form == via_api
    if via_form[0] and via_form[1] is not None:  # accepted: the postcode really is one of the subdistrict's
        assert postcode.strip() in geothai.address(subdistrict.strip()).subdistrict.postal_codes


PDF, PNG = b"%PDF-1.4 test", b"\x89PNG\r\n\x1a\n" + b"\0" * 32
CONTENTS = {"pdf": PDF, "png": PNG, "exe": b"MZ\x90\x00", "txt": b"hello"}


def _upload(name: str, body: bytes) -> FileStorage:
    return FileStorage(stream=io.BytesIO(body), filename=name)


def _via_form_upload(app, spec, name, body):
    data = MultiDict({"csrf_token": "posted"})
    data.add("f", _upload(name, body))
    with app.test_request_context(method="POST", data=data, content_type="multipart/form-data"):
        form = build_form([spec])(meta={"csrf": False})
        ok = form.validate()
        return ok, (None if ok else form.f.errors[0])


def _via_api_upload(app, spec, name, body):
    """What the API's upload endpoint does with the same file (app/catalog/api.py)."""
    with app.test_request_context():
        try:
            check_uploads(spec, [_upload(name, body)])
            return True, None
        except ValueError as exc:
            return False, str(exc)


@SETTINGS
@given(accept=st.lists(st.sampled_from(["pdf", "jpg", "png"]), min_size=1, max_size=3, unique=True),
       max_size_mb=st.sampled_from([1, 2]), ext=st.sampled_from(["pdf", "PDF", "png", "jpg", "exe", "txt", ""]),
       content=st.sampled_from(sorted(CONTENTS)), padding_kb=st.sampled_from([0, 900, 1100, 2100]))
def test_file_uploads_agree_between_form_and_api(app, accept, max_size_mb, ext, content, padding_kb):
    spec = {"code": "f", "kind": "file", "required": True, "accept": accept, "max_size_mb": max_size_mb}
    name = f"scan.{ext}" if ext else "scan"
    body = CONTENTS[content] + b"\0" * (padding_kb * 1024)
    via_form, via_api = _via_form_upload(app, spec, name, body), _via_api_upload(app, spec, name, body)
    assert via_form == via_api, (spec, name, content, padding_kb)
    if via_form[0]:  # accepted only with an accepted name, matching content and within the size
        assert ext.lower() in accept and content in ("pdf", "png") and len(body) <= max_size_mb * 2**20


@SETTINGS
@given(required=st.booleans(), raw=st.one_of(st.just([]), st.just(""), st.lists(st.integers(1, 10**6), max_size=3),
                                              st.lists(st.sampled_from(["7", "x", "", "1.5"]), max_size=3)))
def test_file_ids_agree_between_form_and_schema(app, required, raw):
    """Without an upload, a form field posts no file: the form and the schema then both apply `required`;
    ids (the API's path) are whole numbers only."""
    spec = {"code": "f", "kind": "file", "required": required}
    data = MultiDict({"csrf_token": "posted"})
    with app.test_request_context(method="POST", data=data):
        form = build_form([spec])(meta={"csrf": False})
        ok = form.validate()
        via_form = (ok, form_values(form)["f"] if ok else form.f.errors[0])
    via_api = via_schema(app, spec, [])
    assert via_form == (via_api[0], via_api[1]["f"] if via_api[0] else via_api[2])
    with app.test_request_context():
        try:
            stored = build_schema([spec])().load({"f": raw})["f"]
        except marshmallow.ValidationError:
            return
    assert stored is None or all(isinstance(i, int) for i in stored)
