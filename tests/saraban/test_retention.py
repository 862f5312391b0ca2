"""Retention: the yearly destruction list (due 60 days after the year, idempotent), the committee's decisions
(a chair and two members at least), the executive's approval, completion (files deleted, register rows kept
marked destroyed, kept documents kept on), the National Archives list, the yearly task and the CLI; another
organisation's lists and documents are never listed, shown, exported or changed."""
from __future__ import annotations

import os
import re
from datetime import date

from sqlalchemy import select

from app.catalog.attachments import upload_root
from app.extensions import db
from app.saraban import files, retention
from app.saraban.models import (
    ARCHIVES, DESTRUCTION, INCOMING, SECRET, Document, DocumentFile, RetentionItem, RetentionList,
)
from app.tenancy.context import tenant_scope
from tests.conftest import login
from tests.saraban.documents import make, new_register
from tests.saraban.people import saraban  # noqa: F401

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _docs(app, tenant_id: int, specs: list[tuple]) -> list[int]:
    """[(subject, date, retention_years, extra)] -> document ids in a fresh register."""
    with app.app_context(), tenant_scope(tenant_id):
        register = new_register(INCOMING)
        ids = []
        for subject, on, years, extra in specs:
            d = make(register.id, subject, on=on, retention_years=years, **extra)
            ids.append(d.id)
        db.session.commit()
        db.session.remove()
    return ids


def _listed(app, tenant_id: int, kind: str, year: int) -> set[int]:
    with app.app_context(), tenant_scope(tenant_id):
        found = db.session.scalar(select(RetentionList).where(RetentionList.kind == kind, RetentionList.year == year))
        ids = set() if found is None else {i.document_id for i in retention.items(found)}
        db.session.remove()
    return ids


def test_survey_lists_documents_whose_time_ran_out_once(app, saraban):
    tid = saraban["a"].tenant_id
    due, forever, young, gone = _docs(app, tid, [
        ("หนังสือครบกำหนดทำลาย", date(2012, 3, 1), 10, {}),
        ("หนังสือเก็บตลอดไป", date(2012, 3, 1), None, {}),
        ("หนังสือยังไม่ครบกำหนด", date(2017, 3, 1), 10, {}),
        ("หนังสือทำลายไปแล้ว", date(2012, 3, 1), 10, {"disposal": "destroyed"}),
    ])
    b_due, = _docs(app, saraban["b"].tenant_id, [("หนังสือครบกำหนดทำลาย", date(2012, 3, 1), 10, {})])
    with app.app_context(), tenant_scope(tid):
        listing, added = retention.survey(2566)
        db.session.commit()
        assert listing.due_on == date(2024, 2, 29)  # 60 days after 31 December 2566 (2023)
        assert added >= 1
        again, added_again = retention.survey(2566)
        assert again.id == listing.id and added_again == 0  # idempotent
        db.session.remove()
    listed = _listed(app, tid, DESTRUCTION, 2566)
    assert due in listed and not {forever, young, gone, b_due} & listed
    late, = _docs(app, tid, [("หนังสือมาทีหลัง", date(2013, 1, 5), 3, {})])
    with app.app_context(), tenant_scope(tid):
        _listing, added = retention.survey(2566)
        db.session.commit()
        assert added == 1
        db.session.remove()
    assert late in _listed(app, tid, DESTRUCTION, 2566)
    assert b_due not in _listed(app, saraban["b"].tenant_id, DESTRUCTION, 2566)


