"""The migrations create exactly what the models declare (no drift), on SQLite and PostgreSQL."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_appbuilder import Model

from app.extensions import db


def test_models_match_migrations(app):
    with app.app_context():
        with db.engine.connect() as connection:
            from app.saraban.models import MIGRATION_ONLY_INDEXES

            def include_object(obj, name, type_, reflected, compare_to):
                return not (type_ == "index" and name in MIGRATION_ONLY_INDEXES)

            context = MigrationContext.configure(connection, opts={"compare_type": False,
                                                                   "include_object": include_object})
            diff = compare_metadata(context, Model.metadata)
    assert not diff, diff


def test_every_migration_upgrades_a_populated_database(database_url, tmp_path):
    """Upgrade step by step with real rows in every table, as a live installation is upgraded."""
    import os

    from alembic.script import ScriptDirectory
    from flask_migrate import upgrade
    from sqlalchemy import text

    from app.seeds.apply import apply_paths
    from tests.conftest import FIXTURES, ROOT, make_app

    if database_url.startswith("sqlite"):
        url = "sqlite:///" + str(tmp_path / "upgrade.db")
    else:  # a second database on the throwaway server, filled by its owner (raw rows, no tenant set)
        from tests.conftest import new_postgres_database, owner_url_for

        runtime_url = new_postgres_database(database_url, "upgrade")
        url = owner_url_for(runtime_url) or runtime_url
    directory = os.path.join(ROOT, "app", "migrations")
    first = make_app(url)
    with first.app_context():
        script = ScriptDirectory.from_config(first.extensions["migrate"].migrate.get_config(directory))
        revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
        upgrade(directory=directory, revision=revisions[0])
        # populate with the seeds as the first revision knew them (tables of later revisions aside)
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO tenant_types (code, name_th, name_en, short_th, executive_title_th, executive_title_en,"
                " clerk_title_th, clerk_title_en, default_divisions) VALUES ('sao', 'อบต.', 'SAO', 'อบต.', 'น',"
                " 'M', 'ป', 'C', '[]')"
            ))
            conn.execute(text(
                "INSERT INTO tenants (dla_code, type_code, name_th, name_en, province, active, created_at)"
                " VALUES ('1000001', 'sao', 'อบต.เอ', 'A', 'เชียงใหม่', :t, '2026-01-01')"), {"t": True})
            tenant_id = conn.execute(text("SELECT id FROM tenants")).scalar()
            conn.execute(text(
                "INSERT INTO divisions (tenant_id, code, name_th, active) VALUES (:t, 'office', 'สำนักปลัด', :a)"
            ), {"t": tenant_id, "a": True})
        for revision in revisions[1:]:
            upgrade(directory=directory, revision=revision)
    # the upgraded database works: seeds apply and the rows are still there
    app = make_app(url)
    with app.app_context():
        plan = apply_paths([os.path.join(ROOT, "seeds", "platform"), os.path.join(FIXTURES, "service_template.yaml"),
                            os.path.join(FIXTURES, "tenant_a.yaml")])
        assert not plan.errors, plan.errors
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM divisions")).scalar() >= 5
        db.engine.dispose()
