"""saraban: who recorded what was done on an incoming letter (การปฏิบัติ) and closed it, and when

Revision ID: c4e8a1f7d2b6
Revises: a8d3f1c2b9e4
Create Date: 2026-12-01 15:55:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c4e8a1f7d2b6'
down_revision = 'a8d3f1c2b9e4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('saraban_documents') as batch_op:
        batch_op.add_column(sa.Column('finished_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('finished_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('finished_by_name', sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table('saraban_documents') as batch_op:
        batch_op.drop_column('finished_by_name')
        batch_op.drop_column('finished_by_id')
        batch_op.drop_column('finished_at')
