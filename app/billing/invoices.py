"""A bill as the payer sees it: what is due on a given day (the late surcharge once past its due date), the
Thai QR that pays it (Ref1 the account number, Ref2 the period), and the check code that, with the account
number, opens an account's bills in the portal."""
from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from app import thai
from app.billing import tariff as tariffs
from app.billing.models import WasteAccount, WasteInvoice, WasteReceipt
from app.extensions import db
from app.portal import thaiqr


def new_check_code() -> str:
    return f"{secrets.randbelow(10 ** 6):06d}"


def check_code_matches(account: WasteAccount, given: str) -> bool:
    return hmac.compare_digest(account.check_code, "".join(ch for ch in str(given or "") if ch.isdigit()))


def ref2(invoice: WasteInvoice) -> str:
    return f"{thai.be_year(invoice.period_start)}{invoice.period_start.month:02d}"


@dataclass(frozen=True)
class Due:
    amount: Decimal  # the bill
    surcharge: Decimal  # added when paid after the due date
    late: bool

    @property
    def total(self) -> Decimal:
        return self.amount + self.surcharge


class DueCalculator:
    """Amounts due for many bills on one day, pricing each period's schedule once."""

    def __init__(self, on: date | None = None):
        self.on = on or thai.today_bangkok()
        self._tariffs: dict[date, tariffs.Tariff | None] = {}
        self._conf = tariffs.settings()

    def _tariff(self, period_start: date) -> tariffs.Tariff | None:
        if period_start not in self._tariffs:
            try:
                self._tariffs[period_start] = tariffs.tariff(period_start, self._conf)
            except Exception:  # the schedule was removed: no surcharge can be priced
                self._tariffs[period_start] = None
        return self._tariffs[period_start]

    def due(self, invoice: WasteInvoice) -> Due:
        late = self.on > invoice.due_date
        surcharge = Decimal("0.00")
        if late:
            found = self._tariff(invoice.period_start)
            if found is not None:
                surcharge = found.surcharge(invoice.fee_code, invoice.amount)
        return Due(invoice.amount, surcharge, late)


def due(invoice: WasteInvoice, on: date | None = None) -> Due:
    return DueCalculator(on).due(invoice)


def is_paid(invoice: WasteInvoice) -> bool:
    return invoice.receipt_id is not None


def unpaid(account_id: int) -> list[WasteInvoice]:
    """The account's open bills, oldest first."""
    return list(db.session.scalars(
        select(WasteInvoice).where(WasteInvoice.account_id == account_id, WasteInvoice.receipt_id.is_(None))
        .order_by(WasteInvoice.period_start)))


def receipts_of(account_id: int) -> list[WasteReceipt]:
    return list(db.session.scalars(select(WasteReceipt).where(WasteReceipt.account_id == account_id)
                                   .order_by(WasteReceipt.paid_on.desc(), WasteReceipt.id.desc())))


def qr_payload(tenant, invoice: WasteInvoice, total: Decimal) -> str | None:
    """The Thai QR payload for paying `total` on this bill; None when the organisation has no biller ID."""
    if not tenant.promptpay_biller_id or total <= 0:
        return None
    return thaiqr.payload(tenant.promptpay_biller_id, total, invoice.account.account_no, ref2(invoice))
