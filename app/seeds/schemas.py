"""Marshmallow schemas for the YAML configuration seeds. Unknown keys are errors, never dropped."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import validate

from app.catalog.spec import TemplateFile, TenantServiceSpec
from app.schema_base import Strict, fields

# Messages are lazy: the CLI prints them in the operator's language (Thai by default).
CODE = validate.Regexp(
    r"^[a-z][a-z0-9_-]{0,31}$", error=_l("Must be lower-case English letters, digits, - or _ (e.g. finance).")
)
# a book code (รหัสตัวพยัญชนะและตัวเลข): ชม 52101, or ชม 52101.3 for a กอง
BOOK_CODE = r"^[ก-ฮ]{1,4} ?[0-9]{2,6}(\.[0-9]{1,4})*$"
DLA_CODE = validate.Regexp(r"^\d{7}$", error=_l("Must be the 7-digit DLA code."))
USERNAME = validate.Regexp(
    r"^[A-Za-z0-9_.@-]{3,64}$", error=_l("Must be 3-64 English letters, digits or . _ @ -.")
)


def _length(min=None, max=None):
    return validate.Length(min=min, max=max, error=_l("Must be {min} to {max} characters long."))


class DivisionSpec(Strict):
    code = fields.String(required=True, validate=CODE)
    name_th = fields.String(required=True, validate=_length(1, 200))
    name_en = fields.String(load_default="", validate=_length(0, 200))
    active = fields.Boolean(load_default=True)


class TenantTypeSpec(Strict):
    code = fields.String(required=True, validate=CODE)
    name_th = fields.String(required=True, validate=_length(1, 120))
    name_en = fields.String(required=True, validate=_length(1, 120))
    short_th = fields.String(required=True, validate=_length(1, 40))
    executive_title_th = fields.String(required=True)
    executive_title_en = fields.String(required=True)
    clerk_title_th = fields.String(required=True)
    clerk_title_en = fields.String(required=True)
    default_divisions = fields.List(fields.Nested(DivisionSpec), load_default=list)


class TenantTypesFile(Strict):
    kind = fields.String(required=True, validate=validate.Equal("tenant_types", error=_l("Must be {other}.")))
    tenant_types = fields.List(fields.Nested(TenantTypeSpec), required=True)


class RoleSpec(Strict):
    code = fields.String(required=True, validate=CODE)
    name_th = fields.String(required=True, validate=_length(1, 120))
    name_en = fields.String(required=True, validate=_length(1, 120))
    level = fields.Integer(
        required=True, validate=validate.Range(min=0, max=1000, error=_l("Must be between {min} and {max}."))
    )
    grantable = fields.Boolean(load_default=False)
    platform = fields.Boolean(load_default=False)
    whole_tenant = fields.Boolean(load_default=False)
    description = fields.String(load_default="")
    all_permissions = fields.Boolean(load_default=False)
    permissions = fields.Dict(
        keys=fields.String(), values=fields.List(fields.String()), load_default=dict
    )
    menus = fields.List(fields.String(), load_default=list)


class RolesFile(Strict):
    kind = fields.String(required=True, validate=validate.Equal("roles", error=_l("Must be {other}.")))
    roles = fields.List(fields.Nested(RoleSpec), required=True)


class MembershipSpec(Strict):
    division = fields.String(required=True, validate=CODE)
    role = fields.String(required=True, validate=CODE)


class UserSpec(Strict):
    username = fields.String(required=True, validate=USERNAME)
    first_name = fields.String(required=True, validate=_length(1, 64))
    last_name = fields.String(required=True, validate=_length(1, 64))
    email = fields.Email(required=True)
    password = fields.String(load_default=None)
    active = fields.Boolean(load_default=True)
    memberships = fields.List(fields.Nested(MembershipSpec), load_default=list)


class OperatorSpec(UserSpec):
    memberships = fields.List(
        fields.Nested(MembershipSpec), load_default=list,
        validate=validate.Length(max=0, error=_l("Platform operators belong to no division.")),
    )


class TenantSpec(Strict):
    dla_code = fields.String(required=True, validate=DLA_CODE)
    type = fields.String(required=True, validate=CODE)
    name_th = fields.String(required=True, validate=_length(1, 200))
    name_en = fields.String(required=True, validate=_length(1, 200))
    province = fields.String(required=True, validate=_length(1, 100))
    parent = fields.String(load_default=None, validate=DLA_CODE)
    active = fields.Boolean(load_default=True)
    # Thai QR bill payment: the biller ID from the organisation's bank (tax id + 2-digit suffix)
    promptpay_biller_id = fields.String(
        load_default=None, validate=validate.Regexp(r"^\d{15}$", error=_l("Must be 15 digits.")))
    # the รหัสตัวพยัญชนะและตัวเลข printed before outgoing letter numbers: ที่ ชม 52101/123
    book_prefix = fields.String(load_default=None, validate=validate.Regexp(BOOK_CODE, error=_l(
        "Must be Thai letters and digits, e.g. ชม 52101 or ชม 52101.3.")))
    # the letterhead: the office address under the organisation's name, the telephone of the กอง at the foot
    address_th = fields.String(load_default=None, validate=_length(1, 500))
    phone = fields.String(load_default=None, validate=_length(1, 60))


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class WasteRouteSpec(Strict):
    code = fields.String(required=True, validate=validate.Regexp(
        r"^[A-Za-z0-9_-]{1,32}$", error=_l("Must be 1-32 English letters, digits, - or _.")))
    name_th = fields.String(required=True, validate=_length(1, 200))
    name_en = fields.String(load_default="", validate=_length(0, 200))
    collection_days = fields.List(fields.String(validate=validate.OneOf(WEEKDAYS, error=_l(
        "Must be one of: {choices}."))), load_default=list)
    active = fields.Boolean(load_default=True)


class WasteSpec(Strict):
    """How the organisation bills waste fees, and its collection routes."""

    service_code = fields.String(load_default="waste_collection_registration", validate=_length(1, 64))
    period_months = fields.Integer(load_default=1, validate=validate.OneOf(
        (1, 2, 3, 4, 6, 12), error=_l("Must be one of: {choices}.")))
    due_days = fields.Integer(load_default=15, validate=validate.Range(
        min=0, max=90, error=_l("Must be between {min} and {max}.")))
    routes = fields.List(fields.Nested(WasteRouteSpec), load_default=list)


class SarabanRegisterSpec(Strict):
    """A กอง's own register (the central ones of สำนักปลัด are always made)."""

    direction = fields.String(required=True, validate=validate.OneOf(("incoming", "outgoing"), error=_l(
        "Must be one of: {choices}.")))
    division = fields.String(required=True, validate=CODE)
    book_code = fields.String(load_default=None, validate=validate.Regexp(BOOK_CODE, error=_l(
        "Must be Thai letters and digits, e.g. ชม 52101 or ชม 52101.3.")))
    year_basis = fields.String(load_default="calendar", validate=validate.OneOf(("calendar", "fiscal"), error=_l(
        "Must be one of: {choices}.")))
    active = fields.Boolean(load_default=True)


