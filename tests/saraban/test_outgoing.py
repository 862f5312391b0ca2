"""Outgoing letters through app/saraban/outgoing.py: a draft with mistakes, the review chain (director, ปลัด,
signer นายก), return and resubmission, signing by a delegate and refusals, the number taken only at sending,
an internal memo routed at sending, the PDF's text, and a secret letter's named readers."""
from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
from flask import g
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import func, select

from app import thai
from app.extensions import db
from app.saraban import access, letter_pdf, outgoing
from app.saraban.models import (DRAFT, IN_REVIEW, INCOMING, INTERNAL, RETURNED, SENT, SIGNED, Document,
                                DocumentFile, Routing)
from app.tenancy.context import tenant_scope
from app.tenancy.errors import UserError
from tests.saraban.people import saraban  # noqa: F401


@contextmanager
def as_tenant(app, data):
    with app.test_request_context(), tenant_scope(data.tenant_id):
        try:
            yield
        finally:
            db.session.rollback()
            db.session.remove()


def user(data, key) -> User:
    return db.session.get(User, data.users[key])


def fresh():
    """Forget the delegations read earlier in this context (a new request reads them again)."""
    g.pop("_delegation_cache", None)


def values(data, **over):
    base = {"kind": "external", "urgency": "normal", "secrecy": "normal", "subject": "ขอความอนุเคราะห์ข้อมูลถนน",
            "addressee": "ผู้อำนวยการแขวงทางหลวงชนบทเชียงใหม่", "body": "ด้วยเทศบาลมีความประสงค์จะซ่อมถนน",
            "closing": "จึงเรียนมาเพื่อโปรดพิจารณา", "origin_division_id": data.divisions["engineering"]}
    base.update(over)
    return base


def signed_letter(data, **over) -> Document:
    author = user(data, "engofficer")
    letter = outgoing.create_draft(values(data, **over), author)
    outgoing.submit(letter, [data.users["engdir"]], data.users["mayor"], author)
    outgoing.decide(letter, user(data, "engdir"), True, None)
    outgoing.sign(letter, user(data, "mayor"))
    return letter


def pdf_text(data: bytes) -> str:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    return "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))


def test_draft_with_mistakes_names_each_field(app, saraban):  # noqa: F811
    a = saraban["a"]
    with as_tenant(app, a):
        author = user(a, "engofficer")
        with pytest.raises(outgoing.LetterError) as caught:
            outgoing.create_draft({"kind": "poem", "urgency": "now", "secrecy": "secret", "subject": " ",
                                   "addressee": "", "body": "", "origin_division_id": a.divisions["finance"]},
                                  author)
        errors = caught.value.errors
        assert {"kind", "subject", "addressee", "body", "origin_division_id", "reader_ids"} <= set(errors)
        assert "urgency" in errors
        assert db.session.scalar(select(func.count()).select_from(Document).where(
            Document.created_by_id == author.id, Document.subject == " ")) == 0
        # a memo without recipient กอง; readers of another organisation
        with pytest.raises(outgoing.LetterError) as caught:
            outgoing.create_draft(values(a, kind=INTERNAL, secrecy="confidential",
                                         reader_ids=[saraban["b"].users["clerk"]]), author)
        assert {"recipient_division_ids", "reader_ids"} <= set(caught.value.errors)
        letter = outgoing.create_draft(values(a), author)
        assert (letter.status, letter.register_no, letter.book_no, letter.dated) == (DRAFT, None, None, None)
        assert letter.register_id == a.outgoing_register_id  # no register of its own: the central one
        assert letter.sender  # the organisation, for the register's จาก


