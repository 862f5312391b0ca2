"""permissions_version: one counter, raised in the same transaction as any change to roles or their permissions, so
that every process's cache of what each role may do (app/security/permission_cache.py) sees the change on its
next request. A platform table without tenant_id: no row-level security (like ab_role); the app's roles get
SELECT/UPDATE through the default privileges (tests/with_postgres.sh) or `flask rls grant`.

Revision ID: f2b9c4e1a6d3
Revises: e3b8c1d5a7f2
Create Date: 2026-12-02 01:50:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f2b9c4e1a6d3'
down_revision = 'e3b8c1d5a7f2'
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table(
        'permissions_version',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.bulk_insert(table, [{'id': 1, 'version': 1}])


def downgrade():
    op.drop_table('permissions_version')
