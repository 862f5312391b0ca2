"""Composite foreign keys between tenant tables without ON DELETE SET NULL: it would null tenant_id too (NOT NULL,
so the delete failed anyway), and a sharded PostgreSQL refuses it (docs/scaling.md)

Revision ID: e3b8c1d5a7f2
Revises: d7e2a9c4f1b3
Create Date: 2026-12-01 22:40:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e3b8c1d5a7f2'
down_revision = 'd7e2a9c4f1b3'
branch_labels = None
depends_on = None

# (table, name, referred table, local column): each (tenant_id, column) -> referred (tenant_id, id)
KEYS = [
    ('waste_accounts', 'fk_waste_accounts_request', 'service_requests', 'request_id'),
    ('waste_invoices', 'fk_waste_invoices_run', 'waste_billing_runs', 'run_id'),
    ('waste_invoices', 'fk_waste_invoices_receipt', 'waste_receipts', 'receipt_id'),
    ('waste_bank_import_lines', 'fk_waste_bank_import_lines_receipt', 'waste_receipts', 'receipt_id'),
]


def _replace(ondelete):
    for table, name, referred, column in KEYS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(name, type_='foreignkey')
            batch_op.create_foreign_key(name, referred, ['tenant_id', column], ['tenant_id', 'id'],
                                        ondelete=ondelete)


def upgrade():
    _replace(None)


def downgrade():
    _replace('SET NULL')
