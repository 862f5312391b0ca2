"""The citizen portal of one organisation, at /t/<DLA code>/: its services and their guides, a request form
generated like the staff one, and tracking by number and secret. Nobody logs in; the organisation is taken
from the address, and a matter opens only for the browser that filed it or shows its secret."""
from __future__ import annotations

from flask import (
    Blueprint, abort, current_app, flash, g, redirect, render_template, request, send_file, session, url_for,
)
from flask_babel import gettext as _
from sqlalchemy import select

from app.catalog import pending_uploads, services
from app.catalog.builder import build_form, form_values, label, visible_fields
from app.catalog.fees import FeeInputError
from app.catalog.models import ServiceRequest, ServiceType
from app.catalog.values import display
from app.certificates import pdf as certificate_docs
from app.extensions import db
from app.portal import privacy, tracking
from app.service_requests import engine, mail
from app.tenancy.context import Scope, set_scope
from app.tenancy.errors import UserError
from app.tenancy.guard import evict_other_tenants
from app.tenancy.models import Tenant, utcnow

bp = Blueprint("portal", __name__, url_prefix="/t/<dla_code>")
PENDING_KEY = "portal_pending_uploads"
NEW_SECRET_KEY = "portal_new_secret"
HONEYPOT = "website"  # hidden from people; bots fill it in


@bp.url_value_preprocessor
def _take_code(endpoint, values):
    g.portal_code = (values or {}).pop("dla_code", None)


@bp.url_defaults
def _give_code(endpoint, values):
    if "dla_code" not in values and g.get("portal_code"):
        values["dla_code"] = g.portal_code


@bp.before_request
def _enter_tenant():
    """The organisation of the address, whoever is logged in (a member of staff here is a citizen too)."""
    tenant = db.session.scalar(select(Tenant).where(Tenant.dla_code == g.portal_code, Tenant.active.is_(True)))
    if tenant is None:
        abort(404)
    g.portal_tenant = tenant
    set_scope(Scope(tenant_id=tenant.id))  # app-level teardown restores the scope the request began with
    evict_other_tenants(db.session, tenant.id)


def _service_or_404(code: str) -> ServiceType:
    found = db.session.scalar(select(ServiceType).where(ServiceType.code == code, ServiceType.active.is_(True)))
    if found is None:
        abort(404)
    return found


@bp.route("/")
def index():
    rows = db.session.scalars(select(ServiceType).where(ServiceType.active.is_(True))
                              .order_by(ServiceType.category, ServiceType.name_th)).all()
    return render_template("portal/index.html", services=rows)


@bp.route("/language/<locale>")
def language(locale: str):
    """Thai or English for this browser, back on the page the citizen was reading (FAB's own switch goes to the
    staff home page, i.e. the staff login)."""
    from urllib.parse import urlsplit

    if locale not in current_app.config["LANGUAGES"]:
        abort(404)
    session["locale"] = locale
    back = request.args.get("next", "")
    parts = urlsplit(back)
    # only a path inside this organisation's portal: never another site or another organisation
    if parts.scheme or parts.netloc or not back.startswith(url_for("portal.index")):
        back = url_for("portal.index")
    return redirect(back)


@bp.route("/services/<code>/guide")
def guide(code: str):
    from app.catalog.fee_text import describe

    service_type = _service_or_404(code)
    return render_template("portal/guide.html", service_type=service_type,
                           version=services.current_version(service_type),
                           schedules=services.schedules(service_type), describe_fee=describe)


@bp.route("/privacy")
def privacy_notice():
    version, text = privacy.notice(g.portal_tenant)
    return render_template("portal/privacy.html", version=version, text=text)


@bp.route("/services/<code>/new", methods=["GET", "POST"])
def new(code: str):
    service_type = _service_or_404(code)
    version = services.current_version(service_type)
    form_class = build_form(version.fields, staff=False, documents=version.documents)
    pending = pending_uploads.pending(PENDING_KEY, _pending_scope(service_type))
    form = form_class(data=pending or None)
    notice_version, notice_text = privacy.notice(g.portal_tenant)
    extra_errors: dict[str, str] = {}
    quote = None
    if request.method == "POST":
        if request.form.get(HONEYPOT):
            abort(400)
        valid = form.validate()
        email = (request.form.get("contact_email") or "").strip()
        if email and not mail.EMAIL.match(email):
            extra_errors["contact_email"] = _("%(email)s is not an e-mail address.", email=email)
        if request.form.get("consent") != str(notice_version):
            extra_errors["consent"] = _("Please read and accept the privacy notice.")
        parsed = {c: getattr(form, c).data for c in form.spec_codes if not getattr(form, c).errors}
        try:
            priced = services.quote(service_type, parsed)
        except FeeInputError:
            priced = None
        quote = priced[0] if priced else None
        if valid and not extra_errors:
            try:
                item = _file(service_type, form, form_class, email, notice_version)
            except UserError as exc:
                db.session.rollback()
                flash(str(exc), "danger")
            else:
                return redirect(url_for("portal.submitted", pk=item.id))
        else:
            # files already sent are kept, so a mistake elsewhere never costs the citizen their uploads
            pending_uploads.keep(PENDING_KEY, _pending_scope(service_type), service_type, form, form_class, None)
            flash(_("Please correct the highlighted fields."), "danger")
    return render_template(
        "portal/form.html", form=form, service_type=service_type, version=version, quote=quote,
        notice_version=notice_version, notice_text=notice_text, extra_errors=extra_errors,
        kept=_kept_names(form), honeypot=HONEYPOT,
    )


