"""Citizens' waste-collection bills in the portal, at /t/<DLA code>/waste: the account number and the check code
printed on every bill open that account's bills for a short while in this browser only; each unpaid bill has
its own Thai QR for what is due today (the late surcharge once past its due date), paid bills their receipts.
A payer sees only what paying needs: the holder's name masked and the address without its house number.

The routes live on the portal blueprint (same organisation from the address, same scope and rate limiter);
app.portal.views.init_app imports this module before registering the blueprint."""
from __future__ import annotations

import re
import time
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import geothai
from flask import Response, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from app import thai
from app.billing import invoices, tariff
from app.billing.models import WasteAccount, WasteInvoice, WasteReceipt
from app.extensions import db
from app.portal.views import bp

ACCESS_KEY = "portal_waste_access"
MAX_REMEMBERED = 5  # accounts one browser keeps open per organisation (a family paying for parents, a landlord)
DEFAULT_ACCESS_MINUTES = 30
PAID_SHOWN = 24  # the most recent paid bills listed

# --- what a payer is shown (no request objects here) ------------------------------------------------------

TITLES = ("นางสาว", "เด็กชาย", "เด็กหญิง", "น.ส.", "ด.ช.", "ด.ญ.", "นาย", "นาง", "Mrs.", "Miss", "Mr.", "Ms.")


def _clusters(word: str) -> list[str]:
    """Letters with their vowel and tone marks (Thai marks above and below belong to the letter before)."""
    out: list[str] = []
    for ch in word:
        if out and unicodedata.category(ch) in ("Mn", "Mc"):
            out[-1] += ch
        else:
            out.append(ch)
    return out


def _mask_word(word: str) -> str:
    letters = _clusters(word)
    if len(letters) < 2:  # a one-letter word never shows whole: its letter without the vowel
        return word[:1] + "***"
    keep = min(2, len(letters) - 1)
    return "".join(letters[:keep]) + "***"


def mask_name(name: str | None) -> str:
    """นางสมศรี ใจดี -> สม*** ใจ***: enough for the payer to recognise the bill, too little to learn a name."""
    words = (name or "").split()
    if words:
        for title in TITLES:
            if words[0].startswith(title):
                rest = words[0][len(title):]
                words = ([rest] if rest else []) + words[1:]
                break
    return " ".join(_mask_word(w) for w in words if w)


_HOUSE_NO = re.compile(r"^[0-9๐-๙]+(?:[/\-][0-9๐-๙]+)*[,.]?$")
_HOUSE_WORDS = ("บ้านเลขที่", "เลขที่")


def street_without_house_no(line: str | None) -> str:
    """99/1 หมู่ 3 ซอย 5 -> หมู่ 3 ซอย 5: the house number leads the line and goes; every word after it stays,
    numbers included (หมู่ 3, ถนนสมโภช 700 ปี)."""
    out: list[str] = []
    for token in (line or "").split():
        for word in _HOUSE_WORDS:
            if token.startswith(word):
                token = token[len(word):]
                break
        if not token:
            continue
        if not out and _HOUSE_NO.match(token):
            continue
        out.append(token)
    return " ".join(out)


def public_address(account: WasteAccount, english: bool = False) -> str:
    """หมู่ 3 ต.แม่เหียะ อ.เมืองเชียงใหม่ จ.เชียงใหม่ 50100 (no house number)."""
    street = street_without_house_no(account.address_line)
    found = geothai.address(account.subdistrict_code)
    if found is None:
        parts = [street, account.postcode]
    elif english:
        parts = [street, f"{found.subdistrict.name_en}, {found.district.name_en}, {found.province.name_en}",
                 account.postcode]
    else:
        parts = [street, f"ต.{found.subdistrict.name_th} อ.{found.district.name_th} จ.{found.province.name_th}",
                 account.postcode]
    return " ".join(p for p in parts if p)


period_label = tariff.period_label


