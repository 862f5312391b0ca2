"""The ORM guard: filtered reads, stamped and checked writes, fail closed with no tenant."""
import pytest
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app.security.models import Membership
from app.tenancy.context import CrossTenantWrite, TenantNotSet, platform_scope, tenant_scope
from app.tenancy.guard import evict_other_tenants
from app.tenancy.models import Division, Tenant


def test_query_without_tenant_raises(db_session):
    with pytest.raises(TenantNotSet):
        db_session.scalars(select(Division)).all()
    with pytest.raises(TenantNotSet):
        db_session.scalar(select(func.count(Division.id)))


def test_join_to_tenant_table_without_tenant_raises(db_session):
    with pytest.raises(TenantNotSet):
        db_session.execute(select(User.id).join(Membership, Membership.user_id == User.id)).all()


def test_get_without_tenant_raises(db_session, tenant_a):
    with pytest.raises(TenantNotSet):
        db_session.get(Division, tenant_a.division_ids["finance"])


def test_platform_scope_is_explicit_and_unfiltered(db_session, tenant_a, tenant_b):
    with platform_scope():
        tenants = set(db_session.scalars(select(Division.tenant_id)))
    assert {tenant_a.id, tenant_b.id} <= tenants


def test_reads_are_filtered_to_current_tenant(db_session, tenant_a, tenant_b):
    with tenant_scope(tenant_a.id):
        rows = db_session.scalars(select(Division)).all()
        assert rows and {d.tenant_id for d in rows} == {tenant_a.id}
        assert db_session.get(Division, tenant_b.division_ids["finance"]) is None
        count = db_session.scalar(select(func.count()).select_from(Division))
    with platform_scope():
        own = db_session.scalar(select(func.count(Division.id)).where(Division.tenant_id == tenant_a.id))
    assert count == own
    with tenant_scope(tenant_a.id):
        # users too, once a tenant is set
        names = set(db_session.scalars(select(User.username)))
        assert "a.admin" in names and "b.admin" not in names
        # lazy and joined relationship loads are filtered as well
        member = db_session.scalars(select(Membership)).first()
        assert member.division.tenant_id == tenant_a.id


def test_new_rows_are_stamped(db_session, tenant_a):
    with tenant_scope(tenant_a.id):
        division = Division(code="stamped", name_th="กองทดสอบ")
        db_session.add(division)
        db_session.flush()
        assert division.tenant_id == tenant_a.id
        db_session.rollback()


def test_write_for_another_tenant_refused(db_session, tenant_a, tenant_b):
    with tenant_scope(tenant_a.id):
        db_session.add(Division(code="smuggled", name_th="x", tenant_id=tenant_b.id))
        with pytest.raises(CrossTenantWrite):
            db_session.flush()
        db_session.rollback()


def test_moving_a_row_to_another_tenant_refused(db_session, tenant_a, tenant_b):
    with tenant_scope(tenant_a.id):
        division = db_session.get(Division, tenant_a.division_ids["finance"])
        division.tenant_id = tenant_b.id
        with pytest.raises(CrossTenantWrite):
            db_session.flush()
        db_session.rollback()


def test_changing_another_tenants_row_loaded_elsewhere_refused(db_session, tenant_a, tenant_b):
    with platform_scope():
        foreign = db_session.get(Division, tenant_b.division_ids["finance"])
    with tenant_scope(tenant_a.id):
        foreign.name_th = "hijacked"
        with pytest.raises(CrossTenantWrite):
            db_session.flush()
        db_session.rollback()


def test_link_to_another_tenants_row_refused(db_session, tenant_a, tenant_b):
    with platform_scope():
        foreign_division = db_session.get(Division, tenant_b.division_ids["finance"])
    with tenant_scope(tenant_a.id):
        membership = db_session.scalars(select(Membership)).first()
        membership.division = foreign_division
        with pytest.raises(CrossTenantWrite):
            db_session.flush()
        db_session.rollback()


def test_database_refuses_cross_tenant_link(db_session, tenant_a, tenant_b):
    """Second layer: the composite foreign key (tenant_id, division_id)."""
    with platform_scope():
        membership = db_session.scalars(
            select(Membership).where(Membership.tenant_id == tenant_a.id)
        ).first()
        with pytest.raises(IntegrityError):
            db_session.execute(
                update(Membership.__table__)
                .where(Membership.__table__.c.id == membership.id)
                .values(division_id=tenant_b.division_ids["finance"])
            )
            db_session.flush()
        db_session.rollback()


def test_bulk_update_is_filtered(db_session, tenant_a, tenant_b):
    with tenant_scope(tenant_a.id):
        db_session.execute(update(Division).values(active=True))
        db_session.rollback()
    with tenant_scope(tenant_a.id):
        result = db_session.execute(
            update(Division).where(Division.id == tenant_b.division_ids["finance"]).values(name_th="x")
        )
        assert result.rowcount == 0
        db_session.rollback()


def test_identity_map_does_not_leak(db_session, tenant_a, tenant_b):
    with platform_scope():
        assert db_session.get(Division, tenant_b.division_ids["finance"]) is not None
    evict_other_tenants(db_session, tenant_a.id)
    with tenant_scope(tenant_a.id):
        assert db_session.get(Division, tenant_b.division_ids["finance"]) is None


def test_tenant_table_itself_is_not_scoped(db_session, tenant_a, tenant_b):
    # Tenants are platform data: readable without a tenant (login needs them), guarded by permissions.
    assert db_session.get(Tenant, tenant_b.id) is not None