class SarabanSpec(Strict):
    """Electronic correspondence: the organisation's registers beyond the central ones."""

    registers = fields.List(fields.Nested(SarabanRegisterSpec), load_default=list)


class TenantFile(Strict):
    kind = fields.String(required=True, validate=validate.Equal("tenant", error=_l("Must be {other}.")))
    tenant = fields.Nested(TenantSpec, required=True)
    divisions = fields.List(fields.Nested(DivisionSpec), load_default=list)
    users = fields.List(fields.Nested(UserSpec), load_default=list)
    services = fields.List(fields.Nested(TenantServiceSpec), load_default=list)
    waste = fields.Nested(WasteSpec, load_default=None)
    saraban = fields.Nested(SarabanSpec, load_default=None)


class OperatorsFile(Strict):
    kind = fields.String(required=True, validate=validate.Equal("operators", error=_l("Must be {other}.")))
    users = fields.List(fields.Nested(OperatorSpec), required=True)


FILE_SCHEMAS = {
    "tenant_types": TenantTypesFile,
    "roles": RolesFile,
    "operators": OperatorsFile,
    "tenant": TenantFile,
    "service_template": TemplateFile,
}
# Files are applied in this order whatever order they are named in.
KIND_ORDER = ["tenant_types", "roles", "service_template", "operators", "tenant"]
