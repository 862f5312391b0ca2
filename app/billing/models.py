"""Money the organisation takes: payments staff record against a matter's fee (Payment, numbered by the
receipt book the finance division uses), and waste-collection fees: service accounts on routes, their tiers,
billing runs, bills, receipts numbered without gaps, and bank payment files."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask_appbuilder import Model
from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, ForeignKeyConstraint, Index, Integer, Numeric, \
    String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.tenancy.models import TenantScoped, localized, tenant_link, utcnow

CASH, TRANSFER, PROMPTPAY, CHEQUE = "cash", "transfer", "promptpay", "cheque"
METHODS = (CASH, PROMPTPAY, TRANSFER, CHEQUE)


class Payment(TenantScoped, Model):
    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("tenant_id", "receipt_no", name="uq_payments_receipt_no"),
        ForeignKeyConstraint(
            ["tenant_id", "request_id"], ["service_requests.tenant_id", "service_requests.id"],
            name="fk_payments_request", ondelete="RESTRICT",
        ),
        ForeignKeyConstraint(
            ["tenant_id", "event_id"], ["service_request_events.tenant_id", "service_request_events.id"],
            name="fk_payments_event",
        ),
        Index("ix_payments_tenant_paid_on", "tenant_id", "paid_on"),
        Index("ix_payments_tenant_request", "tenant_id", "request_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(Integer, nullable=False)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False)
    paid_on: Mapped[date] = mapped_column(Date, nullable=False)  # the day on the receipt (Bangkok)
    receipt_no: Mapped[str] = mapped_column(String(40), nullable=False)
    method: Mapped[str] = mapped_column(String(16), nullable=False)
    # the timeline step that recorded it
    event_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    recorded_by_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("ab_user.id"), nullable=True)
    recorded_by_name: Mapped[str] = mapped_column(String(200), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)


# --- waste-collection fees (ค่าธรรมเนียมเก็บขนมูลฝอย) ---------------------------------------------------------

HOUSEHOLD, BUSINESS = "household", "business"
PREMISES_KINDS = (HOUSEHOLD, BUSINESS)
COUNTER, BANK_FILE = "counter", "bank_file"


class WasteSettings(TenantScoped, Model):
    """How one organisation bills waste fees: which service's fee schedule prices them, how many months a
    billing period covers and how long after a period a bill falls due. One row per tenant."""

    __tablename__ = "waste_settings"
    __table_args__ = (UniqueConstraint("tenant_id", name="uq_waste_settings_tenant"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_code: Mapped[str] = mapped_column(String(64), nullable=False, default="waste_collection_registration")
    period_months: Mapped[int] = mapped_column(Integer, nullable=False, default=1)  # 1, 2, 3, 4, 6 or 12
    due_days: Mapped[int] = mapped_column(Integer, nullable=False, default=15)  # after the period's last day


class WasteRoute(TenantScoped, Model):
    """A collection zone or truck route (สายเก็บขน): collectors get their bills printed per route."""

    __tablename__ = "waste_routes"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code", name="uq_waste_routes_code"),
        UniqueConstraint("tenant_id", "id", name="uq_waste_routes_tenant_id_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), nullable=False)
    name_th: Mapped[str] = mapped_column(String(200), nullable=False)
    name_en: Mapped[str | None] = mapped_column(String(200), nullable=True)
    collection_days: Mapped[str | None] = mapped_column(String(60), nullable=True)  # "mon,thu"
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    def __str__(self) -> str:
        return f"{self.code} {localized(self.name_th, self.name_en or '')}"


class WasteAccount(TenantScoped, Model):
    """A service account (ผู้ใช้บริการ): one household or business at one address. The owner's contact is
    personal data. The tier billed is kept in WasteAccountTier, from a day on, so a change never rewrites
    a period already billed."""

    __tablename__ = "waste_accounts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "account_no", name="uq_waste_accounts_no"),
        UniqueConstraint("tenant_id", "id", name="uq_waste_accounts_tenant_id_id"),
        ForeignKeyConstraint(["tenant_id", "route_id"], ["waste_routes.tenant_id", "waste_routes.id"],
                             name="fk_waste_accounts_route", ondelete="RESTRICT"),
        ForeignKeyConstraint(["tenant_id", "request_id"], ["service_requests.tenant_id", "service_requests.id"],
                             name="fk_waste_accounts_request"),
        Index("ix_waste_accounts_tenant_route", "tenant_id", "route_id", "route_seq"),
        Index("ix_waste_accounts_tenant_holder", "tenant_id", "holder_name"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_no: Mapped[str] = mapped_column(String(12), nullable=False)  # digits only: Ref1 of its bills
    # printed on every bill: with the account number, what lets a citizen open their bills in the portal
    check_code: Mapped[str] = mapped_column(String(6), nullable=False)
    premises_kind: Mapped[str] = mapped_column(String(16), nullable=False)  # current tier (mirror of the latest)
    litres_per_day: Mapped[Decimal] = mapped_column(Numeric(10, 2), nullable=False)
    holder_name: Mapped[str] = mapped_column(String(200), nullable=False)
    business_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    national_id: Mapped[str | None] = mapped_column(String(13), nullable=True)  # personal data
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)  # personal data
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)  # personal data
    address_line: Mapped[str] = mapped_column(String(300), nullable=False)  # house no., moo, soi, road
    subdistrict_code: Mapped[str] = mapped_column(String(6), nullable=False)  # DOPA code (geothai)
    postcode: Mapped[str] = mapped_column(String(5), nullable=False)
    route_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    route: Mapped[WasteRoute | None] = tenant_link("WasteRoute", "WasteAccount", "route_id")
    route_seq: Mapped[int] = mapped_column(Integer, nullable=False, default=0)  # order on the route sheet
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    end_date: Mapped[date | None] = mapped_column(Date, nullable=True)  # last day of service
    request_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the registration matter
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)

    def __str__(self) -> str:
        return f"{self.account_no} {self.holder_name}"


class WasteAccountTier(TenantScoped, Model):
    """The tier of an account from a day on (premises kind and litres a day, priced by the fee schedule).
    A period is billed at the tier in force on its first day of service."""

    __tablename__ = "waste_account_tiers"
    __table_args__ = (
        UniqueConstraint("tenant_id", "account_id", "effective_from", name="uq_waste_account_tiers"),
        ForeignKeyConstraint(["tenant_id", "account_id"], ["waste_accounts.tenant_id", "waste_accounts.id"],
                             name="fk_waste_account_tiers_account", ondelete="CASCADE"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(Integer, nullable=False)
    effective_from: Mapped[date] = mapped_column(Date, nullable=False)
    premises_kind: Mapped[str] = mapped_column(String(16), nullable=False)
    litres_per_day: Mapped[Decimal] = mapped_column(Numeric(10, 2), nullable=False)
    recorded_by_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    recorded_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)


class BillingRun(TenantScoped, Model):
    """One execution of billing a period. The cursor (last account id done) is committed with each chunk of
    invoices, so a crashed run resumes where it stopped; invoices are unique per account and period, so a
    second run of the same period creates nothing already there."""

    __tablename__ = "waste_billing_runs"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id", name="uq_waste_billing_runs_tenant_id_id"),
        Index("ix_waste_billing_runs_tenant_period", "tenant_id", "period_start"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period_start: Mapped[date] = mapped_column(Date, nullable=False)
    period_end: Mapped[date] = mapped_column(Date, nullable=False)
    due_date: Mapped[date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="queued")  # queued|running|done|failed
    total_accounts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    processed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    amount_total: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False, default=Decimal("0.00"))
    last_account_id: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # accounts whose tier the schedule could not price: never billed silently at 0, listed by tier with the
    # reason ([{"kind", "litres", "reason", "count", "accounts": [account_no, ... up to a cap]}])
    skipped_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    skipped: Mapped[list | None] = mapped_column(JSON, nullable=True)
    started_by_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # the last chunk committed: a run "running" with no progress for long is a worker that died
    updated_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class WasteReceipt(TenantScoped, Model):
    """A receipt (ใบเสร็จรับเงิน) for one or more bills of one account, numbered without gaps per organisation
    and fiscal year. A bank payment keeps the bank's transaction reference, once per organisation."""

    __tablename__ = "waste_receipts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "fiscal_year", "number", name="uq_waste_receipts_number"),
        UniqueConstraint("tenant_id", "bank_txn_ref", name="uq_waste_receipts_bank_txn"),
        UniqueConstraint("tenant_id", "id", name="uq_waste_receipts_tenant_id_id"),
        ForeignKeyConstraint(["tenant_id", "account_id"], ["waste_accounts.tenant_id", "waste_accounts.id"],
                             name="fk_waste_receipts_account", ondelete="RESTRICT"),
        Index("ix_waste_receipts_tenant_paid_on", "tenant_id", "paid_on"),
        Index("ix_waste_receipts_tenant_account", "tenant_id", "account_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fiscal_year: Mapped[int] = mapped_column(Integer, nullable=False)  # พ.ศ.
    # empty only inside the transaction that issues it, until its last statement (app/billing/receipts.py)
    number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    account_id: Mapped[int] = mapped_column(Integer, nullable=False)
    account: Mapped[WasteAccount] = tenant_link("WasteAccount", "WasteReceipt", "account_id")
    paid_on: Mapped[date] = mapped_column(Date, nullable=False)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False)
    method: Mapped[str] = mapped_column(String(16), nullable=False)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)  # counter | bank_file
    bank_txn_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)
    recorded_by_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("ab_user.id"), nullable=True)
    recorded_by_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    recorded_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    # a cancelled receipt keeps its number (the book has no gap) and frees its bills
    voided_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    void_reason: Mapped[str | None] = mapped_column(String(300), nullable=True)
    voided_by_name: Mapped[str | None] = mapped_column(String(200), nullable=True)

    @property
    def label(self) -> str:
        """เลขที่ 123/2570"""
        return f"{self.number}/{self.fiscal_year}"


