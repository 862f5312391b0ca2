"""Opening, re-tiering and closing waste-collection accounts. Every input is checked at once (a dict of field
-> message), nothing is written on a mistake, and a tier that the fee schedule cannot price is refused."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Mapping

from flask_babel import gettext as _
from sqlalchemy import select

from app import thai
from app.billing import invoices, tariff as tariffs
from app.billing.models import PREMISES_KINDS, WasteAccount, WasteAccountTier, WasteRoute
from app.catalog import values
from app.catalog.fees import FeeInputError
from app.extensions import db
from app.numbering import next_number
from app.tenancy.errors import UserError

ACCOUNT_SERIES = "waste_account"
ACCOUNT_NO_DIGITS = 7
MAX_LITRES = Decimal("100000")

# the checks of each input, in the field-spec language the service forms use
SPECS: dict[str, dict] = {
    "holder_name": {"kind": "text", "required": True, "min_length": 2, "max_length": 200},
    "business_name": {"kind": "text", "max_length": 200},
    "national_id": {"kind": "national_id"},
    "phone": {"kind": "phone"},
    "email": {"kind": "email"},
    "litres_per_day": {"kind": "decimal", "required": True, "min": "1", "max": str(MAX_LITRES)},
    "start_date": {"kind": "date", "required": True},
    "end_date": {"kind": "date"},
}


class AccountError(UserError):
    """Mistakes by field, all at once."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(" ".join(f"{msg}" for msg in errors.values()), 422)
        self.errors = errors


def _parse(raw: Mapping[str, Any], names: list[str], errors: dict[str, str]) -> dict:
    out = {}
    for name in names:
        try:
            out[name] = values.parse(SPECS[name], raw.get(name))
        except values.FieldError as exc:
            errors[name] = str(exc)
    return out


