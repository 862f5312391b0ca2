"""Electronic correspondence (สารบรรณอิเล็กทรอนิกส์) under the ระเบียบสำนักนายกรัฐมนตรีว่าด้วยงานสารบรรณ พ.ศ. 2526
and its amendments: the registers (ทะเบียนหนังสือรับ/ส่ง), the documents in them, who may read a secret one and
who opened it, routing to กอง, executive endorsements (เกษียน), the review and signing chain of an outgoing
letter, and the yearly retention lists (destruction review, hand-over to the National Archives)."""
from __future__ import annotations

from datetime import date, datetime

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKeyConstraint, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.tenancy.models import Division, TenantScoped, tenant_link, utcnow

INCOMING, OUTGOING = "incoming", "outgoing"
DIRECTIONS = (INCOMING, OUTGOING)
DIRECTION_NAMES = {INCOMING: _l("Incoming"), OUTGOING: _l("Outgoing")}

# ข้อ 9: the six kinds of หนังสือ
EXTERNAL, INTERNAL, STAMPED, DIRECTIVE, PUBLIC_RELATIONS, EVIDENCE = (
    "external", "internal", "stamped", "directive", "public_relations", "evidence")
KINDS = (EXTERNAL, INTERNAL, STAMPED, DIRECTIVE, PUBLIC_RELATIONS, EVIDENCE)
KIND_NAMES = {
    EXTERNAL: _l("External letter"), INTERNAL: _l("Internal memo"), STAMPED: _l("Stamped letter"),
    DIRECTIVE: _l("Directive"), PUBLIC_RELATIONS: _l("Public relations"), EVIDENCE: _l("Official record"),
}
# the Thai names printed on registers and documents, whatever the reader's language
KIND_NAMES_TH = {
    EXTERNAL: "หนังสือภายนอก", INTERNAL: "หนังสือภายใน", STAMPED: "หนังสือประทับตรา", DIRECTIVE: "หนังสือสั่งการ",
    PUBLIC_RELATIONS: "หนังสือประชาสัมพันธ์", EVIDENCE: "หนังสือที่เจ้าหน้าที่ทำขึ้นหรือรับไว้เป็นหลักฐานในราชการ",
}

NORMAL = "normal"
URGENT, VERY_URGENT, MOST_URGENT = "urgent", "very_urgent", "most_urgent"
URGENCIES = (NORMAL, URGENT, VERY_URGENT, MOST_URGENT)
URGENCY_NAMES = {NORMAL: _l("Normal"), URGENT: _l("Urgent"), VERY_URGENT: _l("Very urgent"),
                 MOST_URGENT: _l("Most urgent")}
URGENCY_TH = {NORMAL: "", URGENT: "ด่วน", VERY_URGENT: "ด่วนมาก", MOST_URGENT: "ด่วนที่สุด"}

# ระเบียบว่าด้วยการรักษาความลับของทางราชการ พ.ศ. 2544
CONFIDENTIAL, SECRET, TOP_SECRET = "confidential", "secret", "top_secret"
SECRECY_LEVELS = (NORMAL, CONFIDENTIAL, SECRET, TOP_SECRET)
SECRECY_NAMES = {NORMAL: _l("Not classified"), CONFIDENTIAL: _l("Confidential"), SECRET: _l("Secret"),
                 TOP_SECRET: _l("Top secret")}
SECRECY_TH = {NORMAL: "", CONFIDENTIAL: "ลับ", SECRET: "ลับมาก", TOP_SECRET: "ลับที่สุด"}

# a document's life: incoming ones are registered, presented, endorsed, routed and done; outgoing ones are
# drafted, reviewed, signed and sent (the number is taken when sent)
REGISTERED, PRESENTED, ROUTED, DONE = "registered", "presented", "routed", "done"
DRAFT, IN_REVIEW, RETURNED, SIGNED, SENT, CANCELLED = "draft", "in_review", "returned", "signed", "sent", "cancelled"
STATUS_NAMES = {
    REGISTERED: _l("Registered"), PRESENTED: _l("Awaiting endorsement"), ROUTED: _l("With the divisions"),
    DONE: _l("Done"), DRAFT: _l("Draft"), IN_REVIEW: _l("In review"), RETURNED: _l("Returned for changes"),
    SIGNED: _l("Signed, not yet sent"), SENT: _l("Sent"), CANCELLED: _l("Cancelled"),
}

