"""Waste-fee money reports, computed by the database: arrears (ค้างชำระ) per route and per account of a route,
with the late surcharge that would apply on the day asked, and the yearly summary of a fiscal year (October to
September, พ.ศ.): billed, collected, outstanding, month by month. No report loads every bill: each figure is a
GROUP BY; only the surcharge is priced in Python, once per (period, fee code, amount) group, because the fee
schedule's rule rounds per bill.

A bill is open (not paid) when it has no receipt or its receipt was voided."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import and_, case, distinct, extract, func, or_, select

from app import thai
from app.billing import tariff as tariffs
from app.billing.models import WasteAccount, WasteInvoice, WasteReceipt, WasteRoute
from app.extensions import db
from app.tenancy.models import localized

ZERO = Decimal("0.00")
NO_ROUTE = "none"  # the route key of accounts on no route


def is_open():
    """SQL: the bill is not paid (no receipt, or a voided one)."""
    voided = select(WasteReceipt.id).where(WasteReceipt.id == WasteInvoice.receipt_id,
                                           WasteReceipt.voided_at.is_not(None)).exists()
    return or_(WasteInvoice.receipt_id.is_(None), voided)


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"))


class SurchargePricer:
    """The late surcharge of `count` overdue bills of one amount, period and fee code (the schedule of each
    period priced once; none when the schedule is gone or has no surcharge rule)."""

    def __init__(self):
        self._conf = tariffs.settings()
        self._tariffs: dict[date, tariffs.Tariff | None] = {}

    def tariff(self, period_start: date) -> tariffs.Tariff | None:
        if period_start not in self._tariffs:
            try:
                self._tariffs[period_start] = tariffs.tariff(period_start, self._conf)
            except Exception:  # the service or its schedule was removed: nothing can be priced
                self._tariffs[period_start] = None
        return self._tariffs[period_start]

    def one(self, period_start: date, fee_code: str, amount: Decimal) -> Decimal:
        found = self.tariff(period_start)
        return found.surcharge(fee_code, Decimal(amount)) if found is not None else ZERO

    def of(self, period_start: date, fee_code: str, amount: Decimal, count: int) -> Decimal:
        return self.one(period_start, fee_code, amount) * int(count)

    def percent(self, period_start: date, fee_code: str) -> Decimal:
        """The surcharge rate on this fee (20 for s.65), 0 when none."""
        found = self.tariff(period_start)
        if found is None:
            return ZERO
        return sum((Decimal(str(rule["percent"])) for rule in found.rules if rule["kind"] == "late_surcharge"
                    and (not rule.get("of") or fee_code in rule["of"])), Decimal("0"))


# --- arrears ----------------------------------------------------------------------------------------------

@dataclass
class ArrearsRow:
    route_key: str  # route id as text, or NO_ROUTE
    route_code: str
    route_name: str
    accounts: int = 0
    bills: int = 0
    amount: Decimal = ZERO
    surcharge: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.amount + self.surcharge


@dataclass
class Arrears:
    on: date
    rows: list[ArrearsRow]

    @property
    def totals(self) -> ArrearsRow:
        total = ArrearsRow("", "", _("Total"))
        for row in self.rows:
            total.accounts += row.accounts
            total.bills += row.bills
            total.amount += row.amount
            total.surcharge += row.surcharge
        return total


def _overdue(on: date):
    return and_(is_open(), WasteInvoice.due_date < on)


def arrears_by_route(on: date | None = None) -> Arrears:
    """Per route: accounts with an overdue open bill, those bills, their amount and the surcharge due `on`."""
    on = on or thai.today_bangkok()
    route_id = WasteAccount.route_id
    base = (select(route_id, func.count(distinct(WasteInvoice.account_id)), func.count(WasteInvoice.id),
                   func.sum(WasteInvoice.amount))
            .select_from(WasteInvoice).join(WasteAccount, WasteAccount.id == WasteInvoice.account_id)
            .where(_overdue(on)).group_by(route_id))
    groups = _surcharge_groups(_overdue(on), route_id)
    routes = {r.id: r for r in db.session.scalars(select(WasteRoute))}
    rows: dict[int | None, ArrearsRow] = {}
    for rid, accounts, bills, amount in db.session.execute(base):
        route = routes.get(rid)
        rows[rid] = ArrearsRow(str(rid) if rid is not None else NO_ROUTE, route.code if route else "",
                               localized(route.name_th, route.name_en or "") if route else _("No route"), accounts, bills, _money(amount))
    pricer = SurchargePricer()
    for rid, period_start, fee_code, amount, count in db.session.execute(groups):
        rows[rid].surcharge += pricer.of(period_start, fee_code, amount, count)
    ordered = sorted(rows.values(), key=lambda r: (r.route_key == NO_ROUTE, r.route_code))
    return Arrears(on, ordered)


@dataclass
class AccountArrears:
    account_id: int
    account_no: str
    holder_name: str
    address_line: str
    route_seq: int
    bills: int
    amount: Decimal
    oldest: date
    surcharge: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.amount + self.surcharge


@dataclass
class RouteArrears:
    on: date
    rows: list[AccountArrears]
    total_accounts: int  # on every page
    offset: int
    limit: int
    totals: dict = field(default_factory=dict)


def _route_clause(route_key: str):
    if route_key == NO_ROUTE:
        return WasteAccount.route_id.is_(None)
    return WasteAccount.route_id == int(route_key)


def _surcharge_groups(where, *keys):
    """(keys..., surcharge) of the overdue bills matching `where`, grouped by keys plus what prices them."""
    return (select(*keys, WasteInvoice.period_start, WasteInvoice.fee_code, WasteInvoice.amount,
                   func.count(WasteInvoice.id))
            .select_from(WasteInvoice).join(WasteAccount, WasteAccount.id == WasteInvoice.account_id)
            .where(where)
            .group_by(*keys, WasteInvoice.period_start, WasteInvoice.fee_code, WasteInvoice.amount))


def arrears_of_route(route_key: str, on: date | None = None, offset: int = 0,
                     limit: int | None = 300) -> RouteArrears:
    """The accounts of one route (or of no route) in arrears, in route order, a page at a time (all of
    them with limit=None, for the CSV), and the route's totals."""
    on = on or thai.today_bangkok()
    where = and_(_overdue(on), _route_clause(route_key))
    per_account = (select(WasteAccount.id, WasteAccount.account_no, WasteAccount.holder_name,
                          WasteAccount.address_line, WasteAccount.route_seq, func.count(WasteInvoice.id),
                          func.sum(WasteInvoice.amount), func.min(WasteInvoice.period_start))
                   .select_from(WasteInvoice).join(WasteAccount, WasteAccount.id == WasteInvoice.account_id)
                   .where(where)
                   .group_by(WasteAccount.id, WasteAccount.account_no, WasteAccount.holder_name,
                             WasteAccount.address_line, WasteAccount.route_seq)
                   .order_by(WasteAccount.route_seq, WasteAccount.account_no, WasteAccount.id))
    if limit is not None:
        per_account = per_account.offset(offset).limit(limit)
    rows = [AccountArrears(*values[:5], bills=values[5], amount=_money(values[6]), oldest=values[7])
            for values in db.session.execute(per_account)]
    pricer = SurchargePricer()
    by_id = {row.account_id: row for row in rows}
    if by_id:
        groups = _surcharge_groups(and_(where, WasteInvoice.account_id.in_(list(by_id))), WasteInvoice.account_id)
        for account_id, period_start, fee_code, amount, count in db.session.execute(groups):
            by_id[account_id].surcharge += pricer.of(period_start, fee_code, amount, count)
    accounts, bills, amount = db.session.execute(
        select(func.count(distinct(WasteInvoice.account_id)), func.count(WasteInvoice.id),
               func.sum(WasteInvoice.amount))
        .select_from(WasteInvoice).join(WasteAccount, WasteAccount.id == WasteInvoice.account_id).where(where)).one()
    surcharge = sum((pricer.of(period_start, fee_code, value, count)
                     for period_start, fee_code, value, count in db.session.execute(_surcharge_groups(where))), ZERO)
    totals = {"accounts": accounts or 0, "bills": bills or 0, "amount": _money(amount), "surcharge": surcharge,
              "total": _money(amount) + surcharge}
    return RouteArrears(on, rows, totals["accounts"], offset, limit or 0, totals)