def _file(service_type, form, form_class, email, notice_version) -> ServiceRequest:
    values = services.store_uploads(service_type.tenant_id, form_class.specs, form_values(form), None)
    item = services.file_request(service_type, values, None)
    secret = tracking.new_secret()
    item.channel, item.secret_hash = "portal", tracking.hash_secret(secret)
    item.contact_email, item.consent_version = email or None, notice_version
    db.session.commit()
    pending_uploads.forget(PENDING_KEY)
    tracking.grant(item.tenant_id, item.id)
    session[NEW_SECRET_KEY] = {"id": item.id, "secret": secret}
    if email:
        from app.tasks import after_commit

        # the secret travels sealed in the task and in clear only in the e-mail, never into stored text
        after_commit("portal.send_tracking", item.tenant_id, request_id=item.id, sealed=tracking.seal(secret),
                     link=url_for("portal.track", _external=True))
        db.session.commit()
    return item


def _pending_scope(service_type) -> dict:
    return {"tenant": g.portal_tenant.id, "service": service_type.id}


def _kept_names(form) -> dict:
    from app.catalog.attachments import Attachment

    names = {}
    for code in form.spec_codes:
        ids = getattr(form, code).object_data if getattr(form, code).spec["kind"] == "file" else None
        if ids and all(isinstance(i, int) for i in ids):
            names[code] = [a.filename for a in db.session.scalars(
                select(Attachment).where(Attachment.id.in_(ids), Attachment.request_id.is_(None)))]
    return names


@bp.route("/submitted/<int:pk>")
def submitted(pk: int):
    item = _own_or_redirect(pk)
    if not isinstance(item, ServiceRequest):
        return item
    shown = session.pop(NEW_SECRET_KEY, None)
    secret = shown["secret"] if shown and shown.get("id") == pk else None
    return render_template("portal/submitted.html", item=item, secret=secret)


@bp.route("/track", methods=["GET", "POST"])
def track():
    if request.method == "POST":
        number = (request.form.get("number") or "").strip().lstrip("#")
        secret = request.form.get("secret") or ""
        item = db.session.get(ServiceRequest, int(number)) if number.isdigit() and len(number) < 10 else None
        if item is not None and item.secret_hash and tracking.matches(item.secret_hash, secret):
            tracking.grant(item.tenant_id, item.id)
            return redirect(url_for("portal.status", pk=item.id))
        flash(_("No request matches that number and code. Check both and try again."), "danger")
    return render_template("portal/track_lookup.html")


def _own_or_redirect(pk: int):
    item = db.session.get(ServiceRequest, pk) if tracking.allowed(g.portal_tenant.id, pk) else None
    if item is None:
        flash(_("Enter the request number and its tracking code to see it."), "warning")
        return redirect(url_for("portal.track"))
    return item


@bp.route("/track/<int:pk>")
def status(pk: int):
    item = _own_or_redirect(pk)
    if not isinstance(item, ServiceRequest):
        return item
    public = visible_fields(item.version.fields, staff=False)
    rows = [(label(s), display(s, item.data.get(s["code"]))) for s in public
            if s["kind"] != "file" and item.data.get(s["code"]) not in (None, "", [])]
    files = _own_files(item)
    st = engine.state(item)
    deadline = engine.reopen_deadline(item)
    payment = _payment(item)
    from app.billing.services import of_request as payments_of

    return render_template(
        "portal/status.html", item=item, rows=rows, files=files, state=engine.state_name(item), payment=payment,
        paid=payments_of(item.id),
        final=st["final"], timeline=engine.timeline(item, staff=False), state_name=engine.state_name,
        can_rate=st["final"] and item.rating is None and item.channel == "portal",
        can_reopen=deadline is not None and utcnow() <= deadline, reopen_deadline=deadline,
        certificates=certificate_docs.of_request(item.id, in_force_only=True),
    )


