"""Incoming letters (app/saraban/incoming.py): registration checks by field, numbers per register and year,
presenting and endorsing (also by a delegate), routing, acknowledgement, finishing, secrecy of named readers."""
from __future__ import annotations

import io
from contextlib import contextmanager
from datetime import timedelta

import pytest
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from app import thai
from app.extensions import db
from app.saraban import access, incoming
from app.saraban.models import (DONE, INCOMING, PRESENTED, REGISTERED, ROUTED, SECRET, Document, DocumentAccess,
                                Register, Routing)
from app.service_requests.models import Delegation
from app.tenancy.context import tenant_scope
from app.tenancy.errors import UserError
from app.tenancy.models import Division
from tests.saraban.people import saraban  # noqa: F401

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def scan(name="scan.pdf", data=PDF):
    return FileStorage(stream=io.BytesIO(data), filename=name, content_type="application/pdf")


def checked(*uploads):
    from app.saraban import files

    return files.checked(list(uploads) or [scan()])


@contextmanager
def as_tenant(app, people):
    with app.app_context(), tenant_scope(people.tenant_id):
        try:
            yield
        finally:
            db.session.rollback()
            db.session.remove()


def user(people, key) -> User:
    return db.session.get(User, people.users[key])


def values(people, **extra):
    out = {"register_id": str(people.incoming_register_id), "kind": "external", "urgency": "normal",
           "secrecy": "normal", "subject": "ขอเชิญประชุมคณะกรรมการพัฒนาท้องถิ่น", "sender": "อำเภอเมืองเชียงใหม่",
           "addressee": "นายกเทศมนตรี", "their_ref": "ชม 0318/1234",
           "their_date": thai.format_date_input(thai.today_bangkok()), "retention_years": "10"}
    out.update(extra)
    return out


def register(people, clerk="clerk", **extra) -> Document:
    document = incoming.register_incoming(values(people, **extra), checked(), user(people, clerk))
    db.session.commit()
    return document


def test_mistakes_are_named_by_field_and_nothing_is_written(app, saraban):
    a = saraban["a"]
    with as_tenant(app, a):
        before = db.session.query(Document).count()
        past = thai.format_date_input(thai.today_bangkok() - timedelta(days=1))
        future = thai.format_date_input(thai.today_bangkok() + timedelta(days=2))
        with pytest.raises(incoming.IncomingError) as caught:
            incoming.register_incoming(
                values(a, subject=" ", sender="", kind="poem", urgency="fast", secrecy="hidden",
                       urgent_by_date=past, urgent_by_time="09:00", their_date=future, retention_years="120"),
                [], user(a, "clerk"))
        errors = caught.value.errors
        assert set(errors) >= {"subject", "sender", "kind", "urgency", "secrecy", "urgent_by", "their_date",
                               "retention_years", "files"}
        assert errors["subject"] == "กรุณาระบุเรื่องของหนังสือ"
        db.session.rollback()
        assert db.session.query(Document).count() == before


def test_registers_of_another_division_and_secret_without_readers_are_refused(app, saraban):
    a = saraban["a"]
    with as_tenant(app, a):
        # the กองช่าง officer may not write in the central register of สำนักปลัด
        with pytest.raises(incoming.IncomingError) as caught:
            incoming.register_incoming(values(a), checked(), user(a, "engofficer"))
        assert "register_id" in caught.value.errors
        with pytest.raises(incoming.IncomingError) as caught:
            incoming.register_incoming(values(a, secrecy=SECRET), checked(), user(a, "clerk"))
        assert set(caught.value.errors) == {"reader_ids"}
        with pytest.raises(incoming.IncomingError) as caught:  # another organisation's person
            incoming.register_incoming(values(a, secrecy=SECRET, reader_ids=[str(saraban["b"].users["mayor"])]),
                                       checked(), user(a, "clerk"))
        assert set(caught.value.errors) == {"reader_ids"}
        with pytest.raises(incoming.IncomingError) as caught:
            incoming.register_incoming(values(a, urgent_by_date="31/02/2569"), checked(), user(a, "clerk"))
        assert "urgent_by" in caught.value.errors