def test_review_chain_return_resubmit_sign_send(app, saraban):  # noqa: F811
    a = saraban["a"]
    with as_tenant(app, a):
        author, director, palad, mayor = (user(a, k) for k in ("engofficer", "engdir", "palad", "mayor"))
        letter = outgoing.create_draft(values(a), author)
        # the signer must have authority for an external letter: the ปลัด has not (no delegation)
        with pytest.raises(outgoing.LetterError) as caught:
            outgoing.submit(letter, [director.id], palad.id, author)
        assert "นายก" in caught.value.errors["signer_id"]
        with pytest.raises(outgoing.LetterError) as caught:
            outgoing.submit(letter, [saraban["b"].users["engdir"]], mayor.id, author)
        assert "reviewer_ids" in caught.value.errors
        outgoing.submit(letter, [director.id, palad.id], mayor.id, author)
        assert letter.status == IN_REVIEW
        assert [s.id for s in outgoing.pending_steps(director)] == [outgoing.current_step(letter).id]
        assert outgoing.pending_steps(palad) == [] and outgoing.pending_steps(mayor) == []
        with pytest.raises(UserError):
            outgoing.decide(letter, palad, True, None)  # not yet the ปลัด's turn
        with pytest.raises(UserError):
            outgoing.update_draft(letter, values(a, subject="แก้ระหว่างตรวจ"), author)
        outgoing.decide(letter, director, True, None)
        assert [s.user_id for s in outgoing.pending_steps(palad)] == [palad.id]
        with pytest.raises(outgoing.LetterError) as caught:
            outgoing.decide(letter, palad, False, "  ")
        assert "note" in caught.value.errors
        outgoing.decide(letter, palad, False, "แก้ชื่อถนนให้ถูกต้อง")
        assert letter.status == RETURNED and outgoing.pending_steps(palad) == []
        with pytest.raises(UserError):
            outgoing.sign(letter, mayor)
        outgoing.update_draft(letter, values(a, body="ด้วยเทศบาลจะซ่อมถนนสายบ้านดอนแก้ว"), author)
        outgoing.submit(letter, [director.id, palad.id], mayor.id, author)
        steps = outgoing.steps(letter)
        assert [(s.round, s.seq, s.kind, s.status) for s in steps] == [
            (1, 1, "review", "approved"), (1, 2, "review", "returned"), (1, 3, "sign", "superseded"),
            (2, 1, "review", "pending"), (2, 2, "review", "pending"), (2, 3, "sign", "pending")]
        assert steps[1].note == "แก้ชื่อถนนให้ถูกต้อง"
        outgoing.decide(letter, director, True, None)
        outgoing.decide(letter, palad, True, "เห็นควรลงนาม")
        assert [s.document_id for s in outgoing.pending_steps(mayor)] == [letter.id]
        outgoing.sign(letter, mayor)
        assert letter.status == SIGNED and letter.signer_id == mayor.id and letter.signer_name
        assert letter.signer_title and letter.signed_as is None and len(letter.content_hash) == 64
        assert letter.register_no is None and letter.book_no is None  # signed: still no number
        with pytest.raises(UserError):
            outgoing.update_draft(letter, values(a, subject="แก้หลังลงนาม"), author)
        with pytest.raises(UserError):
            outgoing.cancel(letter, author, "ไม่ใช้แล้ว")
        with pytest.raises(UserError):
            outgoing.send(letter, author)  # engineering keeps no register: the central registry sends
        outgoing.send(letter, user(a, "clerk"))
        assert letter.status == SENT and letter.book_no.startswith("ชม 99901/")
        assert letter.dated == thai.today_bangkok()
        sent = db.session.scalars(select(DocumentFile).where(DocumentFile.document_id == letter.id)).all()
        assert [f.role for f in sent] == ["sent"]
        with pytest.raises(UserError):
            outgoing.cancel(letter, author, "ส่งผิด")
        with pytest.raises(UserError):
            outgoing.send(letter, user(a, "clerk"))
        db.session.commit()


