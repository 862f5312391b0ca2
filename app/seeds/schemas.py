"""Marshmallow schemas for the YAML configuration seeds. Unknown keys are errors, never dropped."""
from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

CODE = validate.Regexp(r"^[a-z][a-z0-9_-]{0,31}$", error="must be lower-case letters, digits, - or _")
DLA_CODE = validate.Regexp(r"^\d{7}$", error="must be the 7-digit DLA code")
USERNAME = validate.Regexp(r"^[A-Za-z0-9_.@-]{3,64}$", error="3-64 letters, digits or . _ @ -")


class Strict(Schema):
    class Meta:
        unknown = RAISE


class DivisionSpec(Strict):
    code = fields.String(required=True, validate=CODE)
    name_th = fields.String(required=True, validate=validate.Length(min=1, max=200))
    name_en = fields.String(load_default="", validate=validate.Length(max=200))
    active = fields.Boolean(load_default=True)


class TenantTypeSpec(Strict):
    code = fields.String(required=True, validate=CODE)
    name_th = fields.String(required=True, validate=validate.Length(min=1, max=120))
    name_en = fields.String(required=True, validate=validate.Length(min=1, max=120))
    short_th = fields.String(required=True, validate=validate.Length(min=1, max=40))
    executive_title_th = fields.String(required=True)
    executive_title_en = fields.String(required=True)
    clerk_title_th = fields.String(required=True)
    clerk_title_en = fields.String(required=True)
    default_divisions = fields.List(fields.Nested(DivisionSpec), load_default=list)


class TenantTypesFile(Strict):
    kind = fields.String(required=True, validate=validate.Equal("tenant_types"))
    tenant_types = fields.List(fields.Nested(TenantTypeSpec), required=True)


class RoleSpec(Strict):
    code = fields.String(required=True, validate=CODE)
    name_th = fields.String(required=True, validate=validate.Length(min=1, max=120))
    name_en = fields.String(required=True, validate=validate.Length(min=1, max=120))
    level = fields.Integer(required=True, validate=validate.Range(min=0, max=1000))
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
    kind = fields.String(required=True, validate=validate.Equal("roles"))
    roles = fields.List(fields.Nested(RoleSpec), required=True)


class MembershipSpec(Strict):
    division = fields.String(required=True, validate=CODE)
    role = fields.String(required=True, validate=CODE)


class UserSpec(Strict):
    username = fields.String(required=True, validate=USERNAME)
    first_name = fields.String(required=True, validate=validate.Length(min=1, max=64))
    last_name = fields.String(required=True, validate=validate.Length(min=1, max=64))
    email = fields.Email(required=True)
    password = fields.String(load_default=None)
    active = fields.Boolean(load_default=True)
    memberships = fields.List(fields.Nested(MembershipSpec), load_default=list)


class OperatorSpec(UserSpec):
    memberships = fields.List(fields.Nested(MembershipSpec), validate=validate.Length(max=0),
                              load_default=list)


class TenantSpec(Strict):
    dla_code = fields.String(required=True, validate=DLA_CODE)
    type = fields.String(required=True, validate=CODE)
    name_th = fields.String(required=True, validate=validate.Length(min=1, max=200))
    name_en = fields.String(required=True, validate=validate.Length(min=1, max=200))
    province = fields.String(required=True, validate=validate.Length(min=1, max=100))
    parent = fields.String(load_default=None, validate=DLA_CODE)
    active = fields.Boolean(load_default=True)


class TenantFile(Strict):
    kind = fields.String(required=True, validate=validate.Equal("tenant"))
    tenant = fields.Nested(TenantSpec, required=True)
    divisions = fields.List(fields.Nested(DivisionSpec), load_default=list)
    users = fields.List(fields.Nested(UserSpec), load_default=list)


class OperatorsFile(Strict):
    kind = fields.String(required=True, validate=validate.Equal("operators"))
    users = fields.List(fields.Nested(OperatorSpec), required=True)


FILE_SCHEMAS = {
    "tenant_types": TenantTypesFile,
    "roles": RolesFile,
    "operators": OperatorsFile,
    "tenant": TenantFile,
}
# Files are applied in this order whatever order they are named in.
KIND_ORDER = ["tenant_types", "roles", "operators", "tenant"]
