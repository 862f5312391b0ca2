"""Opening, re-tiering and closing accounts; pricing a tier from the tenant's schedule; the tenant wall."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.billing import accounts, tariff
from app.billing.models import WasteAccount, WasteAccountTier
from app.extensions import db
from app.tenancy.context import tenant_scope
from tests.billing.waste import account_input, open_account, waste  # noqa: F401


def test_tier_prices_follow_the_schedule(app, waste):
    with app.app_context(), tenant_scope(waste["a"].tenant_id):
        found = tariff.tariff(date(2026, 12, 1))
        assert found.price("household", Decimal("20")) == (Decimal("40.00"), "collection_household")
        assert found.price("household", Decimal("30")) == (Decimal("80.00"), "collection_household")
        assert found.price("business", Decimal("600")) == (Decimal("2000.00"), "collection_business")
        assert found.surcharge("collection_household", Decimal("40.00")) == Decimal("8.00")


def test_periods_and_codes(app, waste):
    with app.app_context(), tenant_scope(waste["a"].tenant_id):
        period = tariff.period(date(2026, 12, 17))
        assert (period.start, period.end, period.due) == (date(2026, 12, 1), date(2026, 12, 31), date(2027, 1, 15))
        assert period.code == "256912"
        assert tariff.period_from_code("2569-12") == period == tariff.period_from_code("12/2569")
        with pytest.raises(Exception):
            tariff.period_from_code("2569-13")


def test_open_account_numbers_per_tenant_and_checks_everything(app, waste):
    with app.app_context():
        a_id = open_account(waste["a"].tenant_id, route_id=waste["a"].route_id)
        b_id = open_account(waste["b"].tenant_id, route_id=waste["b"].route_id)
        with tenant_scope(waste["a"].tenant_id):
            a = db.session.get(WasteAccount, a_id)
            assert a.account_no.isdigit() and len(a.account_no) == 7 and len(a.check_code) == 6
            assert db.session.get(WasteAccount, b_id) is None  # B's account is invisible to A
            before = db.session.scalar(select(func.count()).select_from(WasteAccount))
            with pytest.raises(accounts.AccountError) as caught:
                accounts.open_account(account_input(
                    premises_kind="business", litres_per_day="-3", holder_name="", national_id="1234567890123",
                    route_id=waste["b"].route_id, postcode="10200"), "ผู้ทดสอบ")
            assert set(caught.value.errors) >= {"litres_per_day", "holder_name", "national_id", "route_id",
                                                "address_line", "business_name"}
            db.session.rollback()
            assert db.session.scalar(select(func.count()).select_from(WasteAccount)) == before
            db.session.remove()


def test_change_tier_keeps_history_and_close(app, waste):
    with app.app_context():
        account_id = open_account(waste["a"].tenant_id)
        with tenant_scope(waste["a"].tenant_id):
            account = db.session.get(WasteAccount, account_id)
            accounts.change_tier(account, {"litres_per_day": "60", "effective_from": "2026-12-10"}, "ผู้ทดสอบ")
            db.session.commit()
            assert account.litres_per_day == Decimal("60")
            assert accounts.tier_on(account, date(2026, 12, 1)).litres_per_day == Decimal("20")
            assert accounts.tier_on(account, date(2026, 12, 10)).litres_per_day == Decimal("60")
            with pytest.raises(accounts.AccountError):
                accounts.change_tier(account, {"litres_per_day": "60", "effective_from": "2026-01-01"}, "x")
            accounts.close_account(account, {"end_date": "2027-01-05"})
            db.session.commit()
            assert account.end_date == date(2027, 1, 5)
            assert db.session.scalar(select(func.count()).select_from(WasteAccountTier)
                                     .where(WasteAccountTier.account_id == account_id)) == 2
            db.session.remove()


def test_issue_receipt_claims_unpaid_bills_once(app, waste):
    from app.billing import receipts
    from app.billing.models import WasteInvoice

    with app.app_context():
        account_id = open_account(waste["a"].tenant_id)
        with tenant_scope(waste["a"].tenant_id):
            account = db.session.get(WasteAccount, account_id)
            bill = WasteInvoice(account_id=account_id, period_start=date(2026, 10, 1), period_end=date(2026, 10, 31),
                                due_date=date(2026, 11, 15), premises_kind="household", litres_per_day=Decimal("20"),
                                fee_code="collection_household", amount=Decimal("40.00"))
            db.session.add(bill)
            db.session.commit()
            late = receipts.issue(account, [bill], paid_on=date(2026, 11, 20), method="cash", channel="counter",
                                  actor_id=None, actor_name="ผู้ทดสอบ", expected_total=Decimal("48.00"))
            db.session.commit()
            assert (late.amount, bill.surcharge, bill.receipt_id) == (Decimal("48.00"), Decimal("8.00"), late.id)
            with pytest.raises(Exception):
                receipts.issue(account, [bill], paid_on=date(2026, 11, 20), method="cash", channel="counter",
                               actor_id=None, actor_name="ผู้ทดสอบ")
            db.session.rollback()
            db.session.remove()


@pytest.mark.parametrize("typed, stored", [("3", "0000003"), (" 00 12 ", "0000012"), ("๑๒", "0000012"),
                                           ("0000123", "0000123"), ("abc", "")])
def test_account_numbers_as_typed_or_exported(typed, stored):
    assert accounts.normal_account_no(typed) == stored