def test_numbers_only_at_sending_n_and_n_plus_one(app, saraban):  # noqa: F811
    a = saraban["a"]
    with as_tenant(app, a):
        first, second = signed_letter(a), signed_letter(a)
        assert first.register_no is None and second.register_no is None
        clerk = user(a, "clerk")
        outgoing.send(first, clerk)
        outgoing.send(second, clerk)
        assert second.register_no == first.register_no + 1
        assert (first.book_no, second.book_no) == (f"ชม 99901/{first.register_no}", f"ชม 99901/{second.register_no}")
        db.session.commit()


def test_delegate_signs_on_behalf_and_is_refused_after_it_ends(app, saraban):  # noqa: F811
    from app.service_requests.models import Delegation

    a = saraban["a"]
    with as_tenant(app, a):
        palad, mayor = user(a, "palad"), user(a, "mayor")
        author = user(a, "engofficer")
        letter = outgoing.create_draft(values(a, subject="ขอเชิญประชุมคณะกรรมการ"), author)
        outgoing.submit(letter, [], mayor.id, author)
        with pytest.raises(UserError) as caught:
            outgoing.sign(letter, palad)  # no delegation: refused, naming who may sign
        assert "นายก" in caught.value.message
        today = thai.today_bangkok()
        delegation = Delegation(delegator_id=mayor.id, delegate_id=palad.id, role_code="mayor", kind="on_behalf",
                                start_on=today - timedelta(days=1), end_on=today + timedelta(days=3))
        db.session.add(delegation)
        db.session.flush()
        fresh()
        assert [s.document_id for s in outgoing.pending_steps(palad)] == [letter.id]
        assert outgoing.signing_authority(palad, letter) == (True, delegation)
        outgoing.sign(letter, palad)
        assert letter.signer_id == palad.id and letter.signed_as.startswith("ปฏิบัติราชการแทน ")
        from app.saraban import people
        from app.tenancy.models import Tenant

        assert letter.signed_as == "ปฏิบัติราชการแทน " + people.title_th(mayor, db.session.get(Tenant, a.tenant_id))
        assert letter.signer_title == people.title_th(palad, db.session.get(Tenant, a.tenant_id))
        step = outgoing.steps(letter)[-1]
        assert step.on_behalf_of_name and step.delegation_kind == "on_behalf"
        outgoing.send(letter, user(a, "clerk"))
        assert db.session.scalars(select(DocumentFile.role).where(DocumentFile.document_id == letter.id)).all() == [
            "sent"]
        text = pdf_text(letter_pdf.render(letter))
        assert "ปฏิบัติราชการแทน" in text and letter.book_no.split("/")[1] in text
        assert "ขอเชิญประชุมคณะกรรมการ" in text and letter.signer_name.split()[0] in text
        # the delegation ended yesterday: the ปลัด may no longer sign for the นายก
        delegation.end_on = today - timedelta(days=1)
        later = outgoing.create_draft(values(a, subject="หนังสือหลังสิ้นสุดการมอบอำนาจ"), author)
        outgoing.submit(later, [], mayor.id, author)
        db.session.flush()
        fresh()
        assert outgoing.signing_authority(palad, later) == (False, None)
        assert outgoing.pending_steps(palad) == []
        with pytest.raises(UserError):
            outgoing.sign(later, palad)
        db.session.rollback()


def test_internal_memo_routed_to_two_divisions_only_when_sent(app, saraban):  # noqa: F811
    a = saraban["a"]
    with as_tenant(app, a):
        author, director = user(a, "engofficer"), user(a, "engdir")
        memo = outgoing.create_draft(values(a, kind=INTERNAL, subject="ขอให้ตรวจสอบงบประมาณซ่อมถนน",
                                            addressee="ผู้อำนวยการกองคลัง",
                                            recipient_division_ids=[a.divisions["finance"], a.divisions["health"]]),
                                     author)
        assert memo.recipient_division_ids == [a.divisions["finance"], a.divisions["health"]]
        outgoing.submit(memo, [], director.id, author)  # a memo is signed by the กอง's director
        outgoing.sign(memo, director)
        assert db.session.scalar(select(func.count()).select_from(Routing).where(Routing.document_id == memo.id)) == 0
        outgoing.send(memo, user(a, "clerk"))
        routed = db.session.scalars(select(Routing.division_id).where(Routing.document_id == memo.id)).all()
        assert sorted(routed) == sorted([a.divisions["finance"], a.divisions["health"]])
        text = pdf_text(letter_pdf.render(memo))
        assert "บันทึกข้อความ" in text and "ส่วนราชการ" in text and memo.book_no.split("/")[1] in text
        # the finance officer now sees it (routed to the กอง); a director of another กอง may not sign a memo
        assert access.get(memo.id, user(a, "officer")) is not None
        db.session.commit()