class WasteInvoice(TenantScoped, Model):
    """A bill (ใบแจ้งหนี้) of one account for one period; paid when a receipt that is not voided names it."""

    __tablename__ = "waste_invoices"
    __table_args__ = (
        UniqueConstraint("tenant_id", "account_id", "period_start", name="uq_waste_invoices_period"),
        UniqueConstraint("tenant_id", "id", name="uq_waste_invoices_tenant_id_id"),
        ForeignKeyConstraint(["tenant_id", "account_id"], ["waste_accounts.tenant_id", "waste_accounts.id"],
                             name="fk_waste_invoices_account", ondelete="RESTRICT"),
        ForeignKeyConstraint(["tenant_id", "run_id"], ["waste_billing_runs.tenant_id", "waste_billing_runs.id"],
                             name="fk_waste_invoices_run"),
        ForeignKeyConstraint(["tenant_id", "receipt_id"], ["waste_receipts.tenant_id", "waste_receipts.id"],
                             name="fk_waste_invoices_receipt"),
        Index("ix_waste_invoices_tenant_period", "tenant_id", "period_start"),
        Index("ix_waste_invoices_tenant_receipt", "tenant_id", "receipt_id"),
        Index("ix_waste_invoices_tenant_due", "tenant_id", "due_date"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(Integer, nullable=False)
    account: Mapped[WasteAccount] = tenant_link("WasteAccount", "WasteInvoice", "account_id")
    run_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    period_start: Mapped[date] = mapped_column(Date, nullable=False)
    period_end: Mapped[date] = mapped_column(Date, nullable=False)
    due_date: Mapped[date] = mapped_column(Date, nullable=False)
    premises_kind: Mapped[str] = mapped_column(String(16), nullable=False)  # the tier billed
    litres_per_day: Mapped[Decimal] = mapped_column(Numeric(10, 2), nullable=False)
    fee_code: Mapped[str] = mapped_column(String(64), nullable=False)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False)
    # the late surcharge charged when it was paid after its due date (0 when paid on time or unpaid)
    surcharge: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False, default=Decimal("0.00"))
    receipt_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)