def test_numbers_run_1_2_3_in_each_register_and_year(app, saraban):
    a = saraban["a"]
    with as_tenant(app, a):
        division = Division(code="zzsbin-num", name_th="กองทดสอบเลขรับ", name_en="Numbering test")
        db.session.add(division)
        db.session.flush()
        own = Register(direction=INCOMING, division_id=division.id, active=True)
        db.session.add(own)
        db.session.commit()
        admin = user(a, "admin")  # the whole organisation: any register
        made = [incoming.register_incoming(values(a, register_id=str(own.id), subject=f"หนังสือที่ {n}"),
                                           checked(), admin) for n in range(3)]
        db.session.commit()
        year = thai.be_year(thai.today_bangkok())
        assert [(d.register_no, d.register_year) for d in made] == [(1, year), (2, year), (3, year)]
        assert made[0].number_label == f"1/{year}"
        assert all(d.status == REGISTERED and d.origin_division_id == division.id for d in made)


def test_present_endorse_route_acknowledge_finish(app, saraban):
    a = saraban["a"]
    with as_tenant(app, a):
        document = register(a, urgency="most_urgent",
                            urgent_by_date=thai.format_date_input(thai.today_bangkok() + timedelta(days=3)),
                            urgent_by_time="14.30")
        assert document.urgent_by.hour == 14 and document.urgent_by.minute == 30
        assert document.files if hasattr(document, "files") else True
        clerk, mayor, palad = user(a, "clerk"), user(a, "mayor"), user(a, "palad")
        with pytest.raises(incoming.IncomingError):
            incoming.present(document, [a.users["engofficer"]], "", clerk)  # not an executive
        [asked] = incoming.present(document, [a.users["mayor"]], "เสนอเพื่อโปรดพิจารณา", clerk)
        db.session.commit()
        assert document.status == PRESENTED
        assert incoming.may_endorse(asked, palad) == (False, None)
        with pytest.raises(UserError):
            incoming.endorse(asked, palad, "", "ทราบ")
        with pytest.raises(incoming.IncomingError):
            incoming.endorse(asked, mayor, " ", "")
        db.session.rollback()
        incoming.endorse(asked, mayor, "เห็นควรเข้าร่วม", "มอบกองช่างและกองคลังดำเนินการ",
                         division_ids=[a.divisions["engineering"], a.divisions["finance"]])
        db.session.commit()
        assert document.status == ROUTED
        assert asked.endorsed_by_name == "ชื่อ นายก" or asked.endorsed_by_id == a.users["mayor"]
        assert asked.on_behalf_of_name is None
        assert asked.endorsed_title.startswith("นายก")
        with pytest.raises(UserError):  # once
            incoming.endorse(asked, mayor, "", "ทราบ")
        rows = {r.division_id: r for r in db.session.scalars(select(Routing).where(Routing.document_id == document.id))}
        assert set(rows) == {a.divisions["engineering"], a.divisions["finance"]}
        assert rows[a.divisions["engineering"]].instruction == "มอบกองช่างและกองคลังดำเนินการ"
        with pytest.raises(incoming.IncomingError):  # not twice to the same กอง
            incoming.route(document, [a.divisions["engineering"]], "", clerk)
        db.session.rollback()
        with pytest.raises(UserError):  # the clerk is not of กองช่าง
            incoming.acknowledge(rows[a.divisions["engineering"]], clerk, "")
        incoming.acknowledge(rows[a.divisions["engineering"]], user(a, "engofficer"), "รับทราบ")
        incoming.acknowledge(rows[a.divisions["finance"]], user(a, "officer"), "")
        db.session.commit()
        with pytest.raises(UserError):
            incoming.acknowledge(rows[a.divisions["finance"]], user(a, "officer"), "")
        with pytest.raises(incoming.IncomingError):
            incoming.finish(document, "  ", user(a, "engofficer"))
        incoming.finish(document, "กองช่างส่งผู้แทนเข้าร่วมประชุมแล้ว", user(a, "engofficer"))
        db.session.commit()
        assert document.status == DONE and "ผู้แทน" in document.search_text
        assert document.finished_by_id == a.users["engofficer"] and document.finished_at is not None
        with pytest.raises(UserError):
            incoming.route(document, [a.divisions["health"]], "", clerk)


