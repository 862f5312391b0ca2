"""billing runs: accounts skipped (a tier the schedule cannot price) and the time of the last chunk

Revision ID: c5e2b7d9a1f3
Revises: a3c9d2e7f104
Create Date: 2026-12-01 12:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c5e2b7d9a1f3'
down_revision = 'a3c9d2e7f104'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('waste_billing_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('skipped_count', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('skipped', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('waste_billing_runs', schema=None) as batch_op:
        batch_op.drop_column('updated_at')
        batch_op.drop_column('skipped')
        batch_op.drop_column('skipped_count')