@dataclass(frozen=True)
class OpenBill:
    invoice: WasteInvoice
    due: invoices.Due
    ref2: str
    payable_by_qr: bool

    @property
    def label(self) -> str:
        return period_label(self.invoice.period_start)


@dataclass(frozen=True)
class PaidBill:
    invoice: WasteInvoice
    receipt: WasteReceipt

    @property
    def label(self) -> str:
        return period_label(self.invoice.period_start)

    @property
    def paid(self) -> Decimal:
        return self.invoice.amount + self.invoice.surcharge


def open_bills(tenant, account: WasteAccount, on: date | None = None) -> list[OpenBill]:
    calculator = invoices.DueCalculator(on)
    rows = []
    for invoice in invoices.unpaid(account.id):
        due = calculator.due(invoice)
        rows.append(OpenBill(invoice, due, invoices.ref2(invoice),
                             bool(tenant.promptpay_biller_id) and due.total > 0))
    return rows


def paid_bills(account: WasteAccount, limit: int = PAID_SHOWN) -> list[PaidBill]:
    """Bills paid by a receipt still in force, newest period first."""
    rows = db.session.execute(
        select(WasteInvoice, WasteReceipt).join(WasteReceipt, WasteReceipt.id == WasteInvoice.receipt_id)
        .where(WasteInvoice.account_id == account.id, WasteReceipt.voided_at.is_(None))
        .order_by(WasteInvoice.period_start.desc()).limit(limit))
    return [PaidBill(invoice, receipt) for invoice, receipt in rows]


def find_account(account_no: str, check_code: str) -> WasteAccount | None:
    """The current organisation's account with that number and check code; None for an unknown number and a
    wrong code alike, compared in constant time either way (the answer and its timing say nothing of which)."""
    digits = "".join(ch for ch in str(account_no or "") if ch.isdigit())
    if 0 < len(digits) < 7:
        digits = digits.zfill(7)  # typed without its leading zeros
    account = None
    if 0 < len(digits) <= 12:
        account = db.session.scalar(select(WasteAccount).where(WasteAccount.account_no == digits))
    probe = account if account is not None else WasteAccount(check_code="000000")
    matched = invoices.check_code_matches(probe, check_code)
    return account if account is not None and matched else None


# --- access: which accounts this browser has opened, per organisation, for a short while --------------------

def _lifetime() -> int:
    return int(current_app.config.get("PORTAL_WASTE_ACCESS_MINUTES", DEFAULT_ACCESS_MINUTES)) * 60


def _remembered(tenant_id: int) -> dict[str, int]:
    now = int(time.time())
    kept = (session.get(ACCESS_KEY) or {}).get(str(tenant_id)) or {}
    return {k: v for k, v in kept.items() if isinstance(v, int) and v > now}


def grant(tenant_id: int, account_id: int) -> None:
    """Kept in the signed session cookie (never the check code); expires after PORTAL_WASTE_ACCESS_MINUTES."""
    kept = {k: v for k, v in _remembered(tenant_id).items() if k != str(account_id)}
    kept[str(account_id)] = int(time.time()) + _lifetime()
    newest = dict(sorted(kept.items(), key=lambda kv: kv[1])[-MAX_REMEMBERED:])
    access = dict(session.get(ACCESS_KEY) or {})
    access[str(tenant_id)] = newest
    session[ACCESS_KEY] = access


def forget(tenant_id: int, account_id: int) -> None:
    access = dict(session.get(ACCESS_KEY) or {})
    kept = {k: v for k, v in _remembered(tenant_id).items() if k != str(account_id)}
    access[str(tenant_id)] = kept
    session[ACCESS_KEY] = access


def allowed(tenant_id: int, account_id: int) -> bool:
    return str(account_id) in _remembered(tenant_id)


# --- pages ------------------------------------------------------------------------------------------------

