"""waste receipt lines: the bills a receipt paid, kept when the receipt is voided

Revision ID: a3c9d2e7f104
Revises: 8f7cb5f271a1
Create Date: 2026-12-01 12:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a3c9d2e7f104'
down_revision = '8f7cb5f271a1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('waste_receipt_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('receipt_id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('surcharge', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'invoice_id'], ['waste_invoices.tenant_id', 'waste_invoices.id'], name='fk_waste_receipt_lines_invoice', ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id', 'receipt_id'], ['waste_receipts.tenant_id', 'waste_receipts.id'], name='fk_waste_receipt_lines_receipt', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant_id', 'receipt_id', 'invoice_id', name='uq_waste_receipt_lines')
    )
    with op.batch_alter_table('waste_receipt_lines', schema=None) as batch_op:
        batch_op.create_index('ix_waste_receipt_lines_invoice', ['tenant_id', 'invoice_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_waste_receipt_lines_tenant_id'), ['tenant_id'], unique=False)


def downgrade():
    with op.batch_alter_table('waste_receipt_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_waste_receipt_lines_tenant_id'))
        batch_op.drop_index('ix_waste_receipt_lines_invoice')

    op.drop_table('waste_receipt_lines')