def _day(value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def _check_tier(kind: Any, litres: Any, on: date | None, errors: dict[str, str]) -> None:
    if kind not in PREMISES_KINDS:
        errors["premises_kind"] = _("Choose household or business.")
        return
    if litres is None or on is None or "litres_per_day" in errors:
        return
    try:
        tariffs.tariff(on).price(kind, Decimal(str(litres)))
    except FeeInputError as exc:
        errors["litres_per_day"] = str(exc)
    except UserError as exc:
        errors["litres_per_day"] = exc.message


def _address(raw: Mapping[str, Any], errors: dict[str, str]) -> dict | None:
    try:
        return values.parse({"kind": "address", "required": True}, {
            "line": raw.get("address_line"), "subdistrict": raw.get("subdistrict_code"),
            "postcode": raw.get("postcode")})
    except values.FieldError as exc:
        errors["address_line"] = str(exc)
        return None


def _route(raw: Mapping[str, Any], errors: dict[str, str]) -> WasteRoute | None:
    route_id = raw.get("route_id")
    if route_id in (None, ""):
        return None
    try:
        route = db.session.get(WasteRoute, int(route_id))
    except (TypeError, ValueError):
        route = None
    if route is None or route.tenant_id is None:  # the guard hides another tenant's routes
        errors["route_id"] = _("Choose a collection route from the list.")
        return None
    return route


def _route_seq(raw: Mapping[str, Any], errors: dict[str, str]) -> int:
    text = str(raw.get("route_seq") or "0").strip()
    if not text.isdigit() or int(text) > 1_000_000:
        errors["route_seq"] = _("The order on the route is a whole number from 0.")
        return 0
    return int(text)


def open_account(raw: Mapping[str, Any], actor_name: str, request_id: int | None = None) -> WasteAccount:
    """A new account with its first tier from its start date. The caller commits."""
    errors: dict[str, str] = {}
    data = _parse(raw, list(SPECS), errors)
    address = _address(raw, errors)
    route = _route(raw, errors)
    seq = _route_seq(raw, errors)
    start, end = _day(data.get("start_date")), _day(data.get("end_date"))
    if start and end and end < start:
        errors["end_date"] = _("The last day of service cannot be before the first.")
    kind = raw.get("premises_kind")
    _check_tier(kind, data.get("litres_per_day"), start, errors)
    if kind == "business" and not data.get("business_name") and "business_name" not in errors:
        errors["business_name"] = _("Give the name of the shop or business.")
    if errors:
        raise AccountError(errors)
    account = WasteAccount(
        account_no=f"{next_number(ACCOUNT_SERIES, 0):0{ACCOUNT_NO_DIGITS}d}", check_code=invoices.new_check_code(),
        premises_kind=kind, litres_per_day=Decimal(str(data["litres_per_day"])),
        holder_name=data["holder_name"], business_name=data.get("business_name"),
        national_id=data.get("national_id"), phone=data.get("phone"), email=data.get("email"),
        address_line=address["line"], subdistrict_code=address["subdistrict"], postcode=address["postcode"],
        route_id=route.id if route else None, route_seq=seq, start_date=start, end_date=end,
        request_id=request_id,
    )
    db.session.add(account)
    db.session.flush()
    db.session.add(WasteAccountTier(account_id=account.id, effective_from=start, premises_kind=kind,
                                    litres_per_day=account.litres_per_day, recorded_by_name=actor_name))
    db.session.flush()
    return account


def update_contact(account: WasteAccount, raw: Mapping[str, Any]) -> WasteAccount:
    """Name, contact, address and route; the tier and the dates have their own steps. The caller commits."""
    errors: dict[str, str] = {}
    data = _parse(raw, ["holder_name", "business_name", "national_id", "phone", "email"], errors)
    address = _address(raw, errors)
    route = _route(raw, errors)
    seq = _route_seq(raw, errors)
    if account.premises_kind == "business" and not data.get("business_name") and "business_name" not in errors:
        errors["business_name"] = _("Give the name of the shop or business.")
    if errors:
        raise AccountError(errors)
    for name in ("holder_name", "business_name", "national_id", "phone", "email"):
        setattr(account, name, data.get(name))
    account.address_line, account.subdistrict_code, account.postcode = \
        address["line"], address["subdistrict"], address["postcode"]
    account.route_id, account.route_seq = (route.id if route else None), seq
    db.session.flush()
    return account


def change_tier(account: WasteAccount, raw: Mapping[str, Any], actor_name: str) -> WasteAccountTier:
    """A new tier from a day on (the same day again replaces that day's tier). Periods already billed keep
    their bills; a period is billed at the tier in force on its first day of service."""
    errors: dict[str, str] = {}
    data = _parse(raw, ["litres_per_day"], errors)
    try:
        day = _day(values.parse({"kind": "date", "required": True}, raw.get("effective_from")))
    except values.FieldError as exc:
        errors["effective_from"] = str(exc)
        day = None
    if day and day < account.start_date:
        errors["effective_from"] = _("The new tier cannot start before the account (%(day)s).",
                                     day=thai.format_date(account.start_date))
    if day and account.end_date and day > account.end_date:
        errors["effective_from"] = _("The account is closed from %(day)s.", day=thai.format_date(account.end_date))
    kind = raw.get("premises_kind") or account.premises_kind
    _check_tier(kind, data.get("litres_per_day"), day, errors)
    if errors:
        raise AccountError(errors)
    litres = Decimal(str(data["litres_per_day"]))
    tier = db.session.scalar(select(WasteAccountTier).where(WasteAccountTier.account_id == account.id,
                                                            WasteAccountTier.effective_from == day))
    if tier is None:
        tier = WasteAccountTier(account_id=account.id, effective_from=day)
        db.session.add(tier)
    tier.premises_kind, tier.litres_per_day, tier.recorded_by_name = kind, litres, actor_name
    db.session.flush()
    latest = tier_on(account, date.max)
    account.premises_kind, account.litres_per_day = latest.premises_kind, latest.litres_per_day
    db.session.flush()
    return tier


def close_account(account: WasteAccount, raw: Mapping[str, Any]) -> WasteAccount:
    """The last day of service. A period is billed when the account is served on any of its days (a part of a
    month counts as a month, as fee ordinances count it); later periods are not billed."""
    try:
        day = _day(values.parse({"kind": "date", "required": True}, raw.get("end_date")))
    except values.FieldError as exc:
        raise AccountError({"end_date": str(exc)}) from None
    if day < account.start_date:
        raise AccountError({"end_date": _("The last day of service cannot be before the first.")})
    account.end_date = day
    db.session.flush()
    return account


def tier_on(account: WasteAccount, day: date) -> WasteAccountTier | None:
    """The tier in force on a day: the latest that starts on or before it."""
    return db.session.scalar(select(WasteAccountTier).where(
        WasteAccountTier.account_id == account.id, WasteAccountTier.effective_from <= day)
        .order_by(WasteAccountTier.effective_from.desc()).limit(1))


def tiers(account: WasteAccount) -> list[WasteAccountTier]:
    return list(db.session.scalars(select(WasteAccountTier).where(WasteAccountTier.account_id == account.id)
                                   .order_by(WasteAccountTier.effective_from)))


# --- from the citizen's registration request (workflow effect open_waste_account) ---------------------------

# the account's inputs -> the registration form's field that carries them
REQUEST_FIELDS = {
    "holder_name": "account_holder", "national_id": "national_id", "phone": "phone", "email": "email",
    "premises_kind": "premises_kind", "business_name": "business_name", "litres_per_day": "litres_per_day",
    "start_date": "start_date", "address_line": "address", "subdistrict_code": "address", "postcode": "address",
    "route_id": "collection_zone",
}


def of_request(request_id: int) -> WasteAccount | None:
    return db.session.scalar(select(WasteAccount).where(WasteAccount.request_id == request_id)
                             .order_by(WasteAccount.id).limit(1))


def open_from_request(request, actor_name: str) -> tuple[WasteAccount, bool]:
    """The account a registration request asks for, opened once: (account, opened now). The volume staff
    verified, when given, is billed rather than the applicant's estimate; the route is the one whose code is
    the collection zone staff wrote. A mistake is an AccountError naming the request's own fields."""
    found = of_request(request.id)
    if found is not None:
        return found, False
    data = request.data or {}
    address = data.get("address") or {}
    verified = data.get("verified_litres_per_day")
    litres_field = "litres_per_day" if verified in (None, "") else "verified_litres_per_day"
    zone = str(data.get("collection_zone") or "").strip()
    route = db.session.scalar(select(WasteRoute).where(WasteRoute.code == zone)) if zone else None
    raw = {
        "holder_name": data.get("account_holder"), "national_id": data.get("national_id"),
        "phone": data.get("phone"), "email": data.get("email"), "premises_kind": data.get("premises_kind"),
        "business_name": data.get("business_name"), "litres_per_day": data.get(litres_field),
        "start_date": data.get("start_date"), "address_line": address.get("line"),
        "subdistrict_code": address.get("subdistrict"), "postcode": address.get("postcode"),
        "route_id": route.id if route is not None else None,
    }
    try:
        return open_account(raw, actor_name, request_id=request.id), True
    except AccountError as exc:
        fields = {**REQUEST_FIELDS, "litres_per_day": litres_field}
        raise AccountError({fields.get(key, key): message for key, message in exc.errors.items()}) from None


def normal_account_no(text) -> str:
    """An account number as typed or as a bank exported it (Thai digits, spaces, leading zeros dropped by a
    spreadsheet) in the stored form; "" when it holds no digit."""
    digits = "".join(ch for ch in str(text or "").translate(str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789"))
                     if ch.isdigit())
    return digits.zfill(ACCOUNT_NO_DIGITS) if digits else ""