def _english() -> bool:
    try:
        locale = get_locale()
    except Exception:
        return False
    return locale is not None and locale.language == "en"


@bp.context_processor
def _waste_offered():
    """The portal's home page links to the bills only where the organisation runs waste fees."""

    def offered() -> bool:
        return db.session.scalar(select(WasteAccount.id).limit(1)) is not None

    return {"waste_bills_offered": offered}


def _account_or_redirect(account_id: int):
    tenant = g.portal_tenant
    account = db.session.get(WasteAccount, account_id) if allowed(tenant.id, account_id) else None
    if account is None or account.tenant_id != tenant.id:
        flash(_("Enter the account number and the check code printed on your bill to see your bills."), "warning")
        return redirect(url_for("portal.waste_lookup"))
    return account


@bp.route("/waste", methods=["GET", "POST"])
def waste_lookup():
    account_no = ""
    if request.method == "POST":
        account_no = (request.form.get("account_no") or "").strip()[:40]
        account = find_account(account_no, (request.form.get("check_code") or "")[:40])
        if account is not None:
            grant(g.portal_tenant.id, account.id)
            return redirect(url_for("portal.waste_account", account_id=account.id))
        flash(_("No account matches that account number and check code. Check both on your bill and try again."),
              "danger")
    return render_template("portal/waste_lookup.html", account_no=account_no)


@bp.route("/waste/<int:account_id>")
def waste_account(account_id: int):
    account = _account_or_redirect(account_id)
    if not isinstance(account, WasteAccount):
        return account
    tenant = g.portal_tenant
    english = _english()
    bills = open_bills(tenant, account)
    return render_template(
        "portal/waste_account.html", account=account, holder=mask_name(account.holder_name),
        business=mask_name(account.business_name) if account.business_name else None,
        address=public_address(account, english), bills=bills,
        total=sum((b.due.total for b in bills), Decimal("0.00")), paid=paid_bills(account),
        has_qr=bool(tenant.promptpay_biller_id),
        today=thai.today_bangkok(),
    )


@bp.route("/waste/bill/<int:invoice_id>/qr.png")
def waste_qr(invoice_id: int):
    """The bill's QR for what is due today; only for a bill of an account this browser opened here."""
    tenant = g.portal_tenant
    invoice = db.session.get(WasteInvoice, invoice_id)
    if invoice is None or invoice.tenant_id != tenant.id or invoice.receipt_id is not None \
            or not allowed(tenant.id, invoice.account_id):
        abort(404)
    payload = invoices.qr_payload(tenant, invoice, invoices.DueCalculator().due(invoice).total)
    if payload is None:
        abort(404)
    from app.portal import thaiqr

    return Response(thaiqr.png(payload), mimetype="image/png", headers={"Cache-Control": "no-store"})


@bp.route("/waste/receipt/<int:receipt_id>.pdf")
def waste_receipt(receipt_id: int):
    """The receipt as PDF (the organisation's official copy); a cancelled one is not handed out here."""
    tenant = g.portal_tenant
    receipt = db.session.get(WasteReceipt, receipt_id)
    if receipt is None or receipt.tenant_id != tenant.id or receipt.voided_at is not None \
            or not allowed(tenant.id, receipt.account_id):
        abort(404)
    from app.billing import receipt_pdf  # WeasyPrint loads only when a receipt is asked for

    return Response(receipt_pdf.render(receipt), mimetype="application/pdf", headers={
        "Cache-Control": "no-store",
        "Content-Disposition": f'attachment; filename="receipt-{receipt.fiscal_year}-{receipt.number}.pdf"'})


@bp.route("/waste/<int:account_id>/close", methods=["POST"])
def waste_close(account_id: int):
    """Close the bills on a shared phone before the access expires by itself."""
    forget(g.portal_tenant.id, account_id)
    flash(_("Your bills are closed on this device."), "success")
    return redirect(url_for("portal.waste_lookup"))