def test_committee_approval_and_completion_on_screen(app, saraban):
    tid = saraban["a"].tenant_id
    destroy_id, keep_id, secret_id = _docs(app, tid, [
        ("หนังสือขอทำลายพร้อมไฟล์", date(2010, 6, 1), 10, {}),
        ("หนังสือที่คณะกรรมการให้เก็บต่อ", date(2010, 6, 2), 10, {}),
        ("หนังสือลับเรื่องวินัยเก่า", date(2010, 6, 3), 10, {"secrecy": SECRET, "named": [saraban["a"].users["palad"]]}),
    ])
    with app.app_context(), tenant_scope(tid):
        row = files.store(db.session.get(Document, destroy_id), "scan.pdf", PDF, "application/pdf", "scan", None)
        db.session.commit()
        path = os.path.join(upload_root(), row.storage_key)
        db.session.remove()
    assert os.path.exists(path)
    client = login(app.test_client(), "a.admin")
    response = client.post("/saraban/retention/survey", data={"year": "2564"})
    assert response.status_code == 302
    pk = int(re.search(r"/show/(\d+)", response.headers["Location"]).group(1))
    page = client.get(f"/saraban/retention/show/{pk}").get_data(as_text=True)
    assert "หนังสือขอทำลายพร้อมไฟล์" in page and "หนังสือลับเรื่องวินัยเก่า" not in page and "(ลับ)" in page
    with app.app_context(), tenant_scope(tid):
        item_of = {i.document_id: i.id for i in db.session.scalars(select(RetentionItem).where(
            RetentionItem.list_id == pk))}
        db.session.remove()
    decisions = {f"decision-{item_of[destroy_id]}": "destroy", f"decision-{item_of[keep_id]}": "keep",
                 f"years-{item_of[keep_id]}": "5", f"reason-{item_of[keep_id]}": "ยังมีคดีความค้างอยู่",
                 f"decision-{item_of[secret_id]}": "destroy"}
    # a committee of two is too small; a kept document needs its years and reason
    short = client.post(f"/saraban/retention/decide/{pk}", data={**decisions, "committee": "ประธาน\nกรรมการ",
                                                                 "submit": "1"})
    assert short.status_code == 422 and 'data-field="committee"' in short.get_data(as_text=True)
    missing = client.post(f"/saraban/retention/decide/{pk}", data={
        **decisions, f"years-{item_of[keep_id]}": "", f"reason-{item_of[keep_id]}": "", "committee": "ก\nข\nค"})
    html = missing.get_data(as_text=True)
    assert missing.status_code == 422 and f'data-field="years-{item_of[keep_id]}"' in html
    assert f'data-field="reason-{item_of[keep_id]}"' in html
    committee = "นายประธาน ทดสอบ (ประธานกรรมการ)\nนางกรรมการ หนึ่ง\nนายกรรมการ สอง"
    ok = client.post(f"/saraban/retention/decide/{pk}", data={**decisions, "committee": committee, "submit": "1"})
    assert ok.status_code == 302
    # completion before approval is refused
    assert client.post(f"/saraban/retention/complete/{pk}").status_code == 422
    assert client.post(f"/saraban/retention/approve/{pk}", data={"approver": "", "approved_on": "1/2/2567"}
                       ).status_code == 422
    assert client.post(f"/saraban/retention/approve/{pk}", data={"approver": "นายกเทศมนตรีทดสอบ",
                                                               "approved_on": "15/2/2567"}).status_code == 302
    assert client.post(f"/saraban/retention/complete/{pk}").status_code == 302
    assert not os.path.exists(path)
    with app.app_context(), tenant_scope(tid):
        listing = db.session.get(RetentionList, pk)
        assert listing.status == "done" and listing.approved_by_name == "นายกเทศมนตรีทดสอบ"
        assert listing.committee.splitlines()[0].startswith("นายประธาน")
        destroyed = db.session.get(Document, destroy_id)  # the register row stays
        assert destroyed.disposal == "destroyed" and destroyed.disposed_on is not None
        assert destroyed.register_no is not None and destroyed.subject == "หนังสือขอทำลายพร้อมไฟล์"
        assert db.session.scalar(select(DocumentFile.id).where(DocumentFile.document_id == destroy_id)) is None
        kept = db.session.get(Document, keep_id)
        assert kept.disposal is None and kept.retention_years == 15
        db.session.remove()
    # a completed list is not done twice, and its CSV lists the decisions
    exported = client.get(f"/saraban/retention/csv/{pk}")
    assert exported.headers["Content-Type"] == "text/csv; charset=utf-8"  # the charset said once
    csv_text = exported.get_data().decode("utf-8-sig")
    assert "หนังสือที่คณะกรรมการให้เก็บต่อ" in csv_text and "ยังมีคดีความค้างอยู่" in csv_text
    assert "หนังสือลับเรื่องวินัยเก่า" not in csv_text
    printed = client.get(f"/saraban/retention/show/{pk}?print=1").get_data(as_text=True)
    assert "size: A4 landscape" in printed and "นางกรรมการ หนึ่ง" in printed


