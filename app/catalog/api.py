"""REST API for requests: the same generated schema as the form validates every write; ISO C.E. dates;
money as strings. Files are uploaded first and then named by their attachment ids."""
from __future__ import annotations

from flask import g, request
from flask_appbuilder.api import BaseApi, expose, protect, safe
from marshmallow import ValidationError
from sqlalchemy import func, select

from app.catalog import services
from app.catalog.builder import check_uploads, document_fields
from app.catalog.models import ServiceRequest, ServiceType
from app.extensions import db
from app.service_requests import scope
from app.tenancy.context import TenantNotSet, require_tenant_id
from app.tenancy.errors import UserError


def _dump(item: ServiceRequest) -> dict:
    return {
        "id": item.id,
        "service_type": item.service_type.code,
        "version": item.version.version,
        "status": item.status,
        "division": item.division.code,
        "title": item.title,
        "data": item.data,
        "fee_total": None if item.fee_total is None else f"{item.fee_total:.2f}",
        "created_at": item.created_at.isoformat(),
    }


class ServiceRequestApi(BaseApi):
    resource_name = "service-request"
    allow_browser_login = True
    class_permission_name = "ServiceRequestApi"
    method_permission_name = {"get_list": "get", "get": "get", "post": "post", "put": "put", "upload": "post"}

    def _guard(self, call, *args):
        try:
            require_tenant_id()
            return call(*args)
        except TenantNotSet:
            return self.response_403()
        except UserError as exc:
            db.session.rollback()
            details = exc.__cause__.messages if isinstance(exc.__cause__, ValidationError) else None
            return self.response(exc.status, message=str(exc), **({"errors": details} if details else {}))

    @expose("/", methods=["GET"])
    @protect()
    @safe
    def get_list(self):
        """List this organisation's requests, newest first (?service_type=code&page=0&page_size=25)."""
        def run():
            stmt = select(ServiceRequest).order_by(ServiceRequest.created_at.desc(), ServiceRequest.id.desc())
            reach = scope.clause(g.user)  # an officer's list: matters at, or passed through, their กอง
            if reach is not None:
                stmt = stmt.where(reach)
            code = request.args.get("service_type")
            if code:
                stmt = stmt.join(ServiceType, ServiceType.id == ServiceRequest.service_type_id).where(
                    ServiceType.code == code)
            from sqlalchemy import tuple_

            from app.tenancy import keyset as keys
            from app.tenancy.interface import COUNT_CAP, DeepPage

            page = max(int(request.args.get("page", 0)), 0)
            size = min(max(int(request.args.get("page_size", 25)), 1), 100)
            # deep pages by key (?_after=next_after of the page before): no OFFSET however deep
            keyset = keys.read(request.args.get(keys.ARG), "api:service-request", "created_at", "desc")
            if keyset.after is not None:
                page = 0
            if page * size > COUNT_CAP:  # no OFFSET beyond the counting cap (DESIGN.md speed rules)
                raise DeepPage()
            # counted up to the cap: COUNT_CAP + 1 means "more than COUNT_CAP" (count_capped says so)
            count = db.session.scalar(select(func.count()).select_from(
                stmt.order_by(None).limit(COUNT_CAP + 1).subquery())) or 0
            if keyset.after is not None:
                stmt = stmt.where(tuple_(ServiceRequest.created_at, ServiceRequest.id) < tuple_(*keyset.after))
            # the version's number only (_dump): not its form JSON, nor its workflow
            if page:  # deferred join: the page's ids by filters and order alone, then their rows with joins
                ids = stmt.with_only_columns(ServiceRequest.id).offset(page * size).limit(size)
                stmt = select(ServiceRequest).where(ServiceRequest.id.in_(ids.scalar_subquery())).order_by(
                    ServiceRequest.created_at.desc(), ServiceRequest.id.desc())
            rows = db.session.scalars(stmt.options(*ServiceRequest.list_loads(workflow=False))
                                      .limit(size)).unique().all()
            next_after = keyset.token((rows[-1].created_at, rows[-1].id)) if len(rows) == size else None
            return self.response(200, count=count, count_capped=count > COUNT_CAP,
                                 result=[_dump(r) for r in rows], next_after=next_after)
        return self._guard(run)

    @expose("/<int:pk>", methods=["GET"])
    @protect()
    @safe
    def get(self, pk: int):
        def run():
            item = db.session.get(ServiceRequest, pk) if scope.may_see(g.user, pk) else None
            return self.response_404() if item is None else self.response(200, result=_dump(item))
        return self._guard(run)

    @expose("/", methods=["POST"])
    @protect()
    @safe
    def post(self):
        """File a request: {"service_type": "code", "data": {...}}."""
        def run():
            body = request.get_json(silent=True)
            if not isinstance(body, dict) or set(body) - {"service_type", "data"}:
                return self.response_400(message="expected {\"service_type\": ..., \"data\": {...}}")
            service_type = db.session.scalar(select(ServiceType).where(ServiceType.code == body.get("service_type")))
            if service_type is None:
                return self.response_404()
            version = services.current_version(service_type)
            values = self._validated(version, body.get("data"))
            item = services.file_request(service_type, values, g.user.id)
            db.session.commit()
            return self.response(201, id=item.id, result=_dump(item))
        return self._guard(run)

    @expose("/<int:pk>", methods=["PUT"])
    @protect()
    @safe
    def put(self, pk: int):
        """Replace a request's values: {"data": {...}} (under the version it was filed with)."""
        def run():
            item = db.session.get(ServiceRequest, pk) if scope.may_see(g.user, pk) else None
            if item is None:
                return self.response_404()
            body = request.get_json(silent=True)
            if not isinstance(body, dict) or set(body) != {"data"}:
                return self.response_400(message="expected {\"data\": {...}}")
            services.update_request(item, self._validated(item.version, body["data"]))
            db.session.commit()
            return self.response(200, result=_dump(item))
        return self._guard(run)

    @expose("/attachment", methods=["POST"])
    @protect()
    @safe
    def upload(self):
        """Upload one file for a file field or document (multipart: service_type, field, file) -> {id}."""
        def run():
            from app.catalog.attachments import store

            service_type = db.session.scalar(
                select(ServiceType).where(ServiceType.code == request.form.get("service_type")))
            upload = request.files.get("file")
            if service_type is None or upload is None:
                return self.response_404() if service_type is None else self.response_400(message="no file")
            version = services.current_version(service_type)
            specs = {s["code"]: s for s in list(version.fields) + document_fields(version.documents)}
            spec = specs.get(request.form.get("field", ""))
            if spec is None or spec["kind"] != "file":
                return self.response_400(message="unknown file field")
            try:
                check_uploads(spec, [upload])
            except ValueError as exc:
                return self.response(422, message=str(exc))
            attachment = store(service_type.tenant_id, spec["code"], upload, g.user.id)
            db.session.commit()
            return self.response(201, id=attachment.id)
        return self._guard(run)

    def _validated(self, version, data) -> dict:
        if not isinstance(data, dict):
            raise UserError("data must be an object", status=400)
        values = services.validate_values(version, data, staff=True, documents=version.documents)
        services.check_attachments(list(version.fields) + document_fields(version.documents), values)
        return values

