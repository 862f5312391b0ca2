"""Thai QR Payment (PromptPay bill payment, EMVCo merchant-presented QR, tag 30): the payload a banking app
scans to pay an organisation's bill, with Ref1 and Ref2 naming what is paid, and its PNG image."""
from __future__ import annotations

import io
import re
from decimal import Decimal

import segno

BILL_PAYMENT_AID = "A000000677010112"  # PromptPay bill payment (domestic)
REF = re.compile(r"^[A-Z0-9]{1,20}$")
BILLER = re.compile(r"^[0-9]{15}$")  # tax id (13) + suffix (2)


class QRError(ValueError):
    pass


def _tlv(tag: str, value: str) -> str:
    if len(value) > 99:
        raise QRError(f"tag {tag} is longer than 99 characters")
    return f"{tag}{len(value):02d}{value}"


def crc16(data: str) -> str:
    """CRC-16/CCITT-FALSE (polynomial 0x1021, initial 0xFFFF), as EMVCo requires for tag 63."""
    crc = 0xFFFF
    for byte in data.encode("ascii"):
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return f"{crc:04X}"


def reference(text: str) -> str:
    """A Ref1/Ref2 value: upper-case letters and digits, at most 20."""
    cleaned = re.sub(r"[^A-Z0-9]", "", str(text).upper())[:20]
    if not REF.match(cleaned):
        raise QRError("a reference needs at least one letter or digit")
    return cleaned


def fee_code(lines, fallback: str) -> str:
    """Ref2: the code of the fee being paid, i.e. the schedule's first rule that charges something (the main
    fee, e.g. annual_fee -> ANNUALFEE), in the upper-case letters and digits banks accept; the service's code
    when no rule has one."""
    for line in lines or ():
        code = getattr(line, "code", "") or ""
        if getattr(line, "amount", 0) and re.search(r"[A-Za-z0-9]", code):
            return reference(code)
    return reference(fallback)


def payload(biller_id: str, amount: Decimal, ref1: str, ref2: str | None = None) -> str:
    if not BILLER.match(biller_id or ""):
        raise QRError("the biller ID is 15 digits")
    amount = Decimal(amount).quantize(Decimal("0.01"))
    if amount <= 0:
        raise QRError("the amount must be above zero")
    merchant = _tlv("00", BILL_PAYMENT_AID) + _tlv("01", biller_id) + _tlv("02", reference(ref1))
    if ref2:
        merchant += _tlv("03", reference(ref2))
    body = (_tlv("00", "01") + _tlv("01", "12") + _tlv("30", merchant) + _tlv("53", "764")
            + _tlv("54", f"{amount:.2f}") + _tlv("58", "TH") + "6304")
    return body + crc16(body)


def parse(text: str) -> dict:
    """The tags of a payload (nested for tag 30), after checking its CRC: for tests and for staff checks."""
    if crc16(text[:-4]) != text[-4:]:
        raise QRError("bad CRC")

    def walk(s: str) -> dict:
        out, i = {}, 0
        while i < len(s):
            tag, length = s[i:i + 2], int(s[i + 2:i + 4])
            out[tag] = s[i + 4:i + 4 + length]
            i += 4 + length
        return out

    tags = walk(text)
    tags["30"] = walk(tags["30"])
    return tags


def png(text: str, scale: int = 6) -> bytes:
    out = io.BytesIO()
    segno.make(text, error="m", micro=False).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()