def test_draft_pdf_has_draft_mark_and_no_number(app, saraban):  # noqa: F811
    a = saraban["a"]
    with as_tenant(app, a):
        letter = outgoing.create_draft(values(a, urgency="most_urgent", secrecy="confidential",
                                              reader_ids=[a.users["clerk"]]), user(a, "engofficer"))
        text = pdf_text(letter_pdf.render(letter))
        assert "ร่าง" in text and "ด่วนที่สุด" in text and "ลับ" in text
        assert "ชม 99901/……" in text and "ขอความอนุเคราะห์ข้อมูลถนน" in text
        assert not re.search(r"ชม 99901/[0-9๐-๙]", text)  # no number on a draft
        assert "ขอแสดงความนับถือ" in text
        # in review: still ร่าง and no number, with the chosen signer's name and position where they will sign
        outgoing.submit(letter, [], a.users["mayor"], user(a, "engofficer"))
        text = pdf_text(letter_pdf.render(letter))
        mayor = user(a, "mayor")
        assert "ร่าง" in text and f"({mayor.first_name} {mayor.last_name})" in text
        assert not re.search(r"ชม 99901/[0-9๐-๙]", text)
        from app.tenancy.models import Tenant

        db.session.get(Tenant, a.tenant_id).thai_digits = True  # not committed: rolled back below
        text = pdf_text(letter_pdf.render(letter))
        assert "ชม ๙๙๙๐๑/……" in text and "๒๕๖" in text
        db.session.rollback()


def test_secret_letter_named_readers_only(app, saraban):  # noqa: F811
    a = saraban["a"]
    with as_tenant(app, a):
        author = user(a, "engofficer")
        letter = outgoing.create_draft(values(a, secrecy="secret", subject="เรื่องลับเฉพาะ",
                                              reader_ids=[a.users["clerk"]]), author)
        outgoing.submit(letter, [a.users["engdir"]], a.users["mayor"], author)
        for key in ("engofficer", "clerk", "engdir", "mayor"):
            assert access.get(letter.id, user(a, key)) is not None, key
        for key in ("admin", "palad", "officer"):
            assert access.get(letter.id, user(a, key)) is None, key
        db.session.rollback()


def test_reply_to_an_incoming_letter_copies_its_matter_and_reference(app, saraban):  # noqa: F811
    from datetime import date

    from tests.saraban.documents import make

    a = saraban["a"]
    with as_tenant(app, a):
        incoming = make(a.incoming_register_id, "ขอข้อมูลผู้ประสบภัย", sender="อำเภอเมืองเชียงใหม่",
                        their_ref="ชม 0318/77", their_date=date(2026, 11, 20))
        reply = outgoing.create_draft({k: v for k, v in values(a).items() if k not in ("addressee", "subject")},
                                      user(a, "engofficer"), reply_to=incoming)
        assert reply.reply_to_id == incoming.id and reply.addressee == "อำเภอเมืองเชียงใหม่"
        assert reply.reference == "หนังสืออำเภอเมืองเชียงใหม่ ที่ ชม 0318/77 ลงวันที่ 20 พฤศจิกายน 2569"
        assert incoming.direction == INCOMING
        db.session.rollback()
