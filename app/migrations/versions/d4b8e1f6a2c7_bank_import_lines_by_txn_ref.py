"""bank import lines: an index on the bank's transaction reference (duplicates across imports)

Revision ID: d4b8e1f6a2c7
Revises: c5e2b7d9a1f3
Create Date: 2026-12-01 13:20:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd4b8e1f6a2c7'
down_revision = 'c5e2b7d9a1f3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('waste_bank_import_lines', schema=None) as batch_op:
        batch_op.create_index('ix_waste_bank_import_lines_txn', ['tenant_id', 'txn_ref'], unique=False)


def downgrade():
    with op.batch_alter_table('waste_bank_import_lines', schema=None) as batch_op:
        batch_op.drop_index('ix_waste_bank_import_lines_txn')
