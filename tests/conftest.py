"""Two tenants, A and B, with look-alike data (same division codes and names, same user patterns),
on SQLite by default or on PostgreSQL when DATABASE_URL is set (make test runs both)."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass

import pytest
from sqlalchemy import select

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
PASSWORD = "testpass2569"

TEST_CONFIG = dict(
    TESTING=True,
    WTF_CSRF_ENABLED=False,
    RATELIMIT_ENABLED=False,
    AUTH_RATE_LIMITED=False,
    SECRET_KEY="test-secret-key-with-at-least-32-bytes",
    CELERY_TASK_ALWAYS_EAGER=True,
    FAB_PASSWORD_HASH_METHOD="pbkdf2:sha256:1000",
    # the open API's limits per address and per user token are tested with apps of their own (a shared test
    # app would count every test's calls together); per-key limits are each key's own
    API_ANONYMOUS_RATE_LIMIT=100000,
    API_USER_RATE_LIMIT=100000,
)


def owner_url_for(database_url: str) -> str | None:
    """The owner's URL of the same database (PostgreSQL under make test: the app connects as app_web, which owns
    nothing; migrations run as the owner). None on SQLite."""
    owner = os.environ.get("DATABASE_OWNER_URL")
    if not owner or not database_url.startswith("postgresql"):
        return None
    from sqlalchemy.engine import make_url

    owner_url = make_url(owner)
    return make_url(database_url).set(username=owner_url.username, password=owner_url.password).render_as_string(
        hide_password=False)


def make_app(database_url: str, **extra):
    from app import create_app

    extra.setdefault("DATABASE_OWNER_URL", owner_url_for(database_url))
    return create_app(SQLALCHEMY_DATABASE_URI=database_url, **{**TEST_CONFIG, **extra})


def new_postgres_database(database_url: str, prefix: str) -> str:
    """A second database on the throwaway server, made by the owner, with the same grants to the app's roles as
    the first (tests/with_postgres.sh); returns the app's URL of it."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    owner = owner_url_for(database_url) or database_url
    with create_engine(owner, isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    runtime, owner_role = make_url(database_url).username, make_url(owner).username
    platform = os.environ.get("DATABASE_PLATFORM_ROLE")
    if runtime != owner_role:
        grantees = ", ".join(r for r in (runtime, platform) if r)
        engine = create_engine(make_url(owner).set(database=name), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner_role} IN SCHEMA public "
                              f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {grantees}"))
            conn.execute(text(f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner_role} IN SCHEMA public "
                              f"GRANT USAGE, SELECT ON SEQUENCES TO {grantees}"))
        engine.dispose()
    return url


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.db")


def seeded_app(database_url: str, seed_paths: list[str], **extra):
    """Migrate a database, then apply seed files with a second app (now that the tables exist, FAB registers
    its permissions as a real start-up does); returns that app."""
    from flask_migrate import upgrade

    from app.seeds.apply import apply_paths

    with make_app(database_url, **extra).app_context():
        upgrade(directory=os.path.join(ROOT, "app", "migrations"))
    application = make_app(database_url, **extra)
    with application.app_context():
        plan = apply_paths(seed_paths)
        assert not plan.errors, [str(e) for e in plan.errors]
    return application


def demo_seed_paths(*folders: str) -> list[str]:
    """The real seed folders (seeds/platform, seeds/services, ...), by name."""
    return [os.path.join(ROOT, "seeds", folder) for folder in folders]


@pytest.fixture(scope="session")
def app(database_url):
    return seeded_app(database_url, [
        os.path.join(ROOT, "seeds", "platform"), os.path.join(FIXTURES, "roles_extra.yaml"),
        os.path.join(FIXTURES, "operator.yaml"), os.path.join(FIXTURES, "service_template.yaml"),
        os.path.join(FIXTURES, "tenant_a.yaml"), os.path.join(FIXTURES, "tenant_b.yaml"),
    ])


@dataclass
class TenantData:
    id: int
    dla_code: str
    division_ids: dict[str, int]
    user_ids: dict[str, int]
    membership_ids: list[int]


