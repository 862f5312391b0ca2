"""saraban: an internal memo's recipient divisions, chosen in the draft and routed when it is sent

Revision ID: a8d3f1c2b9e4
Revises: f5c63d248322
Create Date: 2026-12-01 15:45:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a8d3f1c2b9e4'
down_revision = 'f5c63d248322'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('saraban_documents') as batch_op:
        batch_op.add_column(sa.Column('recipient_division_ids', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('saraban_documents') as batch_op:
        batch_op.drop_column('recipient_division_ids')