# --- the yearly summary -----------------------------------------------------------------------------------

@dataclass
class MonthRow:
    month: date  # its first day
    billed_count: int = 0
    billed_amount: Decimal = ZERO
    collected_count: int = 0  # receipts
    collected_amount: Decimal = ZERO  # what the receipts took in, surcharge included
    collected_surcharge: Decimal = ZERO
    outstanding_count: int = 0  # of the bills of the month, still open
    outstanding_amount: Decimal = ZERO

    @property
    def label(self) -> str:
        return f"{thai.month_names('wide')[self.month.month]} {thai.be_year(self.month)}"


@dataclass
class YearSummary:
    fiscal_year: int  # พ.ศ.
    months: list[MonthRow]

    @property
    def totals(self) -> MonthRow:
        total = MonthRow(self.months[0].month)
        for row in self.months:
            for name in ("billed_count", "billed_amount", "collected_count", "collected_amount",
                         "collected_surcharge", "outstanding_count", "outstanding_amount"):
                setattr(total, name, getattr(total, name) + getattr(row, name))
        return total


def _months(fiscal_year_be: int) -> list[date]:
    first, _last = thai.fiscal_year_bounds(fiscal_year_be)
    return [date(first.year + (first.month - 1 + i) // 12, (first.month - 1 + i) % 12 + 1, 1) for i in range(12)]


def yearly_summary(fiscal_year_be: int) -> YearSummary:
    """Fiscal year พ.ศ. (October to September), month by month: bills of the periods starting that month
    (count, amount) and how many of them are still open; receipts not voided paid that month (count, amount,
    of which late surcharge)."""
    first, last = thai.fiscal_year_bounds(fiscal_year_be)
    rows = {month: MonthRow(month) for month in _months(fiscal_year_be)}

    def month_of(column):
        return extract("year", column), extract("month", column)

    year, month = month_of(WasteInvoice.period_start)
    billed = (select(year, month, func.count(WasteInvoice.id), func.sum(WasteInvoice.amount),
                     func.sum(case_open(1)), func.sum(case_open(WasteInvoice.amount)))
              .where(WasteInvoice.period_start >= first, WasteInvoice.period_start <= last)
              .group_by(year, month))
    for y, m, count, amount, open_count, open_amount in db.session.execute(billed):
        row = rows[date(int(y), int(m), 1)]
        row.billed_count, row.billed_amount = count, _money(amount)
        row.outstanding_count, row.outstanding_amount = int(open_count or 0), _money(open_amount)
    in_year = and_(WasteReceipt.voided_at.is_(None), WasteReceipt.paid_on >= first, WasteReceipt.paid_on <= last)
    year, month = month_of(WasteReceipt.paid_on)
    collected = (select(year, month, func.count(WasteReceipt.id), func.sum(WasteReceipt.amount))
                 .where(in_year).group_by(year, month))
    for y, m, count, amount in db.session.execute(collected):
        row = rows[date(int(y), int(m), 1)]
        row.collected_count, row.collected_amount = count, _money(amount)
    surcharges = (select(year, month, func.sum(WasteInvoice.surcharge))
                  .select_from(WasteInvoice).join(WasteReceipt, WasteReceipt.id == WasteInvoice.receipt_id)
                  .where(in_year).group_by(year, month))
    for y, m, amount in db.session.execute(surcharges):
        rows[date(int(y), int(m), 1)].collected_surcharge = _money(amount)
    return YearSummary(fiscal_year_be, list(rows.values()))


def case_open(value):
    """SQL: `value` for an open bill, else 0 (summed per month)."""
    return case((is_open(), value), else_=0)


def fiscal_years() -> list[int]:
    """The fiscal years (พ.ศ.) with bills or receipts, newest first; this one when there are none yet."""
    years = {thai.fiscal_year(thai.today_bangkok())}
    for column in (WasteInvoice.period_start, WasteReceipt.paid_on):
        low, high = db.session.execute(select(func.min(column), func.max(column))).one()
        if low is not None:
            years.update(range(thai.fiscal_year(low), thai.fiscal_year(high) + 1))
    return sorted(years, reverse=True)


# --- CSV --------------------------------------------------------------------------------------------------

def _csv(header: list[str], rows) -> str:
    out = io.StringIO()
    out.write("\ufeff")  # so that Excel opens Thai text as UTF-8
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def arrears_csv(report: Arrears) -> str:
    rows = [[r.route_code, r.route_name, r.accounts, r.bills, f"{r.amount:.2f}", f"{r.surcharge:.2f}",
             f"{r.total:.2f}"] for r in report.rows]
    t = report.totals
    rows.append(["", _("Total"), t.accounts, t.bills, f"{t.amount:.2f}", f"{t.surcharge:.2f}", f"{t.total:.2f}"])
    return _csv([_("Route code"), _("Route"), _("Accounts in arrears"), _("Bills in arrears"),
                 _("Amount in arrears"), _("Surcharge due today"), _("Total due")], rows)


def route_arrears_csv(report: RouteArrears) -> str:
    rows = [[r.route_seq, r.account_no, r.holder_name, r.address_line, r.bills,
             tariffs.period_label(r.oldest), f"{r.amount:.2f}", f"{r.surcharge:.2f}", f"{r.total:.2f}"]
            for r in report.rows]
    t = report.totals
    rows.append(["", "", _("Total"), "", t["bills"], "", f"{t['amount']:.2f}", f"{t['surcharge']:.2f}",
                 f"{t['total']:.2f}"])
    return _csv([_("Order on the route"), _("Account no."), _("Account holder"), _("Address"),
                 _("Bills in arrears"), _("Oldest period"), _("Amount in arrears"), _("Surcharge due today"),
                 _("Total due")], rows)


def yearly_csv(summary: YearSummary) -> str:
    def line(label: str, r: MonthRow) -> list:
        return [label, r.billed_count, f"{r.billed_amount:.2f}", r.collected_count, f"{r.collected_amount:.2f}",
                f"{r.collected_surcharge:.2f}", r.outstanding_count, f"{r.outstanding_amount:.2f}"]

    rows = [line(r.label, r) for r in summary.months]
    rows.append(line(_("Total"), summary.totals))
    return _csv([_("Month"), _("Bills issued"), _("Amount billed"), _("Receipts"), _("Amount collected"),
                 _("Of which late surcharge"), _("Bills still unpaid"), _("Amount outstanding")], rows)