def _tenant_data(app, dla_code: str) -> TenantData:
    from flask_appbuilder.security.sqla.models import User

    from app.extensions import db
    from app.security.models import Membership
    from app.tenancy.context import platform_scope
    from app.tenancy.models import Division, Tenant

    with app.app_context(), platform_scope():
        tenant = db.session.scalar(select(Tenant).where(Tenant.dla_code == dla_code))
        divisions = db.session.scalars(select(Division).where(Division.tenant_id == tenant.id))
        users = db.session.scalars(select(User).where(User.tenant_id == tenant.id))
        memberships = db.session.scalars(select(Membership.id).where(Membership.tenant_id == tenant.id))
        data = TenantData(
            tenant.id, dla_code, {d.code: d.id for d in divisions}, {u.username: u.id for u in users},
            list(memberships),
        )
        db.session.remove()
        return data


@pytest.fixture(scope="session")
def tenant_a(app) -> TenantData:
    return _tenant_data(app, "1000001")


@pytest.fixture(scope="session")
def tenant_b(app) -> TenantData:
    return _tenant_data(app, "1000002")


def login(client, username: str, password: str = PASSWORD):
    response = client.post(
        "/login/", data={"username": username, "password": password}, follow_redirects=False
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert "/login" not in response.headers["Location"], f"login failed for {username}"
    return client


@pytest.fixture
def client_for(app):
    """client_for("a.admin") -> a logged-in test client."""

    def _client(username: str):
        return login(app.test_client(), username)

    return _client


def ids_in_links(html: str, route: str) -> set[int]:
    return {int(m) for m in re.findall(rf"{re.escape(route)}/(?:show|edit|delete)/(\d+)", html)}


def ids_in_order(html: str, route: str) -> list[int]:
    """The ids of a list page's rows, in the order shown (each once)."""
    return list(dict.fromkeys(int(m) for m in re.findall(rf"{re.escape(route)}/show/(\d+)", html)))


_owner_engines: dict = {}


def _owner_engine(url: str, platform_role: str | None):
    if url not in _owner_engines:
        from sqlalchemy import create_engine

        from app.tenancy import rls

        _owner_engines[url] = engine = create_engine(url)
        rls.install(engine, platform_role)
    return _owner_engines[url]


@pytest.fixture
def db_session(app):
    """A plain session for direct database checks. It holds no app context, so test-client requests
    made meanwhile get their own context and session, as real requests do."""
    from sqlalchemy.orm import Session

    from app.extensions import db

    owner_url = app.config.get("DATABASE_OWNER_URL")
    if owner_url:
        # on PostgreSQL the inspector connects as the owner: a raw read sees every tenant's rows, as a DBA's would
        # (the app's own role sees none with no tenant set: tests/tenancy/test_row_level_security.py)
        engine = _owner_engine(owner_url, app.config.get("DATABASE_PLATFORM_ROLE"))
    else:
        with app.app_context():
            engine = db.engine
    session = Session(bind=engine)
    yield session
    session.rollback()
    session.close()


def select_options(html: str, name: str) -> set[str]:
    """The option values of the <select name=NAME> in a FAB form."""
    match = re.search(rf'<select[^>]*name="{re.escape(name)}"[^>]*>(.*?)</select>', html, re.S)
    assert match, f"no select named {name}"
    return set(re.findall(r'<option[^>]*value="([^"]*)"', match.group(1))) - {"", "__None"}


def search_options(html: str) -> dict[str, dict[str, str]]:
    """The search form's dropdowns of a FAB list page: {field: {option value: label}}. FAB embeds them as
    JSON (HTML and Thai escaped) in the page's script, so a literal search of the page never finds them."""
    import html as html_lib
    import json

    start = html.find("'#filter_form',")
    assert start >= 0, "no search form on the page"
    decoder = json.JSONDecoder()
    text = html[start + len("'#filter_form',"):]
    _labels, end = decoder.raw_decode(text.lstrip())
    text = text.lstrip()[end:].lstrip().lstrip(",")
    fields, _ = decoder.raw_decode(text.lstrip())
    options = {}
    for name, widget in fields.items():
        options[name] = {
            value: html_lib.unescape(label)
            for value, label in re.findall(r'<option[^>]*value="([^"]*)"[^>]*>(.*?)</option>', widget, re.S)
            if value not in ("", "__None")
        }
    return options


def record_count(html: str) -> int:
    """The record count FAB prints above a list (Thai label, or English when the user chose English)."""
    match = re.search(r"(?:จำนวนรายการ|Record Count):</strong>\s*([\d,]+)", html)
    assert match, "no record count on the page"
    return int(match.group(1).replace(",", ""))
