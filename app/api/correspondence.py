"""Correspondence (read, metadata only): the registered letters and memos the acting user may see, by the
one visibility rule of the staff screens (app/saraban/access.py). A secret document exists only for the
people named on it and their running delegates: for anyone else it is not found, never listed or counted.
Opening a secret document's metadata is recorded as an opening, as its page records one. No files and no
body text are served here."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import Schema
from marshmallow import fields as mf
from sqlalchemy import or_, select

from app.api import auth, validate
from app.api.errors import ApiError
from app.api.models import READ
from app.api.openapi import PREFIX, ApiBlueprint, guard_blueprint, operation
from app.api.paging import MAX_ID, PageArgs, page
from app.api.schemas import UtcDateTime, page_of
from app.extensions import db
from app.saraban import access
from app.saraban.models import INCOMING, KINDS, OUTGOING, SECRECY_LEVELS, URGENCIES, Document, Register, Routing
from app.schema_base import fields
from app.tenancy.models import Division

blp = ApiBlueprint("open_correspondence", __name__, url_prefix=f"{PREFIX}/correspondence",
                   description="Registered letters and memos (สารบรรณ): metadata only, as the reader may see them.")
guard_blueprint(blp)

DIVISION_CODE = r"^[A-Za-z0-9_.-]{1,64}$"
STATES = ("registered", "presented", "routed", "done", "draft", "in_review", "returned", "signed", "sent", "cancelled")


class CorrespondenceDocumentSchema(Schema):
    id = mf.Integer(required=True)
    direction = mf.String(required=True, metadata={"enum": [INCOMING, OUTGOING]})
    register_id = mf.Integer(required=True)
    register_division = mf.String(required=True, metadata={"description": "code of the กอง that keeps the register"})
    number = mf.String(required=True, allow_none=True, metadata={
        "description": "register number as printed: 15/2569, or the book number ชม 52101/123 of a letter sent; "
                       "null while a draft has none"})
    register_no = mf.Integer(required=True, allow_none=True)
    register_year = mf.Integer(required=True, allow_none=True, metadata={"description": "พ.ศ."})
    date = mf.Date(required=True, allow_none=True, metadata={
        "description": "the letter's date: ours (dated), else theirs, else the day it was registered"})
    their_ref = mf.String(required=True, allow_none=True, metadata={"description": "ที่ of a received letter"})
    registered_at = UtcDateTime(required=True, allow_none=True)
    kind = mf.String(required=True, metadata={"enum": list(KINDS)})
    urgency = mf.String(required=True, metadata={"enum": list(URGENCIES)})
    secrecy = mf.String(required=True, metadata={"enum": list(SECRECY_LEVELS)})
    subject = mf.String(required=True)
    sender = mf.String(required=True, metadata={"description": "จาก"})
    addressee = mf.String(required=True, metadata={"description": "เรียน / ถึง"})
    origin_division = mf.String(required=True, metadata={"description": "code of the owning กอง"})
    routed_to = mf.List(mf.String(), required=True, metadata={"description": "codes of the กอง it was routed to"})
    state = mf.String(required=True, metadata={"enum": list(STATES)})
    created_at = UtcDateTime(required=True)


class DocumentListArgs(PageArgs):
    direction = fields.String(load_default=None, validate=validate.OneOf([INCOMING, OUTGOING]))
    year = fields.Integer(load_default=None, validate=validate.Range(min=2400, max=2800),
                          metadata={"description": "register year, พ.ศ."})
    kind = fields.String(load_default=None, validate=validate.OneOf(list(KINDS)))
    urgency = fields.String(load_default=None, validate=validate.OneOf(list(URGENCIES)))
    register = fields.String(load_default=None, validate=validate.Regexp(
        DIVISION_CODE, _l("Type a division code.")),
        metadata={"description": "code of the กอง whose register it is in (with direction: one register)"})
    division = fields.String(load_default=None, validate=validate.Regexp(
        DIVISION_CODE, _l("Type a division code.")),
        metadata={"description": "code of a กอง that owns it or it was routed to"})


def _directions() -> set[str]:
    """The directions whose staff list the acting user may read (the search reads both)."""
    if auth.has_permission("can_index", "SarabanSearchView"):
        return {INCOMING, OUTGOING}
    found = set()
    if auth.has_permission("can_list", "SarabanIncomingView"):
        found.add(INCOMING)
    if auth.has_permission("can_list", "SarabanOutgoingView"):
        found.add(OUTGOING)
    if not found:
        raise ApiError(403, "forbidden", _l("The user this call acts as may not do this (their roles do not allow it)."))
    return found


def _rows(documents: list[Document]) -> list[dict]:
    from app import thai

    ids = [d.id for d in documents]
    codes = {d.id: d.code for d in db.session.scalars(select(Division))}
    registers = {r.id: r for r in db.session.scalars(select(Register).where(
        Register.id.in_({d.register_id for d in documents})))} if documents else {}
    routed: dict[int, list[str]] = {}
    if ids:
        for document_id, division_id in db.session.execute(
                select(Routing.document_id, Routing.division_id).where(Routing.document_id.in_(ids))
                .order_by(Routing.sent_at, Routing.id)):
            routed.setdefault(document_id, []).append(codes.get(division_id, ""))
    out = []
    for d in documents:
        register = registers.get(d.register_id)
        on = d.dated or d.their_date or (thai.to_bangkok(d.registered_at).date() if d.registered_at else None)
        out.append({
            "id": d.id, "direction": d.direction, "register_id": d.register_id,
            "register_division": codes.get(register.division_id, "") if register else "",
            "number": d.number_label or None, "register_no": d.register_no, "register_year": d.register_year,
            "date": on, "their_ref": d.their_ref, "registered_at": d.registered_at, "kind": d.kind,
            "urgency": d.urgency, "secrecy": d.secrecy, "subject": d.subject, "sender": d.sender or "",
            "addressee": d.addressee or "", "origin_division": codes.get(d.origin_division_id, ""),
            "routed_to": routed.get(d.id, []), "state": d.status, "created_at": d.created_at,
        })
    return out


@blp.route("/documents")
@operation(blp, READ)
@blp.arguments(DocumentListArgs, location="query")
@blp.response(200, page_of(CorrespondenceDocumentSchema))
def list_documents(args):
    """Letters and memos the acting user may see, newest first (a secret one only for those named on it and
    their running delegates). The acting user needs the incoming or outgoing letters list, or the search."""
    allowed = _directions()
    user = auth.current().user
    wanted = allowed & {args["direction"]} if args.get("direction") else allowed
    stmt = select(Document).where(Document.direction.in_(sorted(wanted)))
    if args.get("year"):
        stmt = stmt.where(Document.register_year == args["year"])
    if args.get("kind"):
        stmt = stmt.where(Document.kind == args["kind"])
    if args.get("urgency"):
        stmt = stmt.where(Document.urgency == args["urgency"])
    if args.get("register"):
        stmt = stmt.where(Document.register_id.in_(select(Register.id).join(
            Division, Division.id == Register.division_id).where(Division.code == args["register"])))
    if args.get("division"):
        division_ids = select(Division.id).where(Division.code == args["division"])
        stmt = stmt.where(or_(Document.origin_division_id.in_(division_ids), Document.id.in_(
            select(Routing.document_id).where(Routing.division_id.in_(division_ids)))))
    result = page(access.visible(stmt, user), Document.id, args)
    return {"items": _rows(result["items"]), "next_cursor": result["next_cursor"]}


@blp.route("/documents/<int:pk>")
@operation(blp, READ)
@blp.response(200, CorrespondenceDocumentSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_document(pk):
    """One letter's metadata. Opening a secret one is recorded, as on its page."""
    allowed = _directions()
    user = auth.current().user
    document = access.get(pk, user) if 0 < pk <= MAX_ID else None
    if document is None or document.direction not in allowed:
        raise ApiError(404)
    body = _rows([document])[0]
    if document.secret:
        access.record_opening(document, user, "open")
        db.session.commit()
    return body
