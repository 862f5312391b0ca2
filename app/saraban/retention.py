"""The yearly retention lists (ระเบียบงานสารบรรณ หมวด 4): after each year, the list of documents whose keeping
time has run out (บัญชีหนังสือขอทำลาย, within 60 days, ข้อ 66) for the destruction committee (a chair and at
least two members, ข้อ 67) to decide on each (destroy, or keep so many more years), the executive's approval,
and the destruction itself: the files are deleted, the register row stays (the register is kept) marked
destroyed. And the list of documents 20 years old kept for ever or kept on, to hand to the National Archives
(กองจดหมายเหตุแห่งชาติ) by January of the following year (ข้อ 57).

No Flask request objects; the caller commits. A survey is idempotent: run again, it adds only documents not
yet on an open list."""
from __future__ import annotations

import logging
import os
from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import delete, select

from app import thai
from app.extensions import db
from app.saraban.models import (
    ARCHIVES, DESTROY, DESTRUCTION, KEEP, LIST_APPROVED, LIST_DONE, LIST_DRAFT, LIST_SUBMITTED, TRANSFER, Document,
    DocumentFile, RetentionItem, RetentionList,
)
from app.tenancy.errors import UserError

log = logging.getLogger(__name__)

BE_OFFSET = 543
ARCHIVE_AGE = 20  # ข้อ 57 (1): documents 20 years old go to the National Archives
SURVEY_DAYS = 60  # ข้อ 66: within 60 days after the year ends
MAX_KEEP_YEARS = 99
DESTROYED, ARCHIVED = "destroyed", "archived"
STATUS_NAMES = {LIST_DRAFT: "draft", LIST_SUBMITTED: "submitted", LIST_APPROVED: "approved", LIST_DONE: "done"}


class RetentionError(UserError):
    """Mistakes by field, all at once."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(" ".join(errors.values()), 422)
        self.errors = errors


def last_year(today: date) -> int:
    """The พ.ศ. year that ended before `today`."""
    return today.year + BE_OFFSET - 1


def _check_year(year: int) -> int:
    if not isinstance(year, int) or not 2400 <= year <= 2800:
        raise UserError(_("Type a Buddhist-era year, e.g. 2569."))
    ended = last_year(thai.today_bangkok())
    if year > ended:
        # ข้อ 66: the list is made after the year ends; a survey now would miss the rest of the year
        raise UserError(_("The year %(year)s has not ended yet: only a year that has ended can be surveyed "
                          "(%(ended)s or earlier).", year=year, ended=ended))
    return year


def _list(kind: str, year: int, due_on: date) -> RetentionList:
    found = db.session.scalar(select(RetentionList).where(RetentionList.kind == kind, RetentionList.year == year))
    if found is None:
        found = RetentionList(kind=kind, year=year, due_on=due_on, status=LIST_DRAFT)
        db.session.add(found)
        db.session.flush()
    return found


def _on_open_list(kind: str):
    """Documents already on a list of this kind that is not done (they wait for its decision)."""
    return select(RetentionItem.document_id).join(RetentionList, RetentionList.id == RetentionItem.list_id).where(
        RetentionList.kind == kind, RetentionList.status != LIST_DONE)


def _add(listing: RetentionList, stmt, decision: str) -> int:
    if listing.status != LIST_DRAFT:
        return 0  # a list sent to the committee is not changed; later documents wait for next year's
    ids = list(db.session.scalars(stmt.where(Document.id.not_in(_on_open_list(listing.kind)))
                                  .order_by(Document.register_year, Document.register_id, Document.register_no)))
    for document_id in ids:
        db.session.add(RetentionItem(list_id=listing.id, document_id=document_id, decision=decision))
    db.session.flush()
    return len(ids)


def survey(year: int) -> tuple[RetentionList, int]:
    """บัญชีหนังสือขอทำลาย for the year that ended: documents whose register year plus keeping years is that
    year or earlier, not disposed of, never those kept for ever. Returns the list and how many were added."""
    _check_year(year)
    listing = _list(DESTRUCTION, year, date(year - BE_OFFSET, 12, 31) + timedelta(days=SURVEY_DAYS))
    stmt = select(Document.id).where(
        Document.register_year.is_not(None), Document.retention_years.is_not(None),
        Document.register_year + Document.retention_years <= year, Document.disposal.is_(None))
    return listing, _add(listing, stmt, DESTROY)


def archives(year: int) -> tuple[RetentionList, int]:
    """บัญชีส่งมอบหนังสือครบ 20 ปี: documents 20 or more years old still kept (for ever, or kept on), not yet
    handed over, to deliver by 31 January of the following year."""
    _check_year(year)
    listing = _list(ARCHIVES, year, date(year - BE_OFFSET + 1, 1, 31))
    stmt = select(Document.id).where(
        Document.register_year.is_not(None), Document.register_year + ARCHIVE_AGE <= year,
        Document.disposal.is_(None), Document.id.not_in(_on_open_list(DESTRUCTION)))
    return listing, _add(listing, stmt, TRANSFER)


def items(listing: RetentionList) -> list[RetentionItem]:
    return list(db.session.scalars(select(RetentionItem).join(Document, Document.id == RetentionItem.document_id)
                                   .where(RetentionItem.list_id == listing.id)
                                   .order_by(Document.register_year, Document.register_id, Document.register_no)))


def committee_names(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def decide(listing: RetentionList, decisions: dict[int, tuple[str, str, str]], committee: str | None = None) -> None:
    """Record the committee and its decision on each item: {item_id: (destroy|keep, keep years, reason)}.
    All or nothing: every mistake is reported by field (decision-<id>, years-<id>, reason-<id>, committee)."""
    if listing.kind != DESTRUCTION or listing.status != LIST_DRAFT:
        raise UserError(_("The list was already sent for approval: its decisions can no longer be changed."))
    errors: dict[str, str] = {}
    rows = {item.id: item for item in items(listing)}
    chosen = {}
    for item_id, (decision, years, reason) in decisions.items():
        item = rows.get(item_id)
        if item is None:
            raise UserError(_("The document is not on this list."), 404)
        reason = (reason or "").strip()
        if decision == DESTROY:
            chosen[item_id] = (DESTROY, None, reason[:500] or None)
        elif decision == KEEP:
            text = (years or "").strip()
            if not text.isdigit() or not 1 <= int(text) <= MAX_KEEP_YEARS:
                errors[f"years-{item_id}"] = _("Give 1 to %(max)s more years.", max=MAX_KEEP_YEARS)
            if not reason:
                errors[f"reason-{item_id}"] = _("Say why the document is kept.")
            chosen[item_id] = (KEEP, int(text) if text.isdigit() else None, reason[:500])
        else:
            errors[f"decision-{item_id}"] = _("Choose destroy or keep.")
    if errors:
        raise RetentionError(errors)
    if committee is not None:
        listing.committee = "\n".join(committee_names(committee)) or None
    for item_id, (decision, years, reason) in chosen.items():
        item = rows[item_id]
        item.decision, item.keep_years, item.reason = decision, years, reason


def submit(listing: RetentionList, committee: str | None = None) -> None:
    """Send the list with the committee's decisions for the executive's approval (ข้อ 67: a chair and at least
    two members, one a line, the chair first)."""
    if listing.kind != DESTRUCTION or listing.status != LIST_DRAFT:
        raise UserError(_("Only a list being prepared can be sent for approval."))
    if committee is not None:
        listing.committee = "\n".join(committee_names(committee)) or None
    if len(committee_names(listing.committee)) < 3:
        raise RetentionError({"committee": _("Name the committee: a chair and at least two members, one a line.")})
    if not items(listing):
        raise UserError(_("The list has no documents."))
    listing.status = LIST_SUBMITTED


def approve(listing: RetentionList, approver_name: str, approved_on: date, note: str = "") -> None:
    """The executive's approval, recorded by the tenant administrator."""
    if listing.kind != DESTRUCTION or listing.status != LIST_SUBMITTED:
        raise UserError(_("Only a list sent for approval can be approved."))
    errors = {}
    if not (approver_name or "").strip():
        errors["approver"] = _("Give the name of the executive who approved.")
    if approved_on is None:
        errors["approved_on"] = _("Please enter a date.")
    elif approved_on > date.today() + timedelta(days=1):
        errors["approved_on"] = _("The date cannot be later than today.")
    if errors:
        raise RetentionError(errors)
    listing.approved_by_name = approver_name.strip()[:200]
    listing.approved_at = datetime.combine(approved_on, time(12, 0))
    listing.approval_note = (note or "").strip() or None
    listing.status = LIST_APPROVED


