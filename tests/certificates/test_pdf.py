"""The certificate as a PDF: Thai text that renders, a QR that leads to the verification page, and only for
those who may see the matter."""
import os
import unicodedata

import pypdfium2
import zxingcpp
from sqlalchemy import select

from app.certificates.models import Certificate
from app.extensions import db
from app.tenancy.context import tenant_scope
from tests.certificates.test_numbering import _certificate
from tests.service_requests.conftest import file_complaint

OUTPUT = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                      "test-output", "browser")


def test_the_pdf_renders_thai_and_its_qr_verifies(app, client_for, tenant_a, service):
    officer = client_for("a.officer")
    pk = file_complaint(officer, service)
    token = "p" * 32
    _certificate(app, tenant_a.id, pk, token=token)
    with app.app_context(), tenant_scope(tenant_a.id):
        cid = db.session.scalar(select(Certificate.id).where(Certificate.token == token))
    response = officer.get(f"/service-requests/certificate/{cid}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf = pypdfium2.PdfDocument(response.data)
    assert len(pdf) == 1
    text = pdf[0].get_textpage().get_text_range()
    # (the text layer loses ำ, which the shaper splits into two glyphs; the page itself shows it: see the PNG)
    assert "หนังสือรับรองทดสอบ" in text and "ร้านป้าแดง" in text and "องค์การบริหารส่วน" in text
    _assert_letters_do_not_overlap(pdf[0], "ร้านป้าแดง")
    _assert_letters_do_not_overlap(pdf[0], "องค์การบริหารส่วน")
    os.makedirs(OUTPUT, exist_ok=True)
    pdf[0].render(scale=1.5).to_pil().save(os.path.join(OUTPUT, "certificate.png"))
    image = pdf[0].render(scale=3).to_pil()
    found = [r.text for r in zxingcpp.read_barcodes(image)]
    assert len(found) == 1 and found[0].endswith(f"/verify/{token}")
    page = app.test_client().get(found[0].split("localhost", 1)[1]).get_data(as_text=True)
    assert "ร้านป้าแดง" in page and "ถูกต้องและยังมีผลใช้บังคับ" in page
    # another organisation cannot print it
    assert client_for("b.officer").get(f"/service-requests/certificate/{cid}.pdf").status_code == 404


def test_the_citizen_downloads_their_own_certificate_only(app, tenant_a, service):
    from tests.portal.test_portal import A, _submit

    citizen = app.test_client()
    pk, _secret = _submit(app, citizen)
    token = "c" * 32
    _certificate(app, tenant_a.id, pk, token=token)
    with app.app_context(), tenant_scope(tenant_a.id):
        cid = db.session.scalar(select(Certificate.id).where(Certificate.token == token))
    assert f"/certificate/{cid}.pdf" in citizen.get(f"/t/{A}/track/{pk}").get_data(as_text=True)
    response = citizen.get(f"/t/{A}/track/{pk}/certificate/{cid}.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert app.test_client().get(f"/t/{A}/track/{pk}/certificate/{cid}.pdf").status_code == 302
    assert citizen.get(f"/t/1000002/track/{pk}/certificate/{cid}.pdf").status_code == 302


def _boxes(page, phrase: str) -> list[tuple[str, tuple]]:
    """(character, box) of the first run of `phrase` on the page, from pdfium's text layer."""
    textpage = page.get_textpage()
    count = textpage.count_chars()
    chars = [(textpage.get_text_range(i, 1), textpage.get_charbox(i)) for i in range(count)]
    text = "".join(c for c, _box in chars)
    start = text.find(phrase)
    assert start >= 0, f"{phrase!r} not in the text layer: {text[:200]!r}"
    return chars[start:start + len(phrase)]


def _assert_letters_do_not_overlap(page, phrase: str, tolerance: float = 0.3):
    """Each spacing letter (consonants, vowels written beside them) starts at or after the previous one ends:
    a font shrunk by fontconfig (Debian's TH Sarabun New -> 0.66 Laksaman) draws them over each other."""
    spacing = [(c, box) for c, box in _boxes(page, phrase) if unicodedata.category(c) != "Mn" and c.strip()]
    assert len(spacing) >= 4
    for (left_char, left), (right_char, right) in zip(spacing, spacing[1:]):
        assert right[0] >= left[2] - tolerance, (
            f"{right_char!r} starts at {right[0]:.1f} inside {left_char!r} ending at {left[2]:.1f} in {phrase!r}")
        assert left[2] - left[0] > 2, f"{left_char!r} is drawn too narrow"


def test_the_overlap_check_catches_the_shrunk_font():
    """The check above fails on the font Debian substitutes for "TH Sarabun New", and passes on Sarabun."""
    from weasyprint import HTML

    from app.certificates.pdf import font_files

    def page(css_family: str, face: str = ""):
        html = (f"<html><head><style>{face} body {{ font-family: {css_family}; font-size: 16pt }}</style></head>"
                "<body><p>ร้านป้าแดง องค์การบริหารส่วนตำบล</p></body></html>")
        return pypdfium2.PdfDocument(HTML(string=html).write_pdf())[0]

    shrunk = page('"TH Sarabun New"')
    if "laksaman" in _font_of(shrunk).lower():  # the Debian alias is present on this machine
        try:
            _assert_letters_do_not_overlap(shrunk, "ร้านป้าแดง")
        except AssertionError:
            pass
        else:
            raise AssertionError("the overlap check did not catch Laksaman shrunk to 0.66")
    regular = font_files()["regular"]
    good = page('"Doc"', f'@font-face {{ font-family: "Doc"; src: url("{regular}"); }}')
    _assert_letters_do_not_overlap(good, "ร้านป้าแดง")
    _assert_letters_do_not_overlap(good, "องค์การบริหารส่วน")


def _font_of(page) -> str:
    """The name of the font the page's first text object uses."""
    import ctypes

    import pypdfium2.raw as raw

    for obj in page.get_objects(filter=[raw.FPDF_PAGEOBJ_TEXT]):
        font = raw.FPDFTextObj_GetFont(obj.raw)
        size = raw.FPDFFont_GetBaseFontName(font, None, 0)
        buffer = (ctypes.c_char * size)()
        raw.FPDFFont_GetBaseFontName(font, buffer, size)
        return buffer.value.decode("utf-8", "replace")
    return ""


def test_the_certificate_uses_thai_digits_when_the_organisation_asks(app, client_for, tenant_a, service):
    from app.tenancy.models import Tenant

    officer = client_for("a.officer")
    pk = file_complaint(officer, service)
    token = "d" * 32
    _certificate(app, tenant_a.id, pk, token=token)
    with app.app_context(), tenant_scope(tenant_a.id):
        certificate = db.session.scalar(select(Certificate).where(Certificate.token == token))
        cid, label = certificate.id, certificate.label
        db.session.get(Tenant, tenant_a.id).thai_digits = True
        db.session.commit()
    try:
        text = pypdfium2.PdfDocument(officer.get(f"/service-requests/certificate/{cid}.pdf").data)[0] \
            .get_textpage().get_text_range()
    finally:
        with app.app_context(), tenant_scope(tenant_a.id):
            db.session.get(Tenant, tenant_a.id).thai_digits = False
            db.session.commit()
    thai_label = label.translate(str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙"))
    assert thai_label in text and label not in text
    flat = "".join(text.split())  # the line may break anywhere in the sentence
    assert f"ขอเลขที่{str(pk).translate(str.maketrans('0123456789', '๐๑๒๓๔๕๖๗๘๙'))}" in flat
    assert "/verify/" + token in flat  # the address keeps Latin digits
    plain = pypdfium2.PdfDocument(officer.get(f"/service-requests/certificate/{cid}.pdf").data)[0] \
        .get_textpage().get_text_range()
    assert label in plain
