"""The tenant wall on every correspondence table: A's unit of work never reads, counts, changes or links B's
rows (B holds look-alike rows: the same subjects, register numbers and book layout), and the composite foreign
keys make the database itself refuse a row of A that points at B's document, register or list."""
from datetime import date, datetime

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.saraban.models import (
    INCOMING, OUTGOING, SECRET, Document, DocumentAccess, DocumentFile, DocumentOpening, Endorsement, Register,
    RetentionItem, RetentionList, ReviewStep, Routing,
)
from app.tenancy.context import CrossTenantWrite, platform_scope, tenant_scope
from tests.saraban.people import saraban  # noqa: F401

MODELS = (Register, Document, DocumentFile, DocumentAccess, DocumentOpening, Routing, Endorsement, ReviewStep,
          RetentionList, RetentionItem)
# a column each model may change, to try an update of B's row from A
CHANGES = {Register: ("book_code", "ชม 00000"), Document: ("subject", "แก้โดยผู้อื่น"),
           DocumentFile: ("filename", "x.pdf"), DocumentAccess: ("granted_by_name", "x"),
           DocumentOpening: ("user_name", "x"), Routing: ("instruction", "x"), Endorsement: ("comment", "x"),
           ReviewStep: ("note", "x"), RetentionList: ("committee", "x"), RetentionItem: ("reason", "x")}


def _rows_for(people) -> dict:
    """One row of every table in a tenant (same texts in both); returns {model name: id}."""
    users, divisions = people.users, people.divisions
    with tenant_scope(people.tenant_id):
        register = Register(direction=INCOMING, division_id=divisions["health"], year_basis="calendar")
        db.session.add(register)
        db.session.flush()
        document = Document(direction=INCOMING, kind="external", secrecy=SECRET, subject="ขอความอนุเคราะห์ทดสอบกำแพง",
                            sender="จังหวัดเชียงใหม่", register_id=people.incoming_register_id, register_no=9001,
                            register_year=2569, registered_at=datetime(2026, 11, 24, 3, 0),
                            origin_division_id=divisions["office"], status="registered",
                            created_by_id=users["clerk"], created_by_name="สุดา สารบรรณ")
        answer = Document(direction=OUTGOING, kind="external", subject="ตอบทดสอบกำแพง",
                          register_id=people.outgoing_register_id, origin_division_id=divisions["office"],
                          status="draft", created_by_id=users["clerk"], created_by_name="สุดา สารบรรณ")
        db.session.add_all([document, answer])
        db.session.flush()
        answer.reply_to_id = document.id
        listing = RetentionList(kind="destruction", year=2400 + people.tenant_id % 100, due_on=date(2027, 3, 1))
        db.session.add(listing)
        db.session.flush()
        rows = [
            DocumentFile(document_id=document.id, role="scan", filename="scan.pdf", content_type="application/pdf",
                         size=4, sha256="0" * 64, storage_key=f"{people.tenant_id}/saraban/isolation-{document.id}"),
            DocumentAccess(document_id=document.id, user_id=users["clerk"], reason="registrar"),
            DocumentOpening(document_id=document.id, user_id=users["clerk"], user_name="สุดา สารบรรณ", action="open"),
            Routing(document_id=document.id, division_id=divisions["engineering"], recipient_id=users["engdir"],
                    instruction="ดำเนินการ", sent_by_name="สุดา สารบรรณ"),
            Endorsement(document_id=document.id, requested_of_id=users["palad"], requested_by_name="สุดา สารบรรณ"),
            ReviewStep(document_id=answer.id, round=1, seq=1, kind="review", user_id=users["engdir"]),
            RetentionItem(list_id=listing.id, document_id=document.id, decision="keep"),
        ]
        db.session.add_all(rows)
        db.session.commit()
        ids = {"Register": register.id, "Document": document.id, "Answer": answer.id, "RetentionList": listing.id,
               **{type(r).__name__: r.id for r in rows}}
        db.session.remove()
    return ids


@pytest.fixture(scope="module")
def both(app, saraban):  # noqa: F811
    with app.app_context():
        return {"a": _rows_for(saraban["a"]), "b": _rows_for(saraban["b"])}


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_a_reads_and_counts_only_its_own_rows(app, saraban, both, model):  # noqa: F811
    a_id = saraban["a"].tenant_id
    with app.app_context():
        with platform_scope():
            a_total = db.session.scalar(select(func.count()).select_from(model).where(model.tenant_id == a_id))
            everyone = db.session.scalar(select(func.count()).select_from(model))
            db.session.remove()
        assert everyone > a_total  # B's rows are there to be hidden
        with tenant_scope(a_id):
            assert db.session.get(model, both["b"][model.__name__]) is None
            assert db.session.get(model, both["a"][model.__name__]) is not None
            assert db.session.scalar(select(func.count()).select_from(model)) == a_total
            assert db.session.scalar(select(func.count(model.id))) == a_total
            seen = set(db.session.scalars(select(model.id)))
            assert both["b"][model.__name__] not in seen and both["a"][model.__name__] in seen
            assert db.session.scalar(select(model).where(model.id == both["b"][model.__name__])) is None
            db.session.remove()