def test_a_delegate_endorses_for_the_mayor(app, saraban):
    a = saraban["a"]
    with as_tenant(app, a):
        document = register(a)
        [asked] = incoming.present(document, [a.users["mayor"]], "", user(a, "clerk"))
        today = thai.today_bangkok()
        delegation = Delegation(delegator_id=a.users["mayor"], delegate_id=a.users["palad"], role_code="mayor",
                                kind="on_behalf", start_on=today, end_on=today)
        db.session.add(delegation)
        db.session.commit()
        try:
            palad = user(a, "palad")
            ok, found = incoming.may_endorse(asked, palad)
            assert ok and found.id == delegation.id
            incoming.endorse(asked, palad, "", "ทราบ")
            db.session.commit()
            assert asked.delegation_kind == "on_behalf"
            assert asked.on_behalf_of_name and asked.endorsed_by_id == a.users["palad"]
            assert "ปฏิบัติราชการแทน นายก" in asked.endorsed_title
            assert document.status == REGISTERED  # endorsed, not yet routed
        finally:
            db.session.delete(db.session.get(Delegation, delegation.id))
            db.session.commit()


def test_a_secret_letter_names_everyone_involved(app, saraban):
    a = saraban["a"]
    with as_tenant(app, a):
        document = register(a, secrecy=SECRET, reader_ids=[str(a.users["palad"])])
        clerk = user(a, "clerk")
        named = lambda: set(db.session.scalars(select(DocumentAccess.user_id).where(  # noqa: E731
            DocumentAccess.document_id == document.id)))
        assert named() == {a.users["clerk"], a.users["palad"]}
        assert access.get(document.id, user(a, "admin")) is None
        assert access.get(document.id, user(a, "mayor")) is None
        incoming.present(document, [a.users["mayor"]], "", clerk)
        assert a.users["mayor"] in named()
        # routed to a กอง, a secret letter must name its person there
        with pytest.raises(incoming.IncomingError) as caught:
            incoming.route(document, [a.divisions["engineering"]], "", clerk)
        assert "recipient_ids" in caught.value.errors
        with pytest.raises(incoming.IncomingError):  # not of that กอง
            incoming.route(document, [a.divisions["engineering"]], "", clerk, recipient_ids=[a.users["officer"]])
        [routing] = incoming.route(document, [a.divisions["engineering"]], "ดำเนินการ", clerk,
                                   recipient_ids=[a.users["engdir"]])
        db.session.commit()
        assert a.users["engdir"] in named() and a.users["engofficer"] not in named()
        assert access.get(document.id, user(a, "engofficer")) is None
        with pytest.raises(UserError):  # a member of the กอง, but not its named recipient
            incoming.acknowledge(routing, user(a, "engofficer"), "")
        incoming.acknowledge(routing, user(a, "engdir"), "")
        db.session.commit()
        assert routing.acknowledged_by_id == a.users["engdir"]


def test_another_organisations_letter_is_not_found(app, saraban):
    a, b = saraban["a"], saraban["b"]
    with as_tenant(app, b):
        theirs = register(b)
        their_id = theirs.id
    with as_tenant(app, a):
        assert db.session.get(Document, their_id) is None
        assert access.get(their_id, user(a, "admin")) is None
