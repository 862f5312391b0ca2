from datetime import date, datetime

from app import thai


def test_buddhist_era_dates_in_bangkok_time(app):
    with app.test_request_context():
        assert thai.format_date(date(2026, 11, 24)) == "24 พ.ย. 2569"
        # 17:30 UTC on 31 Dec is already 1 Jan in Bangkok
        assert thai.format_datetime(datetime(2026, 12, 31, 17, 30)) == "1 ม.ค. 2570 00:30 น."
        assert thai.format_bool(True) == "ใช่" and thai.format_bool(False) == "ไม่ใช่"
        assert thai.format_date(None) == ""