def test_the_national_archives_list(app, saraban):
    tid = saraban["a"].tenant_id
    forever, kept_on, young = _docs(app, tid, [
        ("หนังสือสำคัญเก็บตลอดไป", date(1997, 5, 1), None, {}),
        ("หนังสือเก็บไว้สามสิบปี", date(1997, 5, 2), 30, {}),
        ("หนังสือยังไม่ครบยี่สิบปี", date(2007, 5, 1), None, {}),
    ])
    with app.app_context(), tenant_scope(tid):
        listing, added = retention.archives(2566)
        db.session.commit()
        assert listing.due_on == date(2024, 1, 31) and added >= 2
        assert retention.archives(2566)[1] == 0
        pk = listing.id
        db.session.remove()
    listed = _listed(app, tid, ARCHIVES, 2566)
    assert {forever, kept_on} <= listed and young not in listed
    client = login(app.test_client(), "a.admin")
    assert client.post(f"/saraban/retention/complete/{pk}").status_code == 302
    with app.app_context(), tenant_scope(tid):
        assert db.session.get(Document, forever).disposal == "archived"
        assert db.session.get(Document, young).disposal is None
        db.session.remove()


def test_the_task_for_one_organisation_touches_nothing_of_another(app, saraban):
    from app.tasks import celery_for

    a, b = saraban["a"].tenant_id, saraban["b"].tenant_id
    a_doc, = _docs(app, a, [("หนังสือของเอครบกำหนด", date(2008, 2, 1), 10, {})])
    b_doc, = _docs(app, b, [("หนังสือของบีครบกำหนด", date(2008, 2, 1), 10, {})])
    celery = celery_for(app)
    result = celery.tasks["saraban.retention_survey"].delay(tenant_id=a, year="2563").get()
    assert result["destruction_added"] >= 1
    assert a_doc in _listed(app, a, DESTRUCTION, 2563) and b_doc not in _listed(app, a, DESTRUCTION, 2563)
    with app.app_context(), tenant_scope(b):
        assert db.session.scalar(select(RetentionList.id).where(RetentionList.year == 2563)) is None
        db.session.remove()
    again = celery.tasks["saraban.retention_survey"].delay(tenant_id=a, year="2563").get()
    assert again["destruction_added"] == 0 and again["destruction_list"] == result["destruction_list"]
    # the yearly fan-out queues one survey of the year that ended per organisation
    from app import thai

    assert celery.tasks["saraban.all_retention_surveys"].delay().get() >= 2
    last = retention.last_year(thai.today_bangkok())
    for tenant_id in (a, b):
        with app.app_context(), tenant_scope(tenant_id):
            assert db.session.scalar(select(RetentionList.id).where(RetentionList.year == last,
                                                                    RetentionList.kind == DESTRUCTION)) is not None
            db.session.remove()
    assert b_doc in _listed(app, b, DESTRUCTION, last)  # 2551 + 10 <= the year that ended
    entry = celery.conf.beat_schedule["saraban-retention-yearly"]
    assert entry["task"] == "saraban.all_retention_surveys"
    assert entry["schedule"].month_of_year == {1} and entry["schedule"].day_of_month == {2}


