"""Open311's logic: the jurisdiction (an organisation by its DLA code), the services offered and their
attributes (from the public fields of the current version), filing a request through the same checks as the
staff form and the portal, and a matter as GeoReport v2 shows it. No Flask views here."""
from __future__ import annotations

import re
import secrets
from datetime import datetime, time, timedelta, timezone
from typing import Optional

from flask import g, request
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError
from sqlalchemy import select

from app import thai
from app.api import auth
from app.api.language import both
from app.api.models import Open311Token
from app.catalog import services as catalog
from app.catalog.builder import document_fields, visible_fields
from app.catalog.models import ServiceRequest, ServiceType
from app.extensions import db
from app.service_requests import engine, scope
from app.service_requests.models import ServiceRequestEvent
from app.tenancy.context import Scope, platform_scope, set_scope
from app.tenancy.errors import UserError
from app.tenancy.guard import evict_other_tenants
from app.tenancy.models import Tenant, utcnow

CHANNEL = "open311"
FILED_ACTION = "open311_filed"
MEDIA_LINE, ADDRESS_LINE = "media_url: ", "address_string: "
LIST_DAYS, LIST_MAX = 90, 1000
# field kinds as GeoReport v2 datatypes; location is the request's lat/long and files its media_url
DATATYPES = {
    "text": "string", "long_text": "text", "integer": "number", "decimal": "number", "date": "datetime",
    "choice": "singlevaluelist", "yes_no": "singlevaluelist", "multi_choice": "multivaluelist",
    "national_id": "string", "phone": "string", "email": "string", "address": "string",
}
YES_NO = [("y", "ใช่", "Yes"), ("n", "ไม่ใช่", "No")]
ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]{1,64})\](\[\])?$")


class Open311Error(Exception):
    """An answer in GeoReport v2's error format: [{code, description}], one entry per problem."""

    def __init__(self, status: int, *messages, headers: Optional[dict] = None):
        super().__init__(status)
        self.status = status
        self.messages = list(messages) or [_l("The request is not well formed.")]
        self.headers = headers or {}


# --- language and jurisdiction -------------------------------------------------------------------------------

def language() -> str:
    """Thai unless the client asks for English (?locale=en, or Accept-Language)."""
    chosen = request.values.get("locale")
    if chosen in ("th", "en"):
        return chosen
    best = request.accept_languages.best_match(["th", "en"]) if request.accept_languages else None
    return best or "th"


def say(message, lang: Optional[str] = None) -> tuple[str, str, str]:
    """(in the request's language, Thai, English)."""
    th, en = both(message)
    return (en if (lang or language()) == "en" else th), th, en


def named(name_th: str, name_en: Optional[str], lang: str) -> str:
    return name_en if lang == "en" and name_en else name_th


def enter_jurisdiction() -> Tenant:
    """Every call but discovery names its organisation. A key or token must be that organisation's; a public
    call works inside it (authenticate leaves an anonymous caller with no tenant)."""
    code = request.args.get("jurisdiction_id") or (request.form.get("jurisdiction_id") if request.form else None)
    if not code:
        raise Open311Error(400, _l("jurisdiction_id is required: the organisation's 7-digit DLA code."))
    with platform_scope():
        tenant = db.session.scalar(select(Tenant).where(Tenant.dla_code == code[:20], Tenant.active.is_(True)))
    if tenant is None:
        raise Open311Error(404, _l("No organisation has the jurisdiction_id %(code)s.", code=code[:20]))
    principal = auth.current()
    if principal.kind == auth.ANONYMOUS:
        set_scope(Scope(tenant_id=tenant.id))  # the app's teardown restores the scope the request began with
        evict_other_tenants(db.session, tenant.id)
    elif principal.tenant_id != tenant.id:
        raise Open311Error(403, _l("This API key is not of the jurisdiction %(code)s.", code=code[:20]))
    g.open311_tenant = tenant
    return tenant


def check(scope_name: str) -> None:
    """A key with the scope, in Open311's words (403 whatever is wrong with it)."""
    principal = auth.current()
    if principal.kind == auth.ANONYMOUS:
        raise Open311Error(403, _l("This call needs an api_key of the jurisdiction."))
    if scope_name not in principal.scopes:
        raise Open311Error(403, _l("This API key lacks the scope %(scope)s.", scope=scope_name))


def require_permission(permission: str, view: str) -> None:
    if not auth.has_permission(permission, view):
        raise Open311Error(403, _l("The user this call acts as may not do this (their roles do not allow it)."))