class WasteReceiptLine(TenantScoped, Model):
    """A bill as a receipt paid it (period, amount, surcharge), kept for good: voiding the receipt frees the
    bill (its receipt_id is cleared) but the voided receipt still shows and prints what it had paid."""

    __tablename__ = "waste_receipt_lines"
    __table_args__ = (
        UniqueConstraint("tenant_id", "receipt_id", "invoice_id", name="uq_waste_receipt_lines"),
        ForeignKeyConstraint(["tenant_id", "receipt_id"], ["waste_receipts.tenant_id", "waste_receipts.id"],
                             name="fk_waste_receipt_lines_receipt", ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "invoice_id"], ["waste_invoices.tenant_id", "waste_invoices.id"],
                             name="fk_waste_receipt_lines_invoice", ondelete="RESTRICT"),
        Index("ix_waste_receipt_lines_invoice", "tenant_id", "invoice_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    receipt_id: Mapped[int] = mapped_column(Integer, nullable=False)
    invoice_id: Mapped[int] = mapped_column(Integer, nullable=False)
    period_start: Mapped[date] = mapped_column(Date, nullable=False)
    period_end: Mapped[date] = mapped_column(Date, nullable=False)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False)
    surcharge: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False)

    @property
    def total(self) -> Decimal:
        return self.amount + self.surcharge