def test_a_does_not_reach_bs_rows_through_a_join(app, saraban, both):  # noqa: F811
    """Children read through their document: B's documents stay out of A's joins too."""
    with app.app_context(), tenant_scope(saraban["a"].tenant_id):
        for child in (DocumentFile, DocumentAccess, DocumentOpening, Routing, Endorsement, RetentionItem):
            ids = set(db.session.scalars(select(Document.id).join(child, child.document_id == Document.id)))
            assert both["b"]["Document"] not in ids and both["a"]["Document"] in ids
        db.session.remove()


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_a_cannot_change_or_delete_bs_rows(app, saraban, both, model):  # noqa: F811
    column, value = CHANGES[model]
    with app.app_context():
        with platform_scope():
            b_row = db.session.get(model, both["b"][model.__name__])
            before = getattr(b_row, column)
            db.session.expunge(b_row)
            db.session.remove()
        with tenant_scope(saraban["a"].tenant_id):
            merged = db.session.merge(b_row, load=False)
            setattr(merged, column, value)
            with pytest.raises(CrossTenantWrite):
                db.session.flush()
            db.session.rollback()
            merged = db.session.merge(b_row, load=False)
            db.session.delete(merged)
            with pytest.raises(CrossTenantWrite):
                db.session.flush()
            db.session.rollback()
            # bulk statements are filtered too: they touch A's rows only
            result = db.session.execute(update(model).where(model.id == both["b"][model.__name__])
                                        .values({column: value}).execution_options(synchronize_session=False))
            assert result.rowcount == 0
            result = db.session.execute(delete(model).where(model.id == both["b"][model.__name__])
                                        .execution_options(synchronize_session=False))
            assert result.rowcount == 0
            db.session.commit()
            db.session.remove()
        with platform_scope():
            row = db.session.get(model, both["b"][model.__name__])
            assert row is not None and getattr(row, column) == before
            db.session.remove()


def _links_to_b(a, b, both) -> dict:
    """A's rows that would point at B's document, register or list, as ORM objects."""
    users, divisions = a.users, a.divisions
    return {
        "document in B's register": Document(
            direction=INCOMING, subject="x", register_id=b.incoming_register_id,
            origin_division_id=divisions["office"], status="registered"),
        "answer to B's letter": Document(
            direction=OUTGOING, subject="x", register_id=a.outgoing_register_id,
            origin_division_id=divisions["office"], status="draft", reply_to_id=both["b"]["Document"]),
        "file": DocumentFile(document_id=both["b"]["Document"], role="scan", filename="x.pdf",
                             content_type="application/pdf", size=1, sha256="1" * 64, storage_key="isolation-x"),
        "reader": DocumentAccess(document_id=both["b"]["Document"], user_id=users["officer"], reason="recipient"),
        "opening": DocumentOpening(document_id=both["b"]["Document"], user_id=users["officer"], user_name="x",
                                   action="open"),
        "routing": Routing(document_id=both["b"]["Document"], division_id=divisions["finance"], sent_by_name="x"),
        "endorsement": Endorsement(document_id=both["b"]["Document"], requested_of_id=users["mayor"],
                                   requested_by_name="x"),
        "review step": ReviewStep(document_id=both["b"]["Document"], round=9, seq=1, kind="review",
                                  user_id=users["engdir"]),
        "retention item": RetentionItem(list_id=both["a"]["RetentionList"], document_id=both["b"]["Document"],
                                        decision="destroy"),
        "item on B's list": RetentionItem(list_id=both["b"]["RetentionList"], document_id=both["a"]["Document"],
                                          decision="destroy"),
    }


def test_a_cannot_link_its_rows_to_bs(app, saraban, both):  # noqa: F811
    a, b = saraban["a"], saraban["b"]
    with app.app_context(), tenant_scope(a.tenant_id):
        for name, row in _links_to_b(a, b, both).items():
            db.session.add(row)
            with pytest.raises((CrossTenantWrite, IntegrityError)):
                db.session.flush()
            db.session.rollback()
        # nor by changing a link of A's own row to B's
        for model, column, value in ((Routing, "document_id", both["b"]["Document"]),
                                     (DocumentAccess, "user_id", b.users["clerk"]),
                                     (Endorsement, "requested_of_id", b.users["palad"]),
                                     (RetentionItem, "list_id", both["b"]["RetentionList"])):
            row = db.session.get(model, both["a"][model.__name__])
            setattr(row, column, value)
            with pytest.raises((CrossTenantWrite, IntegrityError)):
                db.session.flush()
            db.session.rollback()
        db.session.remove()
    with app.app_context(), platform_scope():
        assert db.session.scalar(select(func.count(DocumentAccess.id)).where(
            DocumentAccess.document_id == both["b"]["Document"], DocumentAccess.tenant_id == a.tenant_id)) == 0
        db.session.remove()