# --- services -------------------------------------------------------------------------------------------------

def offered() -> list[ServiceType]:
    """What the portal offers citizens: the organisation's active services."""
    return list(db.session.scalars(select(ServiceType).where(ServiceType.active.is_(True))
                                   .order_by(ServiceType.category, ServiceType.code)))


def offered_service(code: str) -> ServiceType:
    found = db.session.scalar(select(ServiceType).where(ServiceType.code == code[:48],
                                                        ServiceType.active.is_(True)))
    if found is None:
        raise Open311Error(404, _l("No service has the service_code %(code)s here.", code=code[:48]))
    return found


def _attribute_specs(version) -> list[dict]:
    return [f for f in visible_fields(version.fields, staff=False) if f["kind"] in DATATYPES]


def service_summary(item: ServiceType, lang: str) -> dict:
    version = catalog.current_version(item)
    guide = version.guide or {}
    return {
        "service_code": item.code,
        "service_name": named(item.name_th, item.name_en, lang),
        "description": named(guide.get("conditions_th") or "", guide.get("conditions_en") or "", lang)
        or named(item.name_th, item.name_en, lang),
        "metadata": bool(_attribute_specs(version)),
        "type": "realtime",
        # a service adopted unchanged has the same code, category and template ("complaint"): each word once
        "keywords": ", ".join(dict.fromkeys(filter(None, [item.code, item.category, item.template_code or ""]))),
        "group": item.category,
    }


def _datatype_description(spec: dict) -> str:
    kind = spec["kind"]
    text = {
        "integer": _("A whole number."), "decimal": _("A number with at most 2 decimal places."),
        "date": _("A date as YYYY-MM-DD (C.E.)."), "national_id": _("A 13-digit Thai national ID number."),
        "phone": _("A Thai phone number, e.g. 0812345678."), "email": _("An e-mail address."),
        "address": _("House number and road | 6-digit subdistrict code | postcode, separated by |."),
        "yes_no": _("y (yes) or n (no)."),
    }.get(kind, "")
    if kind in ("integer", "decimal", "date") and (spec.get("min") is not None or spec.get("max") is not None):
        if spec.get("min") is not None and spec.get("max") is not None:
            text += " " + _("From %(min)s to %(max)s.", min=spec["min"], max=spec["max"])
        elif spec.get("min") is not None:
            text += " " + _("At least %(min)s.", min=spec["min"])
        else:
            text += " " + _("At most %(max)s.", max=spec["max"])
    if spec.get("unit_th"):
        text += f" ({spec['unit_th']})"
    return str(text).strip()


def service_definition(item: ServiceType, lang: str) -> dict:
    version = catalog.current_version(item)
    attributes = []
    person = name_field(visible_fields(version.fields, staff=False), {})
    with force_locale(lang):
        for order, spec in enumerate(_attribute_specs(version), 1):
            if spec["kind"] == "yes_no":
                values = [{"key": k, "name": en if lang == "en" else th} for k, th, en in YES_NO]
            else:
                values = [{"key": str(c["value"]), "name": named(c.get("label_th") or str(c["value"]),
                                                                 c.get("label_en"), lang)}
                          for c in spec.get("choices") or []]
            label = named(spec.get("label_th") or spec["code"], spec.get("label_en"), lang)
            help_text = named(spec.get("help_th") or "", spec.get("help_en"), lang)
            attributes.append({
                "variable": True, "code": spec["code"], "datatype": DATATYPES[spec["kind"]],
                "required": bool(spec.get("required")),
                "datatype_description": (_datatype_description(spec) + " " + str(
                    _("first_name and last_name fill it when it is not given."))).strip()
                if spec["code"] == person else _datatype_description(spec),
                "order": order, "description": f"{label}: {help_text}" if help_text else label, "values": values,
            })
    return {"service_code": item.code, "attributes": attributes}


# --- filing ---------------------------------------------------------------------------------------------------

def _attributes(form) -> dict[str, list[str]]:
    """attribute[code]=value and attribute[code][]=value (a multivaluelist) from the form."""
    found: dict[str, list[str]] = {}
    for key in form.keys():
        match = ATTRIBUTE.match(key)
        if match:
            found.setdefault(match.group(1), []).extend(form.getlist(key))
    return found


def unknown_parameters(form, known: set[str]) -> list[str]:
    return sorted(k for k in form.keys() if k not in known and not ATTRIBUTE.match(k))


