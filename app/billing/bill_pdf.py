"""Waste-fee bills on paper (ใบแจ้งหนี้ค่าธรรมเนียมเก็บขนมูลฝอย) for collectors to hand out: three slips to an A4
page, cut along the dashed lines, each with the account, the period, what to pay by the due date and after it
(the late surcharge), earlier bills still unpaid, the check code and portal address, and the Thai QR that pays
it (Ref1 the account number, Ref2 the period). WeasyPrint and Sarabun, set up as the certificates are."""
from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import has_request_context, render_template, request
from sqlalchemy import select

from app import thai
from app.billing import invoices, reports
from app.billing import tariff as tariffs
from app.billing.models import WasteAccount, WasteInvoice, WasteReceipt, WasteRoute
from app.catalog.values import address_text
from app.certificates.pdf import font_files
from app.extensions import db
from app.portal import thaiqr
from app.tenancy.context import require_tenant_id
from app.tenancy.models import Tenant

SLIPS_PER_PAGE = 3  # a third of A4 (99 mm) holds every line at 11 pt, and a 3 cm QR scans from a phone


@dataclass
class Arrears:
    count: int
    total: Decimal  # bills plus the surcharge due on the day printed


@dataclass
class Slip:
    bill: WasteInvoice
    account: WasteAccount
    route: WasteRoute | None
    address: str
    period: str  # ธันวาคม 2569
    ref1: str
    ref2: str
    due: invoices.Due  # on the day printed
    after_due: Decimal  # to pay after the due date (surcharge included); = amount when there is no surcharge
    surcharge_percent: Decimal
    arrears: Arrears
    receipt_label: str | None  # paid already (receipt not voided)
    qr_payload: str | None
    qr_data: str | None  # base64 PNG


def portal_address(tenant: Tenant) -> str:
    """Where a citizen opens their bills: the organisation's page of the portal."""
    root = request.url_root.rstrip("/") if has_request_context() else ""
    return f"{root}/t/{tenant.dla_code}/waste"


def _percent_text(value: Decimal) -> str:
    return f"{value.normalize():f}"


def slips(bills: list[WasteInvoice], on: date | None = None, tenant: Tenant | None = None) -> list[Slip]:
    """What each bill's slip shows on day `on` (today in Bangkok by default). Three queries for any number of
    bills: the bills' receipts, and the accounts' earlier unpaid bills (accounts and routes come joined)."""
    on = on or thai.today_bangkok()
    tenant = tenant or db.session.get(Tenant, require_tenant_id())
    if not bills:
        return []
    receipt_ids = {b.receipt_id for b in bills if b.receipt_id is not None}
    receipts = {r.id: r for r in db.session.scalars(select(WasteReceipt).where(WasteReceipt.id.in_(receipt_ids)))} \
        if receipt_ids else {}
    latest = max(b.period_start for b in bills)
    earlier: dict[int, list] = {}
    for row in db.session.execute(
            select(WasteInvoice.account_id, WasteInvoice.period_start, WasteInvoice.due_date, WasteInvoice.fee_code,
                   WasteInvoice.amount)
            .where(WasteInvoice.account_id.in_({b.account_id for b in bills}), WasteInvoice.period_start < latest,
                   reports.is_open())):
        earlier.setdefault(row.account_id, []).append(row)
    pricer = reports.SurchargePricer()
    calculator = invoices.DueCalculator(on)
    places: dict[tuple, str] = {}
    made = []
    for bill in bills:
        account = bill.account
        key = (account.address_line, account.subdistrict_code, account.postcode)
        if key not in places:
            places[key] = address_text({"line": account.address_line, "subdistrict": account.subdistrict_code,
                                        "postcode": account.postcode})
        receipt = receipts.get(bill.receipt_id)
        paid = receipt is not None and receipt.voided_at is None
        owed = [row for row in earlier.get(bill.account_id, ()) if row.period_start < bill.period_start]
        arrears_total = sum((row.amount + (pricer.one(row.period_start, row.fee_code, row.amount)
                                           if on > row.due_date else Decimal("0.00")) for row in owed),
                            Decimal("0.00"))
        due = calculator.due(bill)
        payload = None if paid else invoices.qr_payload(tenant, bill, due.total)
        made.append(Slip(
            bill=bill, account=account, route=account.route, address=places[key],
            period=tariffs.period_label(bill.period_start), ref1=account.account_no, ref2=invoices.ref2(bill),
            due=due, after_due=bill.amount + pricer.one(bill.period_start, bill.fee_code, bill.amount),
            surcharge_percent=pricer.percent(bill.period_start, bill.fee_code),
            arrears=Arrears(len(owed), arrears_total), receipt_label=receipt.label if paid else None,
            qr_payload=payload,
            qr_data=base64.b64encode(thaiqr.png(payload, scale=4)).decode("ascii") if payload else None,
        ))
    return made


def bills_html(bills: list[WasteInvoice], on: date | None = None) -> str:
    """The HTML WeasyPrint prints (in Thai whatever the reader's language: an official document)."""
    from flask_babel import force_locale

    on = on or thai.today_bangkok()
    tenant = db.session.get(Tenant, require_tenant_id())
    made = slips(bills, on, tenant)
    pages = [made[i:i + SLIPS_PER_PAGE] for i in range(0, len(made), SLIPS_PER_PAGE)]
    with force_locale("th"):
        return render_template("billing/bill_slips.html", pages=pages, tenant=tenant, on=on, fonts=font_files(),
                               portal=portal_address(tenant), percent=_percent_text)


def render_bills(bills: list[WasteInvoice], on: date | None = None) -> bytes:
    """The bills as one PDF, in the order given (route order for a route sheet)."""
    from weasyprint import HTML  # imported here: the web starts even where pango is missing

    return HTML(string=bills_html(bills, on), base_url="/").write_pdf()
