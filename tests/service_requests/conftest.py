"""Shared fixtures for the workflow tests."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.security.models import Membership
from app.tenancy.context import tenant_scope


@pytest.fixture
def director_in_engineering(app, tenant_a):
    """a.officer also directs กองช่าง (engineering), the test permit's กอง, for these tests."""
    from app.security import services as grants
    from app.security.models import RoleTemplate
    from app.tenancy.models import Division

    with app.app_context(), tenant_scope(tenant_a.id):
        from flask_appbuilder.security.sqla.models import User

        user = db.session.scalar(select(User).where(User.username == "a.officer"))
        division = db.session.scalar(select(Division).where(Division.code == "engineering"))
        template = db.session.scalar(select(RoleTemplate).where(RoleTemplate.code == "division_director"))
        held = db.session.scalar(select(Membership.id).where(Membership.user_id == user.id,
                                                             Membership.division_id == division.id))
        if held is None:
            grants.grant(None, user, division, template)
            db.session.commit()