def _payment(item: ServiceRequest):
    """While the matter waits for its fee: the line items, the total and the Thai QR payload (None otherwise)."""
    from app.portal import thaiqr

    if item.status not in engine.payment_states(item) or not item.fee_total:
        return None
    priced = services.quote(item.service_type, item.data)
    lines = priced[0].lines if priced else []
    biller = g.portal_tenant.promptpay_biller_id
    text = ref2 = None
    if biller:
        ref2 = thaiqr.fee_code(lines, item.service_type.code)
        text = thaiqr.payload(biller, item.fee_total, str(item.id), ref2)
    return {"lines": lines, "total": item.fee_total, "qr": text, "ref2": ref2}


@bp.route("/track/<int:pk>/qr.png")
def qr(pk: int):
    from flask import Response

    from app.portal import thaiqr

    item = _own_or_redirect(pk)
    if not isinstance(item, ServiceRequest):
        return item
    payment = _payment(item)
    if payment is None or payment["qr"] is None:
        abort(404)
    return Response(thaiqr.png(payment["qr"]), mimetype="image/png", headers={"Cache-Control": "no-store"})


def _own_files(item: ServiceRequest) -> list:
    from app.catalog.attachments import Attachment

    codes = {s["code"] for s in visible_fields(item.version.fields, staff=False) if s["kind"] == "file"}
    codes |= {f"doc_{d['code']}" for d in item.version.documents or []}
    return [a for a in db.session.scalars(select(Attachment).where(
        Attachment.request_id == item.id, Attachment.event_id.is_(None)).order_by(Attachment.id))
        if a.field_code in codes]


@bp.route("/track/<int:pk>/file/<int:attachment_id>")
def file(pk: int, attachment_id: int):
    from app.catalog.attachments import path_of

    item = _own_or_redirect(pk)
    if not isinstance(item, ServiceRequest):
        return item
    found = [a for a in _own_files(item) if a.id == attachment_id]
    if not found:
        abort(404)
    return send_file(path_of(found[0]), mimetype=found[0].content_type, as_attachment=True,
                     download_name=found[0].filename)


@bp.route("/track/<int:pk>/certificate/<int:certificate_id>.pdf")
def certificate(pk: int, certificate_id: int):
    item = _own_or_redirect(pk)
    if not isinstance(item, ServiceRequest):
        return item
    return certificate_docs.pdf_response(certificate_id, request_id=item.id)


@bp.route("/track/<int:pk>/rate", methods=["POST"])
def rate(pk: int):
    item = _own_or_redirect(pk)
    if not isinstance(item, ServiceRequest):
        return item
    raw = request.form.get("rating", "")
    comment = (request.form.get("comment") or "").strip()
    if not engine.state(item)["final"] or item.rating is not None:
        flash(_("This request cannot be rated now."), "warning")
    elif raw not in ("1", "2", "3", "4", "5"):
        flash(_("Choose from 1 to 5 stars."), "danger")
    elif len(comment) > 1000:
        flash(_("The comment may be at most %(n)s characters.", n=1000), "danger")
    else:
        item.rating, item.rating_comment, item.rated_at = int(raw), comment or None, utcnow()
        db.session.commit()
        flash(_("Thank you for your rating."), "success")
    return redirect(url_for("portal.status", pk=pk))


@bp.route("/track/<int:pk>/reopen", methods=["POST"])
def reopen(pk: int):
    item = _own_or_redirect(pk)
    if not isinstance(item, ServiceRequest):
        return item
    try:
        engine.reopen(item, request.form.get("note", ""))
        db.session.commit()
    except UserError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
    else:
        flash(_("Your request is open again; the office has been told."), "success")
    return redirect(url_for("portal.status", pk=pk))


def init_app(app) -> None:
    """Register the portal with POST rate limits per address (FAB's own Flask-Limiter, same storage)."""
    from app.portal import waste  # noqa: F401  (its routes join this blueprint before it is registered)

    app.register_blueprint(bp)
    limiter = app.appbuilder.sm.limiter
    limits = {
        "new": app.config["PORTAL_SUBMIT_RATE_LIMIT"],
        "track": app.config["PORTAL_TRACK_RATE_LIMIT"],
        "rate": app.config["PORTAL_TRACK_RATE_LIMIT"],
        "reopen": app.config["PORTAL_TRACK_RATE_LIMIT"],
        "waste_lookup": app.config["PORTAL_TRACK_RATE_LIMIT"],
    }
    for name, limit in limits.items():
        app.view_functions[f"portal.{name}"] = limiter.limit(limit, methods=["POST"])(
            app.view_functions[f"portal.{name}"])
