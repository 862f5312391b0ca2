"""Apply validated seed files in one transaction: a plan of create / update / unchanged per object,
idempotent (a second run changes nothing), nothing written on --dry-run or on any error."""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Optional

from flask import current_app
from flask_babel import gettext as _
from flask_appbuilder.security.sqla.models import Role, User
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.security import services as grants
from app.security.models import RoleTemplate
from app.security.passwords import generate_password, validate_password_policy
from app.seeds.loader import SeedError, SeedFile, load
from app.tenancy.context import platform_scope
from app.tenancy.models import Division, Tenant, TenantType


@dataclass
class Change:
    action: str  # create | update | unchanged
    kind: str
    key: str
    fields: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        detail = f" ({', '.join(self.fields)})" if self.fields else ""
        return f"{self.action:<9} {self.kind:<12} {self.key}{detail}"


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    errors: list[SeedError] = field(default_factory=list)
    new_passwords: dict[str, str] = field(default_factory=dict)

    def count(self, action: str) -> int:
        return sum(1 for c in self.changes if c.action == action)

    @property
    def has_changes(self) -> bool:
        return any(c.action != "unchanged" for c in self.changes)


class _Abort(Exception):
    pass


def _set_fields(obj: Any, values: dict[str, Any]) -> list[str]:
    changed = []
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed.append(key)
    return changed


def _record(plan: Plan, kind: str, key: str, created: bool, changed: list[str]) -> None:
    if created:
        plan.changes.append(Change("create", kind, key))
    elif changed:
        plan.changes.append(Change("update", kind, key, changed))
    else:
        plan.changes.append(Change("unchanged", kind, key))