def complete(listing: RetentionList, on: date) -> dict[str, int]:
    """Carry out an approved destruction list (the destroyed documents' files deleted, their register rows kept
    marked destroyed; a kept document's keeping time extended), or record the hand-over of an archives list."""
    if listing.status == LIST_DONE:
        return {"destroyed": 0, "kept": 0, "archived": 0}
    done = {"destroyed": 0, "kept": 0, "archived": 0}
    rows = items(listing)
    if listing.kind == DESTRUCTION:
        if listing.status != LIST_APPROVED:
            raise UserError(_("The list must be approved by the executive first."))
        paths = []
        for item in rows:
            document = item.document
            if item.decision == DESTROY:
                paths += [f.storage_key for f in db.session.scalars(
                    select(DocumentFile).where(DocumentFile.document_id == document.id))]
                db.session.execute(delete(DocumentFile).where(DocumentFile.document_id == document.id))
                document.disposal, document.disposed_on = DESTROYED, on
                document.body = None  # the text goes with the paper; the register's columns stay
                from app.saraban import search

                search.index(document)
                done["destroyed"] += 1
            else:
                document.retention_years = (document.retention_years or 0) + (item.keep_years or 0)
                done["kept"] += 1
        _delete_after_commit(paths)
    else:
        if not rows:
            raise UserError(_("The list has no documents."))
        for item in rows:
            item.document.disposal, item.document.disposed_on = ARCHIVED, on
            done["archived"] += 1
    listing.status, listing.done_on = LIST_DONE, on
    return done


def _delete_after_commit(keys: list[str]) -> None:
    """Files go once the rows are committed: a rolled-back completion leaves them all in place."""
    if not keys:
        return
    from sqlalchemy import event

    from app.catalog.attachments import upload_root

    root = upload_root()
    session = db.session()

    def _remove(_session):
        for key in keys:
            try:
                os.remove(os.path.join(root, key))
            except FileNotFoundError:
                pass
            except OSError:  # logged: the row is gone, the file is an orphan to clean by hand
                log.exception("could not delete %s", key)

    event.listen(session, "after_commit", _remove, once=True)
    event.listen(session, "after_rollback", lambda _s: event.remove(session, "after_commit", _remove)
                 if event.contains(session, "after_commit", _remove) else None, once=True)
