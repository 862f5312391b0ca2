"""A waste-fee receipt (ใบเสร็จรับเงิน) as an A5 PDF: the organisation, the number "123/2570", the day paid in
พ.ศ., the account, the bills paid with any late surcharge, the total in figures and in Thai words, how it was
paid and who took it; a cancelled receipt prints with a large ยกเลิก across it. Drawn by WeasyPrint with the
same Sarabun set-up as the certificates (app/templates/_sarabun_fonts.html)."""
from __future__ import annotations

from flask import Response, abort, render_template

from app import thai
from app.billing import receipts, tariff
from app.billing.models import WasteReceipt, WasteReceiptLine
from app.billing.services import METHOD_NAMES
from app.certificates.pdf import font_files
from app.extensions import db
from app.tenancy.models import Tenant


def period_text(line: WasteReceiptLine) -> str:
    """ตุลาคม 2569, or ตุลาคม 2569 - ธันวาคม 2569 for a period of several months."""
    first = tariff.period_label(line.period_start)
    if (line.period_end.year, line.period_end.month) == (line.period_start.year, line.period_start.month):
        return first
    return f"{first} - {tariff.period_label(line.period_end)}"


def account_address(account) -> str:
    from app.catalog.values import address_text

    return address_text({"line": account.address_line, "subdistrict": account.subdistrict_code,
                         "postcode": account.postcode})


def html(receipt: WasteReceipt) -> str:
    """The receipt's HTML, in Thai whatever the reader's language (an official document)."""
    from flask_babel import force_locale

    tenant = db.session.get(Tenant, receipt.tenant_id)

    def doc(text) -> str:  # Thai digits when the organisation prints them on its documents
        return thai.for_document(text, tenant) if text not in (None, "") else ""

    with force_locale("th"):
        lines = [(period_text(line), line) for line in receipts.lines_of(receipt)]
        return render_template(
            "billing/receipt_document.html", receipt=receipt, tenant=tenant, account=receipt.account,
            address=account_address(receipt.account), lines=lines, doc=doc, fonts=font_files(),
            method=str(METHOD_NAMES.get(receipt.method, receipt.method)),
            channel=str(receipts.CHANNEL_NAMES.get(receipt.channel, receipt.channel)),
            words=thai.baht_text(receipt.amount),
        )


def render(receipt: WasteReceipt) -> bytes:
    from weasyprint import HTML  # imported here: the web starts even where pango is missing

    return HTML(string=html(receipt)).write_pdf()


def pdf_response(receipt_id: int, download_name: str | None = None) -> Response:
    """A receipt of the current organisation as a PDF; 404 for another organisation's or an unknown id."""
    found = db.session.get(WasteReceipt, receipt_id)
    if found is None:
        abort(404)
    name = download_name or f"receipt-{found.number}-{found.fiscal_year}.pdf"
    return Response(render(found), mimetype="application/pdf",
                    headers={"Content-Disposition": f"inline; filename={name}"})