def test_the_command_line_survey(app, saraban):
    a_doc, = _docs(app, saraban["a"].tenant_id, [("หนังสือสำรวจทางคำสั่ง", date(2006, 2, 1), 10, {})])
    runner = app.test_cli_runner()
    result = runner.invoke(args=["saraban", "retention", "--tenant", "1000001", "--year", "2561", "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert re.search(r"Year 2561: [1-9][\d,]* documents added", result.output)
    assert a_doc in _listed(app, saraban["a"].tenant_id, DESTRUCTION, 2561)
    second = runner.invoke(args=["saraban", "retention", "--tenant", "1000001", "--year", "2561", "--lang", "en"])
    assert "Year 2561: 0 documents added" in second.output
    bad = runner.invoke(args=["saraban", "retention", "--tenant", "9999999", "--year", "2561"])
    assert bad.exit_code == 1


def test_another_organisations_lists_are_untouchable(app, saraban):
    b = saraban["b"].tenant_id
    _docs(app, b, [("หนังสือของบีรอทำลาย", date(2005, 2, 1), 10, {})])
    with app.app_context(), tenant_scope(b):
        listing, _added = retention.survey(2560)
        db.session.commit()
        pk = listing.id
        db.session.remove()
    client = login(app.test_client(), "a.admin")
    assert f'data-id="{pk}"' not in client.get("/saraban/retention/").get_data(as_text=True)
    for url in (f"/saraban/retention/show/{pk}", f"/saraban/retention/csv/{pk}",
                f"/saraban/retention/show/{pk}?print=1"):
        assert client.get(url).status_code == 404, url
    for url in (f"/saraban/retention/decide/{pk}", f"/saraban/retention/approve/{pk}",
                f"/saraban/retention/complete/{pk}"):
        assert client.post(url, data={"committee": "ก\nข\nค", "submit": "1"}).status_code == 404, url
    with app.app_context(), tenant_scope(b):
        assert db.session.get(RetentionList, pk).status == "draft"
        db.session.remove()
    assert login(app.test_client(), "a.sb.clerk").get("/saraban/retention/").status_code in (302, 403)


def test_a_year_not_yet_ended_is_refused_on_screen_cli_and_task(app, saraban):
    from app import thai
    from app.tasks import celery_for

    a = saraban["a"].tenant_id
    _docs(app, a, [("หนังสือปีที่ยังไม่สิ้นสุด", date(2000, 2, 1), 1, {})])
    current = thai.today_bangkok().year + 543
    for year in (current, current + 1):
        with app.app_context(), tenant_scope(a):
            for run in (retention.survey, retention.archives):
                try:
                    run(year)
                except retention.UserError as exc:
                    assert "ยังไม่สิ้นสุด" in exc.message
                else:
                    raise AssertionError(f"{run.__name__}({year}) was not refused")
            db.session.rollback()
            db.session.remove()
    client = login(app.test_client(), "a.admin")
    page = client.post("/saraban/retention/survey", data={"year": str(current)}, follow_redirects=True)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and f"ปี {current} ยังไม่สิ้นสุด" in html
    cli = app.test_cli_runner().invoke(args=["saraban", "retention", "--tenant", "1000001", "--year", str(current)])
    assert cli.exit_code == 1 and "ยังไม่สิ้นสุด" in cli.output
    english = app.test_cli_runner().invoke(
        args=["saraban", "retention", "--tenant", "1000001", "--year", str(current), "--lang", "en"])
    assert f"The year {current} has not ended yet" in english.output
    result = celery_for(app).tasks["saraban.retention_survey"].delay(tenant_id=a, year=str(current)).get()
    assert result["year"] == current and "ยังไม่สิ้นสุด" in result["refused"] and "destruction_list" not in result
    assert _listed(app, a, DESTRUCTION, current) == set() and _listed(app, a, ARCHIVES, current) == set()
    with app.app_context(), tenant_scope(a):
        assert db.session.scalar(select(RetentionList.id).where(RetentionList.year >= current)) is None
        db.session.remove()


def test_the_2_january_fan_out_surveys_the_year_just_ended(app, saraban, monkeypatch):
    from app import thai
    from app.tasks import celery_for

    a = saraban["a"].tenant_id
    ended = thai.today_bangkok().year + 543  # this year, pretending it is 2 January of the next one
    doc, = _docs(app, a, [("หนังสือครบกำหนดสิ้นปี", date(thai.today_bangkok().year - 1, 3, 1), 1, {})])
    monkeypatch.setattr(thai, "today_bangkok", lambda: date(ended - 543 + 1, 1, 2))
    assert celery_for(app).tasks["saraban.all_retention_surveys"].delay().get() >= 2
    assert doc in _listed(app, a, DESTRUCTION, ended)  # registered last year + 1 year of keeping <= the year ended