CALENDAR, FISCAL = "calendar", "fiscal"
# made by the migration on PostgreSQL only (a GIN expression index the models cannot declare for both
# databases): autogenerate and the drift test leave it alone (app/migrations/env.py, tests/test_migrations.py)
MIGRATION_ONLY_INDEXES = frozenset({"ix_saraban_documents_words"})
DEFAULT_RETENTION_YEARS = 10  # ข้อ 57: at least 10 years unless a law or rule says otherwise


class Register(TenantScoped, Model):
    """A register book (ทะเบียนหนังสือรับ or ทะเบียนหนังสือส่ง) kept by one กอง: the central one by the office of
    the ปลัด, or a กอง's own. Numbers run from 1 each calendar year (ข้อ 38, 41), or each fiscal year if the
    organisation chooses; outgoing numbers are printed after the book code: ที่ ชม 52101/123."""

    __tablename__ = "saraban_registers"
    __table_args__ = (
        UniqueConstraint("tenant_id", "direction", "division_id", name="uq_saraban_registers_kind"),
        UniqueConstraint("tenant_id", "id", name="uq_saraban_registers_tenant_id_id"),
        ForeignKeyConstraint(["tenant_id", "division_id"], ["divisions.tenant_id", "divisions.id"],
                             name="fk_saraban_registers_division", ondelete="RESTRICT"),
        Index("ix_saraban_registers_division_id", "tenant_id", "division_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    direction: Mapped[str] = mapped_column(String(10), nullable=False, info={"label": _l("Register")})
    division_id: Mapped[int] = mapped_column(Integer, nullable=False)
    division: Mapped[Division] = tenant_link("Division", "Register", "division_id")
    # the รหัสตัวพยัญชนะ and รหัสตัวเลข of the unit (ชม 52101, or ชม 52101.3 for a กอง): outgoing numbers only
    book_code: Mapped[str | None] = mapped_column(String(40), nullable=True, info={"label": _l("Book code")})
    year_basis: Mapped[str] = mapped_column(String(10), nullable=False, default=CALENDAR)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    def __str__(self) -> str:
        return f"{DIRECTION_NAMES.get(self.direction, self.direction)} · {self.division}"


class Document(TenantScoped, Model):
    """One หนังสือ in a register: received (incoming) or written here (outgoing, including internal memos to
    another กอง). The register's columns (ข้อ 38 and 41) are columns here: เลขทะเบียน, ที่, ลงวันที่, จาก, ถึง,
    เรื่อง, การปฏิบัติ, หมายเหตุ."""

    __tablename__ = "saraban_documents"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id", name="uq_saraban_documents_tenant_id_id"),
        # one number per register and year: the database refuses a duplicate even if the counter were bypassed
        UniqueConstraint("tenant_id", "register_id", "register_year", "register_no", name="uq_saraban_documents_no"),
        ForeignKeyConstraint(["tenant_id", "register_id"], ["saraban_registers.tenant_id", "saraban_registers.id"],
                             name="fk_saraban_documents_register", ondelete="RESTRICT"),
        ForeignKeyConstraint(["tenant_id", "origin_division_id"], ["divisions.tenant_id", "divisions.id"],
                             name="fk_saraban_documents_division", ondelete="RESTRICT"),
        ForeignKeyConstraint(["tenant_id", "request_id"], ["service_requests.tenant_id", "service_requests.id"],
                             name="fk_saraban_documents_request", ondelete="RESTRICT"),
        ForeignKeyConstraint(["tenant_id", "reply_to_id"], ["saraban_documents.tenant_id", "saraban_documents.id"],
                             name="fk_saraban_documents_reply_to", ondelete="RESTRICT"),
        Index("ix_saraban_documents_register", "tenant_id", "register_id", "register_year", "register_no"),
        Index("ix_saraban_documents_status", "tenant_id", "direction", "status"),
        Index("ix_saraban_documents_request", "tenant_id", "request_id"),
        Index("ix_saraban_documents_origin_division_id", "tenant_id", "origin_division_id"),
        Index("ix_saraban_documents_reply_to_id", "tenant_id", "reply_to_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    direction: Mapped[str] = mapped_column(String(10), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False, default=EXTERNAL)
    urgency: Mapped[str] = mapped_column(String(16), nullable=False, default=NORMAL)
    urgent_by: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)  # ด่วนภายใน (Bangkok time)
    secrecy: Mapped[str] = mapped_column(String(16), nullable=False, default=NORMAL)
    subject: Mapped[str] = mapped_column(String(500), nullable=False)
    sender: Mapped[str] = mapped_column(String(300), nullable=False, default="")  # จาก
    addressee: Mapped[str] = mapped_column(String(300), nullable=False, default="")  # เรียน / ถึง
    their_ref: Mapped[str | None] = mapped_column(String(80), nullable=True)  # ที่ of a received letter
    their_date: Mapped[date | None] = mapped_column(Date, nullable=True)  # its ลงวันที่
    reference: Mapped[str | None] = mapped_column(Text, nullable=True)  # อ้างถึง
    enclosures: Mapped[str | None] = mapped_column(Text, nullable=True)  # สิ่งที่ส่งมาด้วย
    body: Mapped[str | None] = mapped_column(Text, nullable=True)
    closing: Mapped[str | None] = mapped_column(String(200), nullable=True)  # จึงเรียนมาเพื่อโปรดพิจารณา
    action_taken: Mapped[str | None] = mapped_column(Text, nullable=True)  # การปฏิบัติ
    # who recorded การปฏิบัติ and closed the letter, and when (the last entry of its history)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    finished_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    finished_by_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    remark: Mapped[str | None] = mapped_column(String(500), nullable=True)  # หมายเหตุ
    register_id: Mapped[int] = mapped_column(Integer, nullable=False)
    register: Mapped[Register] = tenant_link("Register", "Document", "register_id")
    # taken when received (incoming) or when sent (outgoing); empty on a draft
    register_no: Mapped[int | None] = mapped_column(Integer, nullable=True)
    register_year: Mapped[int | None] = mapped_column(Integer, nullable=True)  # พ.ศ.
    book_no: Mapped[str | None] = mapped_column(String(80), nullable=True)  # ชม 52101/123
    registered_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    dated: Mapped[date | None] = mapped_column(Date, nullable=True)  # the date on our own letter
    origin_division_id: Mapped[int] = mapped_column(Integer, nullable=False)  # เจ้าของเรื่อง
    origin_division: Mapped[Division] = tenant_link("Division", "Document", "origin_division_id")
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=DRAFT)
    request_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reply_to_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # an internal memo's recipient กอง, chosen in the draft; routed (Routing rows) only when it is sent
    recipient_division_ids: Mapped[list | None] = mapped_column(JSON, nullable=True)
    # the signature: who signed, as what, when, and the hash of the signed text (a change after it is refused)
    signer_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    signer_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    signer_title: Mapped[str | None] = mapped_column(String(300), nullable=True)
    signed_as: Mapped[str | None] = mapped_column(String(300), nullable=True)  # ปฏิบัติราชการแทน ...
    signed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    content_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # ข้อ 57: years to keep after the year of the document; empty = keep for ever (ห้ามทำลาย)
    # (no column default: SQLAlchemy fires a default for an explicit None too, and None means keep for ever)
    retention_years: Mapped[int | None] = mapped_column(Integer, nullable=True)
    disposal: Mapped[str | None] = mapped_column(String(16), nullable=True)  # destroyed | archived
    disposed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    # words of the subject, parties, body and numbers, split with pythainlp and joined by spaces (search.py)
    search_text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_by_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    def __init__(self, **kwargs):
        kwargs.setdefault("retention_years", DEFAULT_RETENTION_YEARS)  # unless given, None included
        super().__init__(**kwargs)

    @property
    def secret(self) -> bool:
        return self.secrecy != NORMAL

    @property
    def number_label(self) -> str:
        """รับ 15/2569 or ชม 52101/123 (the year is in the register's heading, as on paper)."""
        if self.register_no is None:
            return ""
        if self.direction == OUTGOING and self.book_no:
            return self.book_no
        return f"{self.register_no}/{self.register_year}"

    def __str__(self) -> str:
        return self.number_label or self.subject


class DocumentFile(TenantScoped, Model):
    """A file of a document: the scan of a received letter, an enclosure, or the PDF as sent."""

    __tablename__ = "saraban_files"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "document_id"], ["saraban_documents.tenant_id", "saraban_documents.id"],
                             name="fk_saraban_files_document", ondelete="CASCADE"),
        Index("ix_saraban_files_document", "tenant_id", "document_id"),
        # the key starts with the tenant's folder, so unique per tenant is unique everywhere
        UniqueConstraint("tenant_id", "storage_key", name="uq_saraban_files_storage_key"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(Integer, nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False, default="scan")  # scan | enclosure | sent
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    storage_key: Mapped[str] = mapped_column(String(255), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class DocumentAccess(TenantScoped, Model):
    """A person named on a secret document (ลับ and above): only they see it, whatever their role. Also
    written for unclassified documents, where it lends a named reader sight of it outside their กอง."""

    __tablename__ = "saraban_access"
    __table_args__ = (
        UniqueConstraint("tenant_id", "document_id", "user_id", name="uq_saraban_access"),
        ForeignKeyConstraint(["tenant_id", "document_id"], ["saraban_documents.tenant_id", "saraban_documents.id"],
                             name="fk_saraban_access_document", ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "user_id"], ["ab_user.tenant_id", "ab_user.id"],
                             name="fk_saraban_access_user", ondelete="CASCADE"),
        Index("ix_saraban_access_user", "tenant_id", "user_id", "document_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(Integer, nullable=False)
    user_id: Mapped[int] = mapped_column(Integer, nullable=False)
    # author | registrar | recipient | executive | reviewer | signer
    reason: Mapped[str] = mapped_column(String(16), nullable=False)
    granted_by_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)


class DocumentOpening(TenantScoped, Model):
    """Every opening of a secret document (its page, a file, its PDF): who, when, from where."""

    __tablename__ = "saraban_openings"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "document_id"], ["saraban_documents.tenant_id", "saraban_documents.id"],
                             name="fk_saraban_openings_document", ondelete="CASCADE"),
        Index("ix_saraban_openings_document", "tenant_id", "document_id", "at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(Integer, nullable=False)
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    user_name: Mapped[str] = mapped_column(String(200), nullable=False)
    action: Mapped[str] = mapped_column(String(16), nullable=False)  # open | file | pdf
    at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    remote_addr: Mapped[str] = mapped_column(String(64), nullable=False, default="")


class Routing(TenantScoped, Model):
    """A document sent to a กอง to act on (an incoming letter after endorsement, an internal memo): the order
    given with it, and the กอง's acknowledgement (ลงรับ)."""

    __tablename__ = "saraban_routings"
    __table_args__ = (
        UniqueConstraint("tenant_id", "document_id", "division_id", name="uq_saraban_routings"),
        ForeignKeyConstraint(["tenant_id", "document_id"], ["saraban_documents.tenant_id", "saraban_documents.id"],
                             name="fk_saraban_routings_document", ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "division_id"], ["divisions.tenant_id", "divisions.id"],
                             name="fk_saraban_routings_division", ondelete="RESTRICT"),
        ForeignKeyConstraint(["tenant_id", "recipient_id"], ["ab_user.tenant_id", "ab_user.id"],
                             name="fk_saraban_routings_recipient", ondelete="RESTRICT"),
        Index("ix_saraban_routings_division", "tenant_id", "division_id", "acknowledged_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(Integer, nullable=False)
    document: Mapped[Document] = tenant_link("Document", "Routing", "document_id")
    division_id: Mapped[int] = mapped_column(Integer, nullable=False)
    division: Mapped[Division] = tenant_link("Division", "Routing", "division_id")
    # a secret document goes to a named person of the กอง, never to the กอง at large
    recipient_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    instruction: Mapped[str | None] = mapped_column(Text, nullable=True)
    sent_by_name: Mapped[str] = mapped_column(String(200), nullable=False)
    sent_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    acknowledged_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    acknowledged_by_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    ack_note: Mapped[str | None] = mapped_column(Text, nullable=True)


class Endorsement(TenantScoped, Model):
    """A document presented (เสนอ) to an executive and their เกษียน: a comment and an order. Pending while
    `endorsed_at` is empty. A delegate of the executive may endorse in their place (ปฏิบัติราชการแทน)."""

    __tablename__ = "saraban_endorsements"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "document_id"], ["saraban_documents.tenant_id", "saraban_documents.id"],
                             name="fk_saraban_endorsements_document", ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "requested_of_id"], ["ab_user.tenant_id", "ab_user.id"],
                             name="fk_saraban_endorsements_user", ondelete="CASCADE"),
        Index("ix_saraban_endorsements_pending", "tenant_id", "requested_of_id", "endorsed_at"),
        Index("ix_saraban_endorsements_document", "tenant_id", "document_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(Integer, nullable=False)
    document: Mapped[Document] = tenant_link("Document", "Endorsement", "document_id")
    requested_of_id: Mapped[int] = mapped_column(Integer, nullable=False)
    requested_by_name: Mapped[str] = mapped_column(String(200), nullable=False)
    requested_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    presentation: Mapped[str | None] = mapped_column(Text, nullable=True)  # the clerk's note above the เกษียน
    endorsed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    endorsed_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    endorsed_by_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    endorsed_title: Mapped[str | None] = mapped_column(String(300), nullable=True)
    on_behalf_of_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    delegation_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)  # ความเห็น
    order_text: Mapped[str | None] = mapped_column(Text, nullable=True)  # คำสั่งการ


