"""waste receipts: the number is set by the issuing transaction's last statement (empty until then)

Revision ID: e7a1c3b5d9f2
Revises: d4b8e1f6a2c7
Create Date: 2026-12-01 14:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'e7a1c3b5d9f2'
down_revision = 'd4b8e1f6a2c7'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('waste_receipts', schema=None) as batch_op:
        batch_op.alter_column('number', existing_type=sa.Integer(), nullable=True)


def downgrade():
    with op.batch_alter_table('waste_receipts', schema=None) as batch_op:
        batch_op.alter_column('number', existing_type=sa.Integer(), nullable=False)
