"""Service templates (platform), and each tenant's service types, their versions, fee schedules and the
requests filed under them."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask_appbuilder import Model
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, defer, joinedload, mapped_column, selectinload

from app.tenancy.models import Division, TenantScoped, localized, tenant_link, utcnow


class ServiceTemplate(Model):
    """A service as the platform offers it to every tenant (seeds/services/*.yaml): platform data."""

    __tablename__ = "service_templates"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(48), unique=True, nullable=False)
    name_th: Mapped[str] = mapped_column(String(200), nullable=False)
    name_en: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    category: Mapped[str] = mapped_column(String(32), nullable=False)
    # the whole validated template document: fields, documents, guide, fees, caps
    spec: Mapped[dict] = mapped_column(JSON, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    def __str__(self) -> str:
        return localized(self.name_th, self.name_en)


class ServiceType(TenantScoped, Model):
    """A service one tenant offers, from a template (with local overrides) or defined by the tenant."""

    __tablename__ = "service_types"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code", name="uq_service_types_tenant_code"),
        UniqueConstraint("tenant_id", "id", name="uq_service_types_tenant_id_id"),
        ForeignKeyConstraint(
            ["tenant_id", "responsible_division_id"], ["divisions.tenant_id", "divisions.id"],
            name="fk_service_types_tenant_division", ondelete="RESTRICT",
        ),
        Index("ix_service_types_responsible_division_id", "tenant_id", "responsible_division_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(48), nullable=False)
    template_code: Mapped[str | None] = mapped_column(String(48), nullable=True)
    name_th: Mapped[str] = mapped_column(String(200), nullable=False)
    name_en: Mapped[str | None] = mapped_column(String(200), nullable=True)
    category: Mapped[str] = mapped_column(String(32), nullable=False, default="other")
    responsible_division_id: Mapped[int] = mapped_column(Integer, nullable=False)
    responsible_division: Mapped[Division] = tenant_link("Division", "ServiceType", "responsible_division_id")
    sla_days: Mapped[int] = mapped_column(Integer, nullable=False, default=15)
    # how sla_days count: "working" (weekends, holidays, closures skipped) or "calendar" (a law that says
    # "ภายใน 45 วัน", such as the Building Control Act s.25, counts every day)
    sla_unit: Mapped[str] = mapped_column(String(10), nullable=False, default="working", server_default="working")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    current_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    def __str__(self) -> str:
        return localized(self.name_th, self.name_en or "")


class ServiceTypeVersion(TenantScoped, Model):
    """The fields, documents and guide of a service type as they were at one version. A request keeps the
    version it was filed under, so a later change never breaks how an older request reads."""

    __tablename__ = "service_type_versions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "service_type_id", "version", name="uq_service_type_versions"),
        UniqueConstraint("tenant_id", "id", name="uq_service_type_versions_tenant_id_id"),
        ForeignKeyConstraint(
            ["tenant_id", "service_type_id"], ["service_types.tenant_id", "service_types.id"],
            name="fk_service_type_versions_type", ondelete="CASCADE",
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_type_id: Mapped[int] = mapped_column(Integer, nullable=False)
    service_type: Mapped[ServiceType] = tenant_link("ServiceType", "ServiceTypeVersion", "service_type_id")
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    fields: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    documents: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    guide: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    legal_basis: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    # states and transitions (app/service_requests/workflow_spec.py); None: the standard workflow
    workflow: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)


class FeeSchedule(TenantScoped, Model):
    """The fees of a service type from an effective date, citing their legal source (ข้อบัญญัติ, กฎกระทรวง)."""

    __tablename__ = "fee_schedules"
    __table_args__ = (
        UniqueConstraint("tenant_id", "service_type_id", "effective_from", name="uq_fee_schedules"),
        ForeignKeyConstraint(
            ["tenant_id", "service_type_id"], ["service_types.tenant_id", "service_types.id"],
            name="fk_fee_schedules_type", ondelete="CASCADE",
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_type_id: Mapped[int] = mapped_column(Integer, nullable=False)
    service_type: Mapped[ServiceType] = tenant_link("ServiceType", "FeeSchedule", "service_type_id")
    effective_from: Mapped[date] = mapped_column(Date, nullable=False)
    effective_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    legal_source_th: Mapped[str] = mapped_column(Text, nullable=False)
    legal_source_en: Mapped[str | None] = mapped_column(Text, nullable=True)
    rules: Mapped[list] = mapped_column(JSON, nullable=False, default=list)


class ServiceRequest(TenantScoped, Model):
    """One matter filed under a service type; its values live in `data`, validated on every write."""

    __tablename__ = "service_requests"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id", name="uq_service_requests_tenant_id_id"),
        ForeignKeyConstraint(
            ["tenant_id", "service_type_id"], ["service_types.tenant_id", "service_types.id"],
            name="fk_service_requests_type", ondelete="RESTRICT",
        ),
        ForeignKeyConstraint(
            ["tenant_id", "version_id"], ["service_type_versions.tenant_id", "service_type_versions.id"],
            name="fk_service_requests_version", ondelete="RESTRICT",
        ),
        ForeignKeyConstraint(
            ["tenant_id", "division_id"], ["divisions.tenant_id", "divisions.id"],
            name="fk_service_requests_division", ondelete="RESTRICT",
        ),
        ForeignKeyConstraint(
            ["tenant_id", "assignee_id"], ["ab_user.tenant_id", "ab_user.id"],
            name="fk_service_requests_assignee",
        ),
        Index("ix_service_requests_service_type_id", "tenant_id", "service_type_id"),
        Index("ix_service_requests_version_id", "tenant_id", "version_id"),
        Index("ix_service_requests_division_id", "tenant_id", "division_id"),
        Index("ix_service_requests_status", "tenant_id", "status"),
        Index("ix_service_requests_due_on", "tenant_id", "due_on"),
        Index("ix_service_requests_created_at", "tenant_id", "created_at"),
        Index("ix_service_requests_closed_at", "tenant_id", "closed_at"),
        Index("ix_service_requests_assignee_id", "tenant_id", "assignee_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_type_id: Mapped[int] = mapped_column(Integer, nullable=False)
    service_type: Mapped[ServiceType] = tenant_link("ServiceType", "ServiceRequest", "service_type_id")
    version_id: Mapped[int] = mapped_column(Integer, nullable=False)
    version: Mapped[ServiceTypeVersion] = tenant_link("ServiceTypeVersion", "ServiceRequest", "version_id")
    division_id: Mapped[int] = mapped_column(Integer, nullable=False)
    division: Mapped[Division] = tenant_link("Division", "ServiceRequest", "division_id")
    title: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    data: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    status: Mapped[str] = mapped_column(String(32), nullable=False, default="submitted")
    fee_total: Mapped[Decimal | None] = mapped_column(Numeric(12, 2), nullable=True)
    # the legal clock: filing date + the service's working days (weekends, holidays, closures skipped)
    due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    # the current step's own deadline, when the workflow gives the step working days
    step_due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # when the matter reached a final state of its workflow (None while open): queues read open matters only
    closed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # the member of staff who last acted on it in its current กอง (the "mine" queue); cleared when it moves on
    assignee_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # the citizen portal: how it came in, the tracking secret (hashed), who to tell, the privacy notice accepted
    channel: Mapped[str] = mapped_column(String(10), nullable=False, default="staff", server_default="staff")
    secret_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    contact_email: Mapped[str | None] = mapped_column(String(200), nullable=True)
    consent_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # after completion: the citizen's 1-5 rating, and reopening within the organisation's days
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rating_comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    rated_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    reopened_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    # two people acting at once: the second write fails instead of silently overwriting the first
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")
    __mapper_args__ = {"version_id_col": lock_version}

    @classmethod
    def list_loads(cls, *, workflow: bool = True, data: bool = True, versions_apart: bool = False) -> tuple:
        """Loader options for a page of matters: the version with only what a row shows (its number, and its
        workflow when the row names the state or judges it overdue), never the form's fields, documents, guide
        and legal basis (tens of KB of JSON each, read where one matter is shown, edited or checked); the
        version's own service type is not joined again (it is the matter's: a lazy load finds it in the
        identity map). `data=False` leaves the matter's values out too (a list that does not show them).

        The version is joined to each row, or with `versions_apart` read in one statement of its own for the
        page's distinct versions (selectin): a workflow (3-8 KB on the wire) then comes once per version
        instead of once per row, for one statement more per page whatever its size. A list with a statement
        to spare takes that; one at its budget keeps the join.

        The model's default (tenant_link: joined, every column) stays for every other read, so a loop
        elsewhere that reads version.fields keeps reading it from its own statement's rows."""
        columns = [ServiceTypeVersion.id, ServiceTypeVersion.tenant_id, ServiceTypeVersion.service_type_id,
                   ServiceTypeVersion.version]
        if workflow:
            columns.append(ServiceTypeVersion.workflow)
        load = selectinload(cls.version) if versions_apart else joinedload(cls.version)
        options = [load.load_only(*columns).lazyload(ServiceTypeVersion.service_type)]
        if not data:
            options.append(defer(cls.data))
        return tuple(options)

    @classmethod
    def list_loads_for(cls, shown) -> tuple:
        """TenantInterface's hook for FAB lists of matters: `shown` are the list's columns (the values only
        when the list shows them, or when the columns are not known; the workflow always: state names and the
        overdue flag read it)."""
        return cls.list_loads(workflow=True, data=not shown or "data" in shown)

    def __str__(self) -> str:
        return self.title or f"#{self.id}"

    def state_text(self) -> str:
        """The current state's name in the service's own workflow."""
        from app.service_requests.engine import state_name

        return state_name(self)


class ServiceFieldDraft(TenantScoped, Model):
    """One field of a service being edited in the screens; published together as a new version."""

    __tablename__ = "service_field_drafts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "service_type_id", "code", name="uq_service_field_drafts"),
        ForeignKeyConstraint(
            ["tenant_id", "service_type_id"], ["service_types.tenant_id", "service_types.id"],
            name="fk_service_field_drafts_type", ondelete="CASCADE",
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_type_id: Mapped[int] = mapped_column(Integer, nullable=False)
    service_type: Mapped[ServiceType] = tenant_link("ServiceType", "ServiceFieldDraft", "service_type_id")
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=10)
    code: Mapped[str] = mapped_column(String(48), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    label_th: Mapped[str] = mapped_column(String(200), nullable=False)
    label_en: Mapped[str | None] = mapped_column(String(200), nullable=True)
    help_th: Mapped[str | None] = mapped_column(Text, nullable=True)
    help_en: Mapped[str | None] = mapped_column(Text, nullable=True)
    required: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    staff_only: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    unit_th: Mapped[str | None] = mapped_column(String(40), nullable=True)
    min_value: Mapped[str | None] = mapped_column(String(20), nullable=True)
    max_value: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # a date field's limits, entered in the Thai date box (dd/mm/yyyy พ.ศ.), stored as dates
    min_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    max_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    max_error_th: Mapped[str | None] = mapped_column(String(300), nullable=True)
    min_length: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_length: Mapped[int | None] = mapped_column(Integer, nullable=True)
    pattern: Mapped[str | None] = mapped_column(String(300), nullable=True)
    pattern_error_th: Mapped[str | None] = mapped_column(String(300), nullable=True)
    # a file field: accepted types (comma separated: pdf, jpg) and the largest file in MB
    accept_text: Mapped[str | None] = mapped_column(String(200), nullable=True)
    max_size_mb: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # one choice per line: value | Thai label | English label
    choices_text: Mapped[str | None] = mapped_column(Text, nullable=True)

    def __str__(self) -> str:
        return self.label_th
