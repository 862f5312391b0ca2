"""Thai QR Payment payloads against the EMVCo rules, read back from the PNG, and shown on the portal only
while the matter waits for its fee."""
import io
from decimal import Decimal

import pytest
import zxingcpp
from PIL import Image

from app.extensions import db
from app.portal import thaiqr
from app.tenancy.context import platform_scope

BILLER = "099400016550100"


def _tags(text: str) -> list[tuple[str, int, str]]:
    """Every top-level TLV with its stated length; the lengths must add up to the whole payload."""
    out, i = [], 0
    while i < len(text):
        tag, length = text[i:i + 2], int(text[i + 2:i + 4])
        out.append((tag, length, text[i + 4:i + 4 + length]))
        i += 4 + length
    assert i == len(text)
    return out


def test_the_payload_follows_emvco():
    text = thaiqr.payload(BILLER, Decimal("80"), "123", "food_premises")
    tags = _tags(text)
    assert [t[0] for t in tags] == ["00", "01", "30", "53", "54", "58", "63"]
    assert all(length == len(value) for _tag, length, value in tags)
    found = thaiqr.parse(text)
    assert found["00"] == "01" and found["01"] == "12" and found["53"] == "764" and found["58"] == "TH"
    assert found["54"] == "80.00"
    assert found["30"] == {"00": "A000000677010112", "01": BILLER, "02": "123", "03": "FOODPREMISES"}
    assert text[-8:-4] == "6304" and thaiqr.crc16(text[:-4]) == text[-4:]
    assert thaiqr.crc16("123456789") == "29B1"  # the CRC-16/CCITT-FALSE check value
    with pytest.raises(thaiqr.QRError):
        thaiqr.parse(text[:-1] + ("0" if text[-1] != "0" else "1"))


def test_ref2_is_the_fee_code_within_the_banks_limits():
    from app.catalog.fees import Line

    def line(code, amount):
        return Line(code=code, label_th="x", label_en="", amount=Decimal(amount), period="once", detail="")

    # the first rule that charges something names the fee; upper-case letters and digits only, at most 20
    assert thaiqr.fee_code([line("waived", "0"), line("annual_fee", "300")], "food_premises") == "ANNUALFEE"
    assert thaiqr.fee_code([line("a" * 30 + "_1", "10")], "x") == "A" * 20
    assert thaiqr.fee_code([line("ค่าธรรมเนียม", "10")], "food_premises_notification") == "FOODPREMISESNOTIFICA"
    assert thaiqr.fee_code([], "permit") == "PERMIT"
    text = thaiqr.payload(BILLER, Decimal("300"), "42", thaiqr.fee_code([line("annual_fee", "300")], "x"))
    assert thaiqr.parse(text)["30"]["03"] == "ANNUALFEE"
    assert all(thaiqr.REF.match(v) for k, v in thaiqr.parse(text)["30"].items() if k in ("02", "03"))


@pytest.mark.parametrize("biller, amount, ref1", [("12345", "10", "1"), (BILLER, "0", "1"), (BILLER, "10", "---"),
                                                  ("09940001655010A", "10", "1")])
def test_bad_values_are_refused(biller, amount, ref1):
    with pytest.raises(thaiqr.QRError):
        thaiqr.payload(biller, Decimal(amount), ref1)


def test_the_png_reads_back_to_the_same_payload():
    text = thaiqr.payload(BILLER, Decimal("1234.50"), "987654", "PERMIT")
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(thaiqr.png(text))))
    assert [r.text for r in found] == [text]


def test_the_biller_id_is_checked_in_the_settings(app, client_for, tenant_a):
    admin = client_for("a.admin")
    html = admin.post(f"/organisation/edit/{tenant_a.id}", data={
        "name_en": "SAO A", "reopen_days": "30", "promptpay_biller_id": "12345"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "15 หลัก" in html
    response = admin.post(f"/organisation/edit/{tenant_a.id}", data={
        "name_en": "SAO A", "reopen_days": "30", "promptpay_biller_id": BILLER})
    assert response.status_code == 302
    from app.tenancy.models import Tenant

    with app.app_context(), platform_scope():
        assert db.session.get(Tenant, tenant_a.id).promptpay_biller_id == BILLER