class Applier:
    def __init__(self, plan: Plan):
        self.plan = plan
        self.sm = current_app.appbuilder.sm
        self.session = db.session
        self._hashed: dict[tuple[str, str], str] = {}  # (username, password) -> new hash, "" = stored one matches

    def hash_passwords(self, specs: list[dict]) -> None:
        """Check and hash the seed's passwords all at once, in threads: scrypt (OpenSSL) releases the GIL, so an
        organisation's users cost about one hash per core instead of one per user (onboarding in about 1 s)."""
        wanted = [(u["username"], u["password"]) for u in specs if u.get("password") and u.get("username")]
        if len(wanted) < 2:
            return
        stored = dict(self.session.execute(
            select(User.username, User.password).where(User.username.in_([name for name, _pw in wanted]))).all())
        method = current_app.config.get("FAB_PASSWORD_HASH_METHOD", "scrypt")

        def work(item):
            name, password = item
            if stored.get(name) and check_password_hash(stored[name], password):
                return ""
            return generate_password_hash(password, method=method)

        with ThreadPoolExecutor(max_workers=min(len(wanted), os.cpu_count() or 1)) as pool:
            self._hashed.update(zip(wanted, pool.map(work, wanted)))

    def _new_hash(self, user: User, username: str, password: str, created: bool) -> str | None:
        """The hash to store for this seed password, or None when the stored one already matches."""
        found = self._hashed.pop((username, password), None)
        if found is not None:  # checked against the row as hash_passwords read it
            return found or None
        if not created and check_password_hash(user.password or "", password):
            return None
        return generate_password_hash(password, method=current_app.config.get("FAB_PASSWORD_HASH_METHOD", "scrypt"))

    def error(self, seed: SeedFile, path: str, message: str) -> None:
        self.plan.errors.append(SeedError(seed.path, path, message))

    # tenant types -------------------------------------------------------------------------------
    def tenant_types(self, seed: SeedFile) -> None:
        for spec in seed.data["tenant_types"]:
            obj = self.session.get(TenantType, spec["code"])
            created = obj is None
            if created:
                obj = TenantType(code=spec["code"])
                self.session.add(obj)
            values = {k: v for k, v in spec.items() if k != "code"}
            changed = _set_fields(obj, values)
            _record(self.plan, "tenant_type", spec["code"], created, changed)

    # roles ------------------------------------------------------------------------------------------
    def roles(self, seed: SeedFile) -> None:
        sm = self.sm
        # FAB registers every view's permissions at start-up; roles may only name existing ones.
        existing_pvs = self._all_pvs()
        for i, spec in enumerate(seed.data["roles"]):
            role = sm.find_role(spec["code"])
            role_created = role is None
            if role_created:
                role = Role(name=spec["code"])
                self.session.add(role)
            if spec["all_permissions"]:
                wanted = set(existing_pvs.values())
            else:
                wanted = set()
                for view, perms in spec["permissions"].items():
                    for perm in perms:
                        pv = existing_pvs.get((perm, view))
                        if pv is None:
                            self.error(seed, f"roles[{i}].permissions.{view}",
                                       _("Unknown permission %(perm)r on %(view)r.", perm=perm, view=view))
                        else:
                            wanted.add(pv)
                for j, menu in enumerate(spec["menus"]):
                    pv = existing_pvs.get(("menu_access", menu))
                    if pv is None:
                        self.error(seed, f"roles[{i}].menus[{j}]", _("Unknown menu %(menu)r.", menu=menu))
                    else:
                        wanted.add(pv)
            changed = []
            if set(role.permissions or []) != wanted:
                role.permissions = sorted(wanted, key=lambda pv: pv.id)
                changed.append("permissions")
            template = self.session.scalar(select(RoleTemplate).where(RoleTemplate.code == spec["code"]))
            created = template is None
            if created:
                template = RoleTemplate(code=spec["code"], role=role)
                self.session.add(template)
            values = {k: spec[k] for k in ("name_th", "name_en", "level", "grantable", "platform",
                                          "whole_tenant", "description")}
            changed += _set_fields(template, values)
            _record(self.plan, "role", spec["code"], created or role_created, changed)

    def _all_pvs(self):
        from flask_appbuilder.security.sqla.models import PermissionView

        return {
            (pv.permission.name, pv.view_menu.name): pv
            for pv in self.session.scalars(select(PermissionView))
        }

    # service templates ------------------------------------------------------------------------------
    def service_template(self, seed: SeedFile) -> None:
        from app.catalog.models import ServiceTemplate
        from app.catalog.services import _jsonable, template_by_code

        spec = _jsonable({k: v for k, v in seed.data.items() if k != "kind"})
        template = template_by_code(spec["code"])
        created = template is None
        if created:
            template = ServiceTemplate(code=spec["code"])
            self.session.add(template)
        changed = _set_fields(template, {
            "name_th": spec["name_th"], "name_en": spec.get("name_en") or "", "category": spec["category"],
            "spec": spec,
        })
        _record(self.plan, "service", spec["code"], created, changed)

    def tenant_services(self, seed: SeedFile, tenant: Tenant, divisions: dict) -> None:
        from marshmallow import ValidationError

        from app.catalog import services as catalog
        from app.catalog.fee_rules import check_caps, load_caps, template_fee_codes
        from app.catalog.spec import ServiceSpec, _fee_fields_exist
        from app.seeds.loader import flatten_errors

        dla = seed.data["tenant"]["dla_code"]
        for i, entry in enumerate(seed.data["services"]):
            path = f"services[{i}]"
            template = None
            if entry["template"]:
                template = catalog.template_by_code(entry["template"])
                if template is None:
                    self.error(seed, f"{path}.template", _("Unknown service template %(code)r.", code=entry["template"]))
                    continue
                try:  # overrides are checked with the template as a whole (guide wording, extra fields)
                    definition = catalog.resolve_definition(entry, template)
                except ValidationError as error:
                    for where, message in flatten_errors(error.messages):
                        self.error(seed, f"{path}.{where}", message)
                    continue
                if entry.get("workflow") is not None:
                    from app.service_requests.workflow_spec import WorkflowSpec

                    try:
                        definition["workflow"] = WorkflowSpec().load(entry["workflow"])
                    except ValidationError as error:
                        for where, message in flatten_errors(error.messages):
                            self.error(seed, f"{path}.workflow.{where}", message)
                        continue
            else:
                raw = {k: v for k, v in entry.items()
                       if k not in ("template", "extra_fields", "fees", "active") and v is not None}
                try:
                    definition = ServiceSpec().load(raw)
                except ValidationError as error:
                    for where, message in flatten_errors(error.messages):
                        self.error(seed, f"{path}.{where}", message)
                    continue
            division = divisions.get(definition["responsible_division"])
            if division is None:
                self.error(seed, f"{path}.responsible_division",
                           _("Unknown division %(code)r.", code=definition["responsible_division"]))
                continue
            from app.service_requests.workflow_spec import missing_divisions

            lacking = missing_divisions(definition.get("workflow"), set(divisions))
            if lacking:
                self.error(seed, f"{path}.workflow", _(
                    "The workflow sends matters to divisions this organisation does not have: %(codes)s. "
                    "Add them under divisions:, or give the service a workflow of its own.",
                    codes=", ".join(lacking)))
                continue
            caps = load_caps((template.spec if template else definition).get("caps") or [])
            local = entry["fees"]
            bad = False
            for j, schedule in enumerate(local):
                try:
                    _fee_fields_exist(schedule["rules"], definition["fields"], "fees")
                except ValidationError as error:
                    for where, message in flatten_errors(error.messages):
                        self.error(seed, f"{path}.fees[{j}]{where[len('fees'):]}", message)
                    bad = True
                for where, message in check_caps(schedule["rules"], caps,
                                                  template_fee_codes(template.spec if template else None)):
                    self.error(seed, f"{path}.fees[{j}].{where}", message)
                    bad = True
            if bad:
                continue
            service_type, changed = catalog.save_definition(tenant.id, definition, division)
            service_type.active = entry["active"]
            key = f"{dla}/{service_type.code}"
            _record(self.plan, "service", key, "created" in changed, [c for c in changed if c != "created"])
            schedules = local or ([definition["fees"]] if definition.get("fees") else [])
            for schedule in schedules:
                schedule = dict(schedule)
                for bound in ("effective_from", "effective_to"):
                    if isinstance(schedule.get(bound), str):
                        schedule[bound] = date.fromisoformat(schedule[bound])
                fee_changed = catalog.save_fee_schedule(service_type, schedule)
                _record(self.plan, "fee_schedule", f"{key}@{schedule['effective_from'].isoformat()}",
                        fee_changed == ["created"], [c for c in fee_changed if c != "created"])

    # users --------------------------------------------------------------------------------------
    def user(self, seed: SeedFile, path: str, spec: dict, tenant: Optional[Tenant]) -> Optional[User]:
        user = self.session.scalar(select(User).where(User.username == spec["username"]))
        tenant_id = tenant.id if tenant is not None else None
        if user is not None and user.tenant_id != tenant_id:
            self.error(seed, f"{path}.username", _("%(username)r already belongs to another organisation.",
                                                   username=spec["username"]))
            return None
        other = self.session.scalar(
            select(User).where(User.email == spec["email"], User.username != spec["username"])
        )
        if other is not None:
            self.error(seed, f"{path}.email", _("%(email)r is already used by another user.", email=spec["email"]))
            return None
        password = spec.get("password")
        if password:
            try:
                validate_password_policy(password)
            except Exception as exc:  # PasswordComplexityValidationError
                self.error(seed, f"{path}.password", str(exc))
                return None
        created = user is None
        if created:
            user = User(username=spec["username"], tenant_id=tenant_id, login_count=0, fail_login_count=0)
            self.session.add(user)
        changed = _set_fields(user, {
            "first_name": spec["first_name"], "last_name": spec["last_name"], "email": spec["email"],
            "active": spec["active"],
        })
        if created and not password:
            password = generate_password()
            self.plan.new_passwords[spec["username"]] = password
        new_hash = self._new_hash(user, spec["username"], password, created) if password else None
        if new_hash:
            user.password = new_hash
            if not created:
                changed.append("password")
        _record(self.plan, "user", spec["username"], created, changed)
        return user

    def operators(self, seed: SeedFile) -> None:
        admin = self.sm.find_role(current_app.config["AUTH_ROLE_ADMIN"])
        self.hash_passwords(seed.data["users"])
        for i, spec in enumerate(seed.data["users"]):
            user = self.user(seed, f"users[{i}]", spec, None)
            if user is None:
                continue
            if admin is None:
                self.error(seed, f"users[{i}]", _("Apply seeds/platform/roles.yaml first."))
            elif admin not in (user.roles or []):
                user.roles = list(user.roles or []) + [admin]
                self.plan.changes.append(Change("create", "grant", f"{spec['username']} -> {admin.name}"))
            else:
                self.plan.changes.append(Change("unchanged", "grant", f"{spec['username']} -> {admin.name}"))

    # tenants ------------------------------------------------------------------------------------------
    def tenant(self, seed: SeedFile) -> None:
        spec = seed.data["tenant"]
        ttype = self.session.get(TenantType, spec["type"])
        if ttype is None:
            self.error(seed, "tenant.type", _("Unknown organisation type %(type)r.", type=spec["type"]))
            return
        parent = None
        if spec.get("parent"):
            parent = self.session.scalar(select(Tenant).where(Tenant.dla_code == spec["parent"]))
            if parent is None:
                self.error(seed, "tenant.parent", _("No organisation has DLA code %(code)r.", code=spec["parent"]))
                return
        tenant = self.session.scalar(select(Tenant).where(Tenant.dla_code == spec["dla_code"]))
        created = tenant is None
        if created:
            tenant = Tenant(dla_code=spec["dla_code"])
            self.session.add(tenant)
        changed = _set_fields(tenant, {
            "type_code": ttype.code, "name_th": spec["name_th"], "name_en": spec["name_en"],
            "province": spec["province"], "parent_id": parent.id if parent else None,
            "active": spec["active"],
            **({"promptpay_biller_id": spec["promptpay_biller_id"]} if spec.get("promptpay_biller_id") else {}),
            **({"book_prefix": spec["book_prefix"]} if spec.get("book_prefix") else {}),
            **{name: spec[name] for name in ("address_th", "phone") if spec.get(name)},
        })
        tenant.type = ttype
        self.session.flush()
        _record(self.plan, "tenant", spec["dla_code"], created, changed)

        # Divisions: the type's standard ones, then the file's own (which may rename them).
        specs: dict[str, tuple[str, dict]] = {}
        for d in ttype.default_divisions or []:
            specs[d["code"]] = ("", {"name_th": d["name_th"], "name_en": d.get("name_en", ""), "active": True})
        seen = set()
        for i, d in enumerate(seed.data["divisions"]):
            if d["code"] in seen:
                self.error(seed, f"divisions[{i}].code", _("Duplicate division code %(code)r.", code=d["code"]))
                continue
            seen.add(d["code"])
            specs[d["code"]] = (f"divisions[{i}]", {k: d[k] for k in ("name_th", "name_en", "active")})
        divisions: dict[str, Division] = {
            d.code: d for d in self.session.scalars(select(Division).where(Division.tenant_id == tenant.id))
        }
        for code, (_path, values) in specs.items():
            division = divisions.get(code)
            d_created = division is None
            if d_created:
                division = Division(tenant_id=tenant.id, code=code)
                self.session.add(division)
                divisions[code] = division
            d_changed = _set_fields(division, values)
            _record(self.plan, "division", f"{spec['dla_code']}/{code}", d_created, d_changed)
        self.session.flush()

        templates = {t.code: t for t in self.session.scalars(select(RoleTemplate))}
        usernames = set()
        self.hash_passwords(seed.data["users"])
        for i, u in enumerate(seed.data["users"]):
            if u["username"] in usernames:
                self.error(seed, f"users[{i}].username", _("Duplicate username %(username)r.", username=u["username"]))
                continue
            usernames.add(u["username"])
            # check references before touching the user
            bad = False
            for j, m in enumerate(u["memberships"]):
                if m["division"] not in divisions:
                    self.error(seed, f"users[{i}].memberships[{j}].division",
                               _("Unknown division %(code)r.", code=m["division"]))
                    bad = True
                template = templates.get(m["role"])
                if template is None:
                    self.error(seed, f"users[{i}].memberships[{j}].role", _("Unknown role %(role)r.", role=m["role"]))
                    bad = True
                elif template.platform:
                    self.error(seed, f"users[{i}].memberships[{j}].role",
                               _("%(role)r is a platform role, not for an organisation.", role=m["role"]))
                    bad = True
            if bad:
                continue
            user = self.user(seed, f"users[{i}]", u, tenant)
            if user is None:
                continue
            self.session.flush()
            held = {(m.division_id, m.role_template_id) for m in user.memberships}
            for m in u["memberships"]:
                division, template = divisions[m["division"]], templates[m["role"]]
                key = f"{u['username']} @ {spec['dla_code']}/{m['division']} as {m['role']}"
                if (division.id, template.id) in held:
                    self.plan.changes.append(Change("unchanged", "membership", key))
                    continue
                grants.grant(None, user, division, template)
                held.add((division.id, template.id))
                self.plan.changes.append(Change("create", "membership", key))
        self.session.flush()
        self.tenant_services(seed, tenant, divisions)
        if seed.data.get("waste"):
            self.waste(seed, tenant)
        self.saraban(seed, tenant, divisions)

    def saraban(self, seed: SeedFile, tenant: Tenant, divisions: dict[str, Division]) -> None:
        """The central registers (always), then the file's registers of a กอง; registers not in the file are
        left as they are (documents are numbered in them)."""
        from app.saraban import registry
        from app.saraban.models import Register

        before = {(r.direction, r.division_id) for r in self.session.scalars(
            select(Register).where(Register.tenant_id == tenant.id))}
        for register in registry.ensure_central(tenant.id):
            _record(self.plan, "saraban_register", f"{tenant.dla_code}/{registry.CENTRAL_DIVISION}/{register.direction}",
                    (register.direction, register.division_id) not in before, [])
        spec = seed.data.get("saraban") or {}
        seen = set()
        for i, r in enumerate(spec.get("registers") or []):
            path = f"saraban.registers[{i}]"
            division = divisions.get(r["division"])
            if division is None:
                self.error(seed, f"{path}.division", _("Unknown division %(code)r.", code=r["division"]))
                continue
            if (r["direction"], r["division"]) in seen:
                self.error(seed, f"{path}.division", _("Duplicate register %(direction)s of %(code)r.",
                                                       direction=r["direction"], code=r["division"]))
                continue
            seen.add((r["direction"], r["division"]))
            register = self.session.scalar(select(Register).where(
                Register.tenant_id == tenant.id, Register.direction == r["direction"],
                Register.division_id == division.id))
            created = register is None
            if created:
                register = Register(tenant_id=tenant.id, direction=r["direction"], division_id=division.id)
                self.session.add(register)
            changed = _set_fields(register, {"book_code": r["book_code"], "year_basis": r["year_basis"],
                                             "active": r["active"]})
            _record(self.plan, "saraban_register", f"{tenant.dla_code}/{r['division']}/{r['direction']}", created,
                    [] if created else changed)
        self.session.flush()

    def waste(self, seed: SeedFile, tenant: Tenant) -> None:
        """Waste-fee settings and collection routes; routes not in the file are left as they are (accounts
        may be on them)."""
        from app.billing.models import WasteRoute, WasteSettings

        spec = seed.data["waste"]
        conf = self.session.scalar(select(WasteSettings).where(WasteSettings.tenant_id == tenant.id))
        created = conf is None
        if created:
            conf = WasteSettings(tenant_id=tenant.id)
            self.session.add(conf)
        changed = _set_fields(conf, {k: spec[k] for k in ("service_code", "period_months", "due_days")})
        _record(self.plan, "waste_settings", tenant.dla_code, created, changed)
        routes = {r.code: r for r in self.session.scalars(select(WasteRoute).where(WasteRoute.tenant_id == tenant.id))}
        seen = set()
        for i, r in enumerate(spec["routes"]):
            if r["code"] in seen:
                self.error(seed, f"waste.routes[{i}].code", _("Duplicate route code %(code)r.", code=r["code"]))
                continue
            seen.add(r["code"])
            route = routes.get(r["code"])
            r_created = route is None
            if r_created:
                route = WasteRoute(tenant_id=tenant.id, code=r["code"])
                self.session.add(route)
            r_changed = _set_fields(route, {
                "name_th": r["name_th"], "name_en": r["name_en"] or None,
                "collection_days": ",".join(r["collection_days"]) or None, "active": r["active"]})
            _record(self.plan, "waste_route", f"{tenant.dla_code}/{r['code']}", r_created, r_changed)
        self.session.flush()


def apply_paths(paths: list[str], dry_run: bool = False) -> Plan:
    plan = Plan()
    loaded = load(paths)
    plan.errors.extend(loaded.errors)
    if plan.errors:
        return plan
    applier = Applier(plan)
    with platform_scope():
        try:
            for seed in loaded.files:
                getattr(applier, seed.kind)(seed)
                db.session.flush()
            if plan.errors or dry_run:
                db.session.rollback()
            else:
                db.session.commit()
        except Exception:
            db.session.rollback()
            raise
    if plan.errors:
        plan.changes.clear()
        plan.new_passwords.clear()
    if dry_run:
        plan.new_passwords.clear()
    return plan
