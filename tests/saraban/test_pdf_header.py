"""A sent letter's PDF is named after its Thai book number: the header must still be latin-1 (a real server
writes headers in latin-1; the test client does not, so the walk caught it, not the screen tests)."""
from app.saraban import letter_pdf
from app.saraban.models import Document


def test_thai_book_number_goes_into_the_header_as_rfc6266(app, monkeypatch):
    monkeypatch.setattr(letter_pdf, "render", lambda document: b"%PDF-1.4\n")
    with app.test_request_context():
        response = letter_pdf.pdf_response(Document(id=7, book_no="ชม 52101.3/1"))
    header = response.headers["Content-Disposition"]
    header.encode("latin-1")  # raises if Thai went in as it is
    assert "filename=letter-7.pdf" in header
    assert "filename*=UTF-8''%E0%B8%8A%E0%B8%A152101.3-1.pdf" in header