# the requester's own name, by field code: Open311's first_name/last_name fill such a field
NAME_CODES = ("applicant_name", "requester_name", "requester", "reporter_name", "full_name")
# words that make a *_name field the filer's own ("ชื่อผู้แจ้ง", "ชื่อผู้ขออนุญาต", "ชื่อ-นามสกุลผู้ยื่นคำขอ")
FILER_WORDS = ("ผู้แจ้ง", "ผู้ขอ", "ผู้ยื่น", "ผู้ร้อง")


def name_field(specs: list[dict], given: dict) -> Optional[str]:
    """The public text field that asks for the person filing, which first_name/last_name fill when no
    attribute gave it: one whose code says so (NAME_CODES), else the first *_name field whose Thai label says
    it is the filer's. Nothing else: a building permit's designer_name or a shop's business_name is another
    person's or thing's name, and a guess there would put the requester's name where it does not belong."""
    texts = [s for s in specs if s["kind"] == "text" and s["code"] not in given]
    for code in NAME_CODES:
        if any(s["code"] == code for s in texts):
            return code
    for spec in texts:
        if spec["code"].endswith("_name") and any(w in (spec.get("label_th") or "") for w in FILER_WORDS):
            return spec["code"]
    return None


def _raw_values(version, form, args: dict) -> tuple[dict, set[str]]:
    """The values the service's schema checks, and which Open311 parameters went into fields."""
    given = _attributes(form)
    specs = visible_fields(version.fields, staff=False)
    codes = {s["code"] for s in _attribute_specs(version)}
    unknown = sorted(set(given) - codes)
    if unknown:
        raise Open311Error(400, *[_l("attribute[%(code)s]: this service has no such attribute.", code=c)
                                  for c in unknown])
    raw: dict = {}
    used: set[str] = set()
    person = " ".join(filter(None, [(args.get("first_name") or "").strip(), (args.get("last_name") or "").strip()]))
    if person:
        code = name_field(specs, given)
        if code:
            raw[code] = person
            used.add("name")
    for spec in specs:
        if spec["code"] in raw:
            continue
        code, kind = spec["code"], spec["kind"]
        if kind == "location":
            if args.get("lat") is not None and args.get("long") is not None and "location" not in used:
                raw[code] = {"lat": str(args["lat"]), "lng": str(args["long"])}
                used.add("location")
            continue
        if kind == "file" or code not in given:
            # the request's own parameters fill the first field of their kind left empty
            fill = {"email": "email", "phone": "phone", "long_text": "description"}.get(kind)
            if kind != "file" and fill and args.get(fill) and fill not in used:
                raw[code] = args[fill]
                used.add(fill)
            continue
        items = [v for v in given[code]]
        if kind == "multi_choice":
            raw[code] = items
        elif kind == "address":
            parts = [p.strip() for p in (items[0] if items else "").split("|")]
            raw[code] = dict(zip(("line", "subdistrict", "postcode"), parts + ["", "", ""])) if any(parts) else ""
        elif kind == "date" and items and re.match(r"^\d{4}-\d{2}-\d{2}T", items[0]):
            raw[code] = items[0][:10]  # an Open311 datetime: the day is what the field keeps
        else:
            raw[code] = items[0] if items else ""
    return raw, used


def _messages(version, raw: dict, locale: str) -> dict:
    """The field checks' messages in one language (they are formatted when raised, so each language is one
    run of the same deterministic checks)."""
    with force_locale(locale):
        try:
            catalog.validate_values(version, raw, staff=False, documents=version.documents)
        except UserError as exc:
            if isinstance(exc.__cause__, ValidationError):
                return exc.__cause__.messages
    return {}


def _field_errors(version, raw: dict) -> list:
    """Each field's message under its Open311 parameter name (attribute[code]: message), in Thai and English."""
    location_codes = {s["code"] for s in version.fields if s["kind"] == "location"}
    thai_messages, english = _messages(version, raw, "th"), _messages(version, raw, "en")
    out = []
    for code, messages in sorted(thai_messages.items()):
        name = "lat/long" if code in location_codes else f"attribute[{code}]"
        messages = messages if isinstance(messages, list) else [messages]
        others = english.get(code, messages)
        others = others if isinstance(others, list) else [others]
        for index, message in enumerate(messages):
            out.append(_Prefixed(name, str(message), str(others[index] if index < len(others) else message)))
    return out