REVIEW, SIGN = "review", "sign"
PENDING, APPROVED = "pending", "approved"
SUPERSEDED = "superseded"  # a step the return of an earlier one closed (its round ended before its turn)


class ReviewStep(TenantScoped, Model):
    """One step of an outgoing letter's chain: reviewers in order (ผอ.กอง, ปลัด), then the signer. A return
    sends the draft back to its author; resubmitting starts a new round (older rounds stay as history)."""

    __tablename__ = "saraban_reviews"
    __table_args__ = (
        UniqueConstraint("tenant_id", "document_id", "round", "seq", name="uq_saraban_reviews"),
        ForeignKeyConstraint(["tenant_id", "document_id"], ["saraban_documents.tenant_id", "saraban_documents.id"],
                             name="fk_saraban_reviews_document", ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "user_id"], ["ab_user.tenant_id", "ab_user.id"],
                             name="fk_saraban_reviews_user", ondelete="CASCADE"),
        Index("ix_saraban_reviews_pending", "tenant_id", "user_id", "status"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(Integer, nullable=False)
    document: Mapped[Document] = tenant_link("Document", "ReviewStep", "document_id")
    round: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[str] = mapped_column(String(8), nullable=False)  # review | sign
    user_id: Mapped[int] = mapped_column(Integer, nullable=False)
    user = relationship("User", primaryjoin="User.id == ReviewStep.user_id", foreign_keys="ReviewStep.user_id",
                        lazy="joined", viewonly=True)
    # pending | approved | returned | superseded
    status: Mapped[str] = mapped_column(String(10), nullable=False, default=PENDING)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    decided_by_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    on_behalf_of_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    delegation_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


DESTRUCTION, ARCHIVES = "destruction", "archives"
LIST_DRAFT, LIST_SUBMITTED, LIST_APPROVED, LIST_DONE = "draft", "submitted", "approved", "done"
DESTROY, KEEP, TRANSFER = "destroy", "keep", "transfer"


class RetentionList(TenantScoped, Model):
    """A yearly list: บัญชีหนังสือขอทำลาย (documents whose keeping time ended, surveyed within 60 days after the
    year ends, ข้อ 66, for the destruction committee's decision) or บัญชีส่งมอบหนังสือครบ 20 ปี (documents 20
    years old to hand to the National Archives, ข้อ 57)."""

    __tablename__ = "saraban_retention_lists"
    __table_args__ = (
        UniqueConstraint("tenant_id", "kind", "year", name="uq_saraban_retention_lists"),
        UniqueConstraint("tenant_id", "id", name="uq_saraban_retention_lists_tenant_id_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), nullable=False)  # destruction | archives
    year: Mapped[int] = mapped_column(Integer, nullable=False)  # the พ.ศ. year that ended
    due_on: Mapped[date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default=LIST_DRAFT)
    committee: Mapped[str | None] = mapped_column(Text, nullable=True)  # chair and members, one a line
    approved_by_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    approval_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    done_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)


class RetentionItem(TenantScoped, Model):
    """A document on a retention list, and what the committee decided for it."""

    __tablename__ = "saraban_retention_items"
    __table_args__ = (
        UniqueConstraint("tenant_id", "list_id", "document_id", name="uq_saraban_retention_items"),
        ForeignKeyConstraint(["tenant_id", "list_id"],
                             ["saraban_retention_lists.tenant_id", "saraban_retention_lists.id"],
                             name="fk_saraban_retention_items_list", ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "document_id"], ["saraban_documents.tenant_id", "saraban_documents.id"],
                             name="fk_saraban_retention_items_document", ondelete="CASCADE"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    list_id: Mapped[int] = mapped_column(Integer, nullable=False)
    document_id: Mapped[int] = mapped_column(Integer, nullable=False)
    document: Mapped[Document] = tenant_link("Document", "RetentionItem", "document_id")
    decision: Mapped[str] = mapped_column(String(10), nullable=False)  # destroy | keep | transfer
    keep_years: Mapped[int | None] = mapped_column(Integer, nullable=True)  # a kept document: how much longer
    reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
