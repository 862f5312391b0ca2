"""An outgoing letter as a PDF in the official layouts of the ระเบียบงานสารบรรณ: หนังสือภายนอก (แบบที่ 1, also for
หนังสือประทับตรา and records), บันทึกข้อความ for an internal memo, คำสั่ง and ประกาศ for directives and public
relations. Urgency (ด่วน...) is stamped in red at the top, secrecy (ลับ...) in red at the top and bottom of each
page; a letter not yet sent has no number ("ที่ ชม 52101/……") and a draft prints ร่าง across the page. Always Thai,
Thai digits when the organisation prints them; WeasyPrint with Sarabun as the receipts and certificates."""
from __future__ import annotations

from flask import Response, render_template
from sqlalchemy import select

from app import thai
from app.certificates.pdf import font_files
from app.extensions import db
from app.saraban.models import (DIRECTIVE, DRAFT, IN_REVIEW, INTERNAL, PUBLIC_RELATIONS, RETURNED, SECRECY_TH,
                                SIGN, URGENCY_TH, Document, Register, ReviewStep)
from app.tenancy.models import Division, Tenant

DRAFT_STATES = (DRAFT, IN_REVIEW, RETURNED)


def paragraphs(text: str | None) -> list[str]:
    """The body's paragraphs: a blank line starts a new one (each is printed indented); a single line break
    stays a break inside its paragraph."""
    lines = (text or "").replace("\r\n", "\n").split("\n")
    out, current = [], []
    for line in lines + [""]:
        if line.strip():
            current.append(line.rstrip())
        elif current:
            out.append("\n".join(current).strip())
            current = []
    return out


def layout(document: Document) -> str:
    if document.kind == INTERNAL:
        return "memo"
    if document.kind == DIRECTIVE:
        return "directive"
    if document.kind == PUBLIC_RELATIONS:
        return "announcement"
    return "external"


def _intended_signer(document: Document):
    """Before signing, the signer chosen for the current round (their name and position are printed on
    the draft so reviewers see the letter as it will be)."""
    from app.saraban import people
    from flask_appbuilder.security.sqla.models import User

    step = db.session.scalars(select(ReviewStep).where(ReviewStep.document_id == document.id,
                                                          ReviewStep.kind == SIGN)
                              .order_by(ReviewStep.round.desc())).unique().first()
    if step is None:
        return None, None
    user = db.session.get(User, step.user_id)
    if user is None:
        return None, None
    from app.security.services import person_name

    return person_name(user), people.title_th(user, db.session.get(Tenant, document.tenant_id))


def html(document: Document) -> str:
    from flask_babel import force_locale

    tenant = db.session.get(Tenant, document.tenant_id)
    register = db.session.get(Register, document.register_id)
    division = db.session.get(Division, document.origin_division_id)

    def doc(text) -> str:  # Thai digits when the organisation prints them on its documents
        return thai.for_document(text, tenant) if text not in (None, "") else ""

    with force_locale("th"):
        from app.saraban import registry

        code = registry.book_code(register) if register is not None else tenant.book_prefix
        today = thai.today_bangkok()
        if document.dated:
            dated = thai.format_date(document.dated, "long")
            year = thai.be_year(document.dated)
        else:  # the day is written when the letter is sent
            dated = "……… " + thai.format_date(today, "long").split(" ", 1)[1]
            year = thai.be_year(today)
        number = document.book_no or f"{code or '……'}/……"
        order_no = (f"{document.register_no}/{document.register_year}" if document.register_no
                    else f"……/{year}")
        signer_name, signer_title = document.signer_name, document.signer_title
        if not document.signed_at:
            signer_name, signer_title = _intended_signer(document)
        return render_template(
            "saraban/letter_document.html", document=document, tenant=tenant, division=division, doc=doc,
            fonts=font_files(), layout=layout(document), number=number, order_no=order_no, dated=dated,
            paragraphs=paragraphs(document.body), draft=document.status in DRAFT_STATES,
            urgency=URGENCY_TH.get(document.urgency, ""),
            secrecy=SECRECY_TH.get(document.secrecy, ""), signer_name=signer_name, signer_title=signer_title,
        )


def render(document: Document) -> bytes:
    from weasyprint import HTML  # imported here: the web starts even where pango is missing

    return HTML(string=html(document)).write_pdf()


def pdf_response(document: Document) -> Response:
    """The letter as it stands (the caller has checked access and recorded a secret opening)."""
    from urllib.parse import quote

    name = (document.book_no or f"draft-{document.id}").replace("/", "-").replace(" ", "")
    # a Thai book code cannot go into a latin-1 header as it is: RFC 6266 filename*, with an ASCII fallback
    return Response(render(document), mimetype="application/pdf", headers={
        "Content-Disposition": f"inline; filename=letter-{document.id}.pdf; filename*=UTF-8''{quote(name)}.pdf",
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff"})
