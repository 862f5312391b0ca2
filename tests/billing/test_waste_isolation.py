"""The tenant wall on every waste-fee table: A's unit of work never reads, counts, changes or links B's rows
(B holds look-alike rows: the same account numbers, route codes and periods)."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select, update

from app.billing.models import (
    BankImport, BankImportLine, BillingRun, WasteAccount, WasteAccountTier, WasteInvoice, WasteReceipt,
    WasteReceiptLine, WasteRoute, WasteSettings,
)
from app.extensions import db
from app.numbering import NumberCounter, next_number
from app.tenancy.context import CrossTenantWrite, platform_scope, tenant_scope
from tests.billing.waste import open_account, waste  # noqa: F401

MODELS = (WasteSettings, WasteRoute, WasteAccount, WasteAccountTier, BillingRun, WasteInvoice, WasteReceipt,
          WasteReceiptLine, BankImport, BankImportLine, NumberCounter)


def _rows_for(tenant_id: int, route_id: int) -> dict:
    """One row of every table in a tenant; returns {model name: id}."""
    account_id = open_account(tenant_id, route_id=route_id, litres_per_day="30")
    with tenant_scope(tenant_id):
        if db.session.scalar(select(WasteSettings)) is None:
            db.session.add(WasteSettings(service_code="waste_collection_registration", period_months=1, due_days=15))
        run = BillingRun(period_start=date(2026, 9, 1), period_end=date(2026, 9, 30), due_date=date(2026, 10, 15))
        receipt = WasteReceipt(fiscal_year=2570, number=next_number("waste_receipt", 2570), account_id=account_id,
                               paid_on=date(2026, 10, 2), amount=Decimal("80.00"), method="cash", channel="counter",
                               recorded_by_name="ผู้ทดสอบ")
        db.session.add_all([run, receipt])
        db.session.flush()
        bill = WasteInvoice(account_id=account_id, run_id=run.id, period_start=date(2026, 9, 1),
                            period_end=date(2026, 9, 30), due_date=date(2026, 10, 15), premises_kind="household",
                            litres_per_day=Decimal("30"), fee_code="collection_household", amount=Decimal("80.00"),
                            receipt_id=receipt.id)
        upload = BankImport(filename="bank.csv", sha256="0" * 64)
        db.session.add_all([bill, upload])
        db.session.flush()
        line = BankImportLine(import_id=upload.id, line_no=2, raw="x", status="malformed", message="ทดสอบ")
        paid = WasteReceiptLine(receipt_id=receipt.id, invoice_id=bill.id, period_start=bill.period_start,
                                period_end=bill.period_end, amount=bill.amount, surcharge=Decimal("0.00"))
        db.session.add_all([line, paid])
        db.session.commit()
        ids = {m.__name__: db.session.scalar(select(func.max(m.id))) for m in MODELS}
        db.session.remove()
    return ids


@pytest.fixture(scope="module")
def both(app, waste):
    with app.app_context():
        return {"a": _rows_for(waste["a"].tenant_id, waste["a"].route_id),
                "b": _rows_for(waste["b"].tenant_id, waste["b"].route_id)}


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_a_reads_and_counts_only_its_own_rows(app, waste, both, model):
    with app.app_context():
        with platform_scope():
            a_total = db.session.scalar(select(func.count()).select_from(model)
                                        .where(model.tenant_id == waste["a"].tenant_id))
            db.session.remove()
        with tenant_scope(waste["a"].tenant_id):
            assert db.session.get(model, both["b"][model.__name__]) is None
            assert db.session.get(model, both["a"][model.__name__]) is not None
            assert db.session.scalar(select(func.count()).select_from(model)) == a_total
            assert both["b"][model.__name__] not in set(db.session.scalars(select(model.id)))
            db.session.remove()


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_a_cannot_change_or_delete_bs_rows(app, waste, both, model):
    with app.app_context():
        with platform_scope():
            b_row = db.session.get(model, both["b"][model.__name__])
            db.session.expunge(b_row)
            db.session.remove()
        with tenant_scope(waste["a"].tenant_id):
            merged = db.session.merge(b_row, load=False)
            db.session.delete(merged)
            with pytest.raises(CrossTenantWrite):
                db.session.flush()
            db.session.rollback()
            # bulk statements are filtered too: they touch A's rows only
            db.session.execute(update(model).where(model.id == both["b"][model.__name__])
                               .values(tenant_id=model.tenant_id).execution_options(synchronize_session=False))
            result = db.session.execute(delete(model).where(model.id == both["b"][model.__name__])
                                        .execution_options(synchronize_session=False))
            assert result.rowcount == 0
            db.session.rollback()
            db.session.remove()
        with platform_scope():
            assert db.session.get(model, both["b"][model.__name__]) is not None
            db.session.remove()


def test_a_cannot_link_its_rows_to_bs(app, waste, both):
    with app.app_context(), tenant_scope(waste["a"].tenant_id):
        for row in (
            WasteAccountTier(account_id=both["b"]["WasteAccount"], effective_from=date(2027, 1, 1),
                             premises_kind="household", litres_per_day=Decimal("20")),
            WasteInvoice(account_id=both["b"]["WasteAccount"], period_start=date(2027, 1, 1),
                         period_end=date(2027, 1, 31), due_date=date(2027, 2, 15), premises_kind="household",
                         litres_per_day=Decimal("20"), fee_code="collection_household", amount=Decimal("40.00")),
            BankImportLine(import_id=both["b"]["BankImport"], line_no=99, raw="x", status="malformed"),
            WasteReceiptLine(receipt_id=both["b"]["WasteReceipt"], invoice_id=both["b"]["WasteInvoice"],
                             period_start=date(2026, 9, 1), period_end=date(2026, 9, 30), amount=Decimal("1.00"),
                             surcharge=Decimal("0.00")),
        ):
            db.session.add(row)
            with pytest.raises(Exception):
                db.session.flush()
            db.session.rollback()
        account = db.session.get(WasteAccount, both["a"]["WasteAccount"])
        account.route_id = db.session.scalar(select(WasteRoute.id).where(WasteRoute.tenant_id != account.tenant_id))
        assert account.route_id is None  # B's routes are not even selectable
        db.session.rollback()
        account = db.session.get(WasteAccount, both["a"]["WasteAccount"])
        account.route_id = waste["b"].route_id
        with pytest.raises(Exception):
            db.session.flush()
        db.session.rollback()
        db.session.remove()