class BankImport(TenantScoped, Model):
    """One bank payment file as uploaded; every line is kept with what became of it."""

    __tablename__ = "waste_bank_imports"
    __table_args__ = (UniqueConstraint("tenant_id", "id", name="uq_waste_bank_imports_tenant_id_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="queued")  # queued|running|done|failed
    line_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    applied: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    unmatched: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    malformed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("ab_user.id"), nullable=True)
    uploaded_by_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    uploaded_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class BankImportLine(TenantScoped, Model):
    """A line of a bank file: applied (a receipt), duplicate (its transaction was seen before), unmatched
    (no bill for its Ref1/Ref2, or a different amount: for review), malformed (with the reason), resolved."""

    __tablename__ = "waste_bank_import_lines"
    __table_args__ = (
        UniqueConstraint("tenant_id", "import_id", "line_no", name="uq_waste_bank_import_lines"),
        ForeignKeyConstraint(["tenant_id", "import_id"], ["waste_bank_imports.tenant_id", "waste_bank_imports.id"],
                             name="fk_waste_bank_import_lines_import", ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "receipt_id"], ["waste_receipts.tenant_id", "waste_receipts.id"],
                             name="fk_waste_bank_import_lines_receipt"),
        Index("ix_waste_bank_import_lines_status", "tenant_id", "status"),
        # a transaction reference is looked up in every earlier import, line by line
        Index("ix_waste_bank_import_lines_txn", "tenant_id", "txn_ref"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    import_id: Mapped[int] = mapped_column(Integer, nullable=False)
    line_no: Mapped[int] = mapped_column(Integer, nullable=False)
    raw: Mapped[str] = mapped_column(Text, nullable=False)
    txn_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)
    paid_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2), nullable=True)
    ref1: Mapped[str | None] = mapped_column(String(20), nullable=True)
    ref2: Mapped[str | None] = mapped_column(String(20), nullable=True)
    status: Mapped[str] = mapped_column(String(12), nullable=False)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    receipt_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    resolved_by_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