class _Prefixed:
    """A field's message with the parameter it is about, in both languages."""

    def __init__(self, name: str, th: str, en: str):
        self.name, self.th, self.en = name, th, en

    def both(self) -> tuple[str, str]:
        return f"{self.name}: {self.th}", f"{self.name}: {self.en}"


def _needs_files(version) -> list[str]:
    """Required file fields and documents: Open311 carries a media_url, never a file."""
    public = visible_fields(version.fields, staff=False) + document_fields(version.documents)
    return [named(s.get("label_th") or s["code"], s.get("label_en"), language())
            for s in public if s["kind"] == "file" and s.get("required")]


def _staff_note(args: dict, used: set[str]) -> str:
    """What the request carried that no field took, for the staff (never shown to the public)."""
    with force_locale("th"):
        lines = [_("Filed through Open311.")]
        name = " ".join(filter(None, [args.get("first_name"), args.get("last_name")]))
        if name and "name" not in used:
            lines.append(_("Requester: %(name)s", name=name))
        if args.get("phone") and "phone" not in used:
            lines.append(_("Phone: %(phone)s", phone=args["phone"]))
        if args.get("email") and "email" not in used:
            lines.append(_("E-mail: %(email)s", email=args["email"]))
        if args.get("description") and "description" not in used:
            lines.append(_("Description: %(text)s", text=args["description"]))
        if args.get("lat") is not None and args.get("long") is not None and "location" not in used:
            lines.append(_("Location: %(lat)s, %(long)s", lat=args["lat"], long=args["long"]))
        if args.get("address_id"):
            lines.append(_("Address id: %(id)s", id=args["address_id"]))
        if args.get("device_id"):
            lines.append(_("Device: %(id)s", id=args["device_id"]))
    if args.get("address_string"):
        lines.append(ADDRESS_LINE + args["address_string"])
    if args.get("media_url"):
        lines.append(MEDIA_LINE + args["media_url"])
    return "\n".join(str(line) for line in lines)


def file(args: dict, form) -> tuple[ServiceRequest, str]:
    """A new matter from POST requests: checked as the portal checks it, one transaction, and its token."""
    item = offered_service(args["service_code"])
    version = catalog.current_version(item)
    if (args.get("lat") is None) != (args.get("long") is None):
        raise Open311Error(400, _l("lat and long go together: give both or neither."))
    needs = _needs_files(version)
    if needs:
        raise Open311Error(400, _l("This service needs files Open311 cannot carry (%(names)s): file it on the "
                                   "organisation's portal or at its office.", names=", ".join(needs)))
    raw, used = _raw_values(version, form, args)
    try:
        values = catalog.validate_values(version, raw, staff=False, documents=version.documents)
    except UserError as exc:
        if isinstance(exc.__cause__, ValidationError):
            raise Open311Error(400, *_field_errors(version, raw)) from None
        raise Open311Error(400, exc.message) from None
    principal = auth.current()
    try:
        matter = catalog.file_request(item, values, principal.user.id)
    except UserError as exc:
        db.session.rollback()
        raise Open311Error(400, exc.message) from None
    matter.channel, matter.contact_email = CHANNEL, args.get("email") or None
    db.session.add(ServiceRequestEvent(
        tenant_id=matter.tenant_id, request_id=matter.id, actor_id=principal.user.id,
        actor_name=f"Open311: {principal.key_name or principal.user.username}"[:200], action=FILED_ACTION,
        from_state=matter.status, to_state=matter.status, division_id=matter.division_id,
        note=_staff_note(args, used), staff_only=True,
    ))
    token = secrets.token_urlsafe(32)
    db.session.add(Open311Token(tenant_id=matter.tenant_id, token=token, request_id=matter.id))
    db.session.flush()
    return matter, token


def service_notice(item: ServiceType, lang: str) -> str:
    with force_locale(lang):
        if (item.sla_unit or "working") == "calendar":
            return str(_("The organisation handles this within %(days)s days.", days=item.sla_days))
        return str(_("The organisation handles this within %(days)s working days.", days=item.sla_days))


def by_token(token: str) -> Open311Token:
    found = db.session.scalar(select(Open311Token).where(Open311Token.token == token[:43]))
    if found is None:
        raise Open311Error(404, _l("No request has this token."))
    return found


# --- matters --------------------------------------------------------------------------------------------------

def _in_reach(stmt):
    condition = scope.clause(g.user)  # an officer's key sees what the officer sees
    return stmt if condition is None else stmt.where(condition)


