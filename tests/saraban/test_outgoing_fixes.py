"""Outgoing letters after the browser walk: the PDF's layout (every paragraph indented, hanging indents, the
address and telephone of the organisation), the steps a return closes, the page after signing, the pickers
of reviewers and signers, and a letter written about a matter."""
from __future__ import annotations

import os


from app.extensions import db
from app.saraban import letter_pdf, outgoing
from app.tenancy.models import Tenant
from tests.saraban.people import saraban  # noqa: F401
from tests.saraban.test_outgoing import as_tenant, pdf_text, signed_letter, user, values

LONG_REFERENCE = ("หนังสือจังหวัดเชียงใหม่ ที่ ชม 0017.3/ว 1234 ลงวันที่ 1 ธันวาคม 2569 เรื่อง การสำรวจถนนและทางระบายน้ำ"
                  "ในเขตเทศบาลเพื่อจัดทำแผนพัฒนาท้องถิ่น")
BODY = ("ด้วยเทศบาลมีความประสงค์จะซ่อมแซมถนนสายบ้านดอนแก้ว ซึ่งชำรุดเสียหายจากฝนตกหนักในช่วงที่ผ่านมา "
        "จึงขอความอนุเคราะห์ข้อมูลแนวเขตทางหลวงชนบทที่เกี่ยวข้อง\n\n"
        "ในการนี้ เทศบาลได้มอบหมายให้กองช่างเป็นผู้ประสานงาน และจะจัดส่งแบบแปลนให้ภายในสิบห้าวัน\n"
        "นับแต่วันที่ได้รับข้อมูล")


def _png(data: bytes, name: str) -> None:
    """Pictures of the first page for a person to look at (SARABAN_PNG=/some/dir)."""
    where = os.environ.get("SARABAN_PNG")
    if not where:
        return
    import pypdfium2 as pdfium

    page = pdfium.PdfDocument(data)[0]
    page.render(scale=1.6).to_pil().save(os.path.join(where, name))


def test_letter_pdf_layout(app, saraban):  # noqa: F811
    a = saraban["a"]
    with as_tenant(app, a):
        tenant = db.session.get(Tenant, a.tenant_id)
        tenant.address_th, tenant.phone = "เลขที่ 5 ถนนทดสอบ ตำบลทดสอบ อำเภอเมือง จังหวัดเชียงใหม่ 50100", "0 5312 3456"
        letter = signed_letter(a, reference=LONG_REFERENCE, enclosures="แผนที่แนวถนนสายบ้านดอนแก้ว จำนวน 1 ชุด "
                               "และภาพถ่ายความเสียหายของผิวจราจร จำนวน 12 ภาพ พร้อมรายละเอียดประกอบ", body=BODY,
                               subject="ขอความอนุเคราะห์ข้อมูลแนวเขตทางหลวงชนบทเพื่อประกอบการซ่อมแซมถนนสายบ้านดอนแก้ว"
                                       "ที่ชำรุดจากอุทกภัย")
        data = letter_pdf.render(letter)
        _png(data, "external.png")
        html = letter_pdf.html(letter)
        # every paragraph (a blank line starts one) is indented; a single break stays inside its paragraph
        assert html.count('<p class="text paragraph">') == 2
        assert "ในการนี้ เทศบาล" in html.split('<p class="text paragraph">')[2]
        assert "สิบห้าวัน\nนับแต่" in html
        # the lines after the first of เรื่อง / อ้างถึง / สิ่งที่ส่งมาด้วย hang under their text
        for name in ("subject", "reference", "enclosures"):
            assert f'hang" id="{name}"' in html or f'hang wide" id="{name}"' in html
        text = pdf_text(data)
        assert "เลขที่ 5 ถนนทดสอบ" in text and "โทร. 0 5312 3456" in text
        memo = outgoing.create_draft(values(a, kind="internal", body=BODY,
                                            recipient_division_ids=[a.divisions["finance"]]), user(a, "engofficer"))
        data = letter_pdf.render(memo)
        _png(data, "memo.png")
        assert "โทร. 0 5312 3456" in pdf_text(data)
        assert letter_pdf.html(memo).count('<p class="text paragraph">') == 2
        tenant.phone = None
        assert "โทร." not in pdf_text(letter_pdf.render(letter))


def test_paragraphs_split_on_blank_lines():
    assert letter_pdf.paragraphs("หนึ่ง\r\nต่อ\r\n \r\n\r\nสอง\n\n") == ["หนึ่ง\nต่อ", "สอง"]
    assert letter_pdf.paragraphs(None) == []