# raw INSERTs of A's rows pointing at B's rows: below the ORM guard, the composite keys refuse them
RAW = {
    "saraban_files": ("(tenant_id, document_id, role, filename, content_type, size, sha256, storage_key, created_at)",
                      "(:a, :doc, 'scan', 'x.pdf', 'application/pdf', 1, :hash, :key, :now)"),
    "saraban_access": ("(tenant_id, document_id, user_id, reason, granted_by_name, at)",
                       "(:a, :doc, :user, 'recipient', '', :now)"),
    "saraban_openings": ("(tenant_id, document_id, user_id, user_name, action, at, remote_addr)",
                         "(:a, :doc, :user, 'x', 'open', :now, '')"),
    "saraban_routings": ("(tenant_id, document_id, division_id, sent_by_name, sent_at)",
                         "(:a, :doc, :division, 'x', :now)"),
    "saraban_endorsements": ("(tenant_id, document_id, requested_of_id, requested_by_name, requested_at)",
                             "(:a, :doc, :user, 'x', :now)"),
    "saraban_reviews": ("(tenant_id, document_id, round, seq, kind, user_id, status)",
                        "(:a, :doc, 7, 1, 'review', :user, 'pending')"),
    "saraban_retention_items": ("(tenant_id, list_id, document_id, decision)", "(:a, :list, :doc, 'destroy')"),
}


@pytest.mark.parametrize("table", sorted(RAW))
def test_the_database_refuses_a_row_of_a_pointing_at_bs_document(app, saraban, both, table):  # noqa: F811
    a = saraban["a"]
    columns, values = RAW[table]
    params = {"a": a.tenant_id, "doc": both["b"]["Document"], "user": a.users["officer"],
              "division": a.divisions["finance"], "list": both["a"]["RetentionList"], "now": datetime(2026, 11, 24),
              "hash": "2" * 64, "key": f"raw-{table}"}
    with app.app_context(), platform_scope():
        with pytest.raises(IntegrityError):
            db.session.execute(text(f"INSERT INTO {table} {columns} VALUES {values}"), params)
            db.session.flush()
        db.session.rollback()
        # the same row pointing at A's own document is accepted: the refusal is the tenant, not the shape
        db.session.execute(text(f"INSERT INTO {table} {columns} VALUES {values}"),
                           {**params, "doc": both["a"]["Answer"]})
        db.session.rollback()
        db.session.remove()


@pytest.mark.parametrize("column,target", [("register_id", "register"), ("reply_to_id", "document"),
                                           ("request_id", "request")])
def test_the_database_refuses_a_document_of_a_pointing_at_b(app, saraban, both, column, target):  # noqa: F811
    from app.catalog import services
    from app.catalog.models import ServiceType

    a, b = saraban["a"], saraban["b"]
    b_request = None
    if column == "request_id":
        with app.app_context(), tenant_scope(b.tenant_id):
            permit = db.session.scalar(select(ServiceType).where(ServiceType.code == "test_permit"))
            b_request = services.file_request(permit, {"applicant": "มานี บี", "area": "10", "kind_of_use": "home"},
                                              None).id
            db.session.commit()
            db.session.remove()
    with app.app_context(), platform_scope():
        params = {"a": a.tenant_id, "register": a.outgoing_register_id, "division": a.divisions["office"],
                  "now": datetime(2026, 11, 24), "reply": None, "request": None}
        params[{"register_id": "register", "reply_to_id": "reply", "request_id": "request"}[column]] = {
            "register": b.outgoing_register_id, "document": both["b"]["Document"], "request": b_request}[target]
        insert = text(
            "INSERT INTO saraban_documents (tenant_id, direction, kind, urgency, secrecy, subject, sender, addressee, "
            "register_id, origin_division_id, status, request_id, reply_to_id, search_text, created_at, "
            "created_by_name, updated_at, retention_years) VALUES (:a, 'outgoing', 'external', 'normal', 'normal', "
            "'x', '', '', :register, :division, 'draft', :request, :reply, '', :now, '', :now, 10)")
        with pytest.raises(IntegrityError):
            db.session.execute(insert, params)
            db.session.flush()
        db.session.rollback()
        db.session.remove()