def matter(pk: int) -> ServiceRequest:
    found = db.session.get(ServiceRequest, pk) if 0 < pk < 2**31 and scope.may_see(g.user, pk) else None
    if found is None:
        raise Open311Error(404, _l("No request has the service_request_id %(id)s here.", id=pk))
    return found


def matters(args: dict) -> list[ServiceRequest]:
    stmt = _in_reach(select(ServiceRequest))
    ids = args.get("service_request_id")
    if ids:
        stmt = stmt.where(ServiceRequest.id.in_(ids))
    else:
        # the standard's default window: the last 90 days, at most 1000 matters
        end = args.get("end_date") or utcnow().replace(tzinfo=timezone.utc)
        start = args.get("start_date") or (end - timedelta(days=LIST_DAYS))
        stmt = stmt.where(ServiceRequest.created_at >= _naive_utc(start), ServiceRequest.created_at <= _naive_utc(end))
        if args.get("service_code"):
            codes = [c.strip() for c in args["service_code"].split(",") if c.strip()]
            stmt = stmt.where(ServiceRequest.service_type_id.in_(
                select(ServiceType.id).where(ServiceType.code.in_(codes))))
        if args.get("status") == "closed":
            stmt = stmt.where(ServiceRequest.closed_at.is_not(None))
        elif args.get("status") == "open":
            stmt = stmt.where(ServiceRequest.closed_at.is_(None))
    return list(db.session.scalars(stmt.order_by(ServiceRequest.created_at.desc(), ServiceRequest.id.desc())
                                   .limit(LIST_MAX)))


def _naive_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def _utc(value: Optional[datetime]) -> Optional[datetime]:
    return None if value is None else value.replace(tzinfo=timezone.utc)


def _public_note(item: ServiceRequest) -> Optional[str]:
    note = db.session.scalar(select(ServiceRequestEvent.note).where(
        ServiceRequestEvent.request_id == item.id, ServiceRequestEvent.staff_only.is_(False),
        ServiceRequestEvent.note.is_not(None)).order_by(ServiceRequestEvent.at.desc(), ServiceRequestEvent.id.desc())
        .limit(1))
    return note or None


def _filed_extras(item: ServiceRequest) -> dict:
    note = db.session.scalar(select(ServiceRequestEvent.note).where(
        ServiceRequestEvent.request_id == item.id, ServiceRequestEvent.action == FILED_ACTION).limit(1)) or ""
    extras = {}
    for line in note.splitlines():
        if line.startswith(MEDIA_LINE):
            extras["media_url"] = line[len(MEDIA_LINE):]
        elif line.startswith(ADDRESS_LINE):
            extras["address"] = line[len(ADDRESS_LINE):]
    return extras


def _first(item: ServiceRequest, kind: str):
    for spec in visible_fields(item.version.fields, staff=False):
        if spec["kind"] == kind and item.data.get(spec["code"]):
            return spec, item.data[spec["code"]]
    return None, None


def _description(item: ServiceRequest) -> str:
    _spec, text = _first(item, "long_text")
    return text or item.title


def matter_view(item: ServiceRequest, lang: str) -> dict:
    """A matter as GeoReport v2 shows it; the requester's name, e-mail and phone are never part of it."""
    from app.catalog.values import address_text

    extras = _filed_extras(item)
    _s, address = _first(item, "address")
    _s, location = _first(item, "location")
    with force_locale(lang):
        final = bool(engine.state(item)["final"])
        division = item.division
        expected = None
        if item.due_on is not None:
            # the day the law allows, to the end of the office day in Bangkok (16:30), sent in UTC as every
            # other time of the API (09:30+00:00)
            expected = datetime.combine(item.due_on, time(16, 30), tzinfo=thai.BANGKOK).astimezone(timezone.utc)
        return {
            "service_request_id": str(item.id),
            "status": "closed" if final else "open",
            "status_notes": _public_note(item),
            "service_name": named(item.service_type.name_th, item.service_type.name_en, lang),
            "service_code": item.service_type.code,
            "description": _description(item),
            "agency_responsible": named(division.name_th, division.name_en, lang) if division else "",
            "service_notice": service_notice(item.service_type, lang),
            "requested_datetime": _utc(item.created_at),
            "updated_datetime": _utc(item.updated_at),
            "expected_datetime": expected,
            "address": address_text(address) if address else extras.get("address"),
            "address_id": None,
            "zipcode": address.get("postcode") if address else None,
            "lat": float(location["lat"]) if location else None,
            "long": float(location["lng"]) if location else None,
            "media_url": extras.get("media_url"),
        }
