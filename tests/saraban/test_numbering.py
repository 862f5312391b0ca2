"""Register numbers: gapless and unique under concurrent registrations, restarting each calendar year (or each
fiscal year on 1 October for a register set so), outgoing numbers printed after the book code.

The concurrent part needs PostgreSQL: bash tests/with_postgres.sh .venv/bin/python -m pytest -q -s
tests/saraban/test_numbering.py (prints the numbers per second)."""
from __future__ import annotations

import os
import threading
import time
from datetime import date

import pytest
from sqlalchemy import select

from app.extensions import db
from app.saraban import registry
from app.saraban.models import FISCAL, OUTGOING, Document
from app.tenancy.context import tenant_scope
from app.tenancy.errors import UserError
from tests.saraban.documents import make, new_register
from tests.saraban.people import saraban  # noqa: F401

THREADS, PER_THREAD = 8, 25
ON_POSTGRES = "postgresql" in os.environ.get("DATABASE_URL", "")


def numbers_of(register_id: int, year: int) -> list[int]:
    return list(db.session.scalars(select(Document.register_no).where(
        Document.register_id == register_id, Document.register_year == year).order_by(Document.register_no)))


def _register_one(app, tenant_id: int, register_id: int, n: int, roll_back: bool, on: date) -> bool:
    """One clerk's registration in its own app context, session and transaction."""
    with app.app_context(), tenant_scope(tenant_id):
        try:
            make(register_id, f"หนังสือทดสอบเลขทะเบียน {n}", on=on)
            if roll_back:  # the registration fails after the number was taken
                db.session.rollback()
                return False
            db.session.commit()
            return True
        finally:
            db.session.remove()


def _new_register_id(app, tenant_id: int, **kwargs) -> int:
    with app.app_context(), tenant_scope(tenant_id):
        register = new_register(**kwargs)
        db.session.commit()
        rid = register.id
        db.session.remove()
    return rid


def test_registrations_are_gapless_and_unique(app, saraban):
    """8 clerks x 25 registrations, one in ten rolled back: 1..N, no gap, no duplicate. PostgreSQL runs the
    clerks as threads at once; SQLite (one writer at a time) runs the same work one after another."""
    tid = saraban["a"].tenant_id
    rid = _new_register_id(app, tid)
    on = date(2026, 6, 15)
    committed: list[bool] = []
    errors: list[BaseException] = []

    def clerk(index: int, barrier=None):
        try:
            if barrier is not None:
                barrier.wait()
            for k in range(PER_THREAD):
                n = index * PER_THREAD + k
                committed.append(_register_one(app, tid, rid, n, roll_back=n % 10 == 0, on=on))
        except BaseException as exc:  # a thread's failure must fail the test
            errors.append(exc)

    started = time.perf_counter()
    if ON_POSTGRES:
        barrier = threading.Barrier(THREADS)
        threads = [threading.Thread(target=clerk, args=(i, barrier)) for i in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
    else:
        for i in range(THREADS):
            clerk(i)
    elapsed = time.perf_counter() - started
    assert not errors, errors
    total = THREADS * PER_THREAD
    kept = committed.count(True)
    assert len(committed) == total and kept == total - len(range(0, total, 10))
    with app.app_context(), tenant_scope(tid):
        assert numbers_of(rid, 2569) == list(range(1, kept + 1))
        db.session.remove()
    print(f"\nsaraban numbering: {kept} registrations committed by {THREADS if ON_POSTGRES else 1} clerk(s) "
          f"({total - kept} rolled back) in {elapsed:.2f} s = {kept / elapsed:.0f} numbers/s "
          f"on {'PostgreSQL' if ON_POSTGRES else 'SQLite'}; 0 gaps, 0 duplicates")


def test_calendar_register_restarts_on_1_january(app, saraban):
    with app.app_context(), tenant_scope(saraban["a"].tenant_id):
        register = new_register()
        first = make(register.id, "หนังสือวันสิ้นปี", on=date(2026, 12, 31))
        second = make(register.id, "หนังสือวันสิ้นปีฉบับสอง", on=date(2026, 12, 31))
        new_year = make(register.id, "หนังสือวันขึ้นปีใหม่", on=date(2027, 1, 1))
        db.session.commit()
        assert (first.register_no, first.register_year) == (1, 2569)
        assert (second.register_no, second.register_year) == (2, 2569)
        assert (new_year.register_no, new_year.register_year) == (1, 2570)
        assert first.number_label == "1/2569" and new_year.number_label == "1/2570"
        assert registry.year_of(register, date(2027, 1, 1)) == 2570
        db.session.remove()


def test_fiscal_register_restarts_on_1_october(app, saraban):
    with app.app_context(), tenant_scope(saraban["a"].tenant_id):
        register = new_register(year_basis=FISCAL)
        december = make(register.id, "หนังสือเดือนธันวาคม", on=date(2026, 12, 31))
        january = make(register.id, "หนังสือเดือนมกราคม", on=date(2027, 1, 1))  # same fiscal year 2570
        september = make(register.id, "หนังสือสิ้นปีงบประมาณ", on=date(2027, 9, 30))
        october = make(register.id, "หนังสือต้นปีงบประมาณ", on=date(2027, 10, 1))
        db.session.commit()
        assert [(d.register_no, d.register_year) for d in (december, january, september, october)] == [
            (1, 2570), (2, 2570), (3, 2570), (1, 2571)]
        db.session.remove()


def test_outgoing_number_is_the_book_code_and_number(app, saraban):
    with app.app_context(), tenant_scope(saraban["a"].tenant_id):
        own = new_register(direction=OUTGOING, book_code="ชม 99901.3")
        letter = make(own.id, "หนังสือส่งของกอง", on=date(2026, 11, 24))
        again = registry.take_number(letter, on=date(2026, 11, 25))  # a retried send changes nothing
        assert again.book_no == "ชม 99901.3/1" and letter.number_label == "ชม 99901.3/1"
        assert letter.dated == date(2026, 11, 24) and letter.register_year == 2569
        # without its own code the register prints the organisation's (tenant.book_prefix)
        plain = new_register(direction=OUTGOING)
        other = make(plain.id, "หนังสือส่งใช้รหัสองค์กร", on=date(2026, 11, 24))
        assert other.book_no == "ชม 99901/1"
        db.session.rollback()
        db.session.remove()


def test_outgoing_without_any_book_code_is_refused_without_a_number(app, saraban):
    from app.tenancy.models import Tenant
    from app.tenancy.context import platform_scope

    tid = saraban["a"].tenant_id
    with app.app_context():
        with platform_scope():
            tenant = db.session.get(Tenant, tid)
            tenant.book_prefix = None
            db.session.commit()
            db.session.remove()
        try:
            with tenant_scope(tid):
                register = new_register(direction=OUTGOING)
                with pytest.raises(UserError):
                    make(register.id, "หนังสือไม่มีรหัส", on=date(2026, 11, 24))
                db.session.rollback()
                db.session.remove()
        finally:
            with platform_scope():
                db.session.get(Tenant, tid).book_prefix = "ชม 99901"
                db.session.commit()
                db.session.remove()
