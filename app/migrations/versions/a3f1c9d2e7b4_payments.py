"""payments recorded against a matter's fee, one receipt number per organisation

Revision ID: a3f1c9d2e7b4
Revises: f94960ba5392
Create Date: 2026-12-01 10:45:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a3f1c9d2e7b4'
down_revision = 'f94960ba5392'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('receipt_no', sa.String(length=40), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by_name', sa.String(length=200), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['service_request_events.id'], ),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['tenant_id', 'request_id'], ['service_requests.tenant_id', 'service_requests.id'], name='fk_payments_request', ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant_id', 'receipt_no', name='uq_payments_receipt_no')
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index('ix_payments_tenant_paid_on', ['tenant_id', 'paid_on'], unique=False)
        batch_op.create_index('ix_payments_tenant_request', ['tenant_id', 'request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payments_tenant_id'), ['tenant_id'], unique=False)


def downgrade():
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payments_tenant_id'))
        batch_op.drop_index('ix_payments_tenant_request')
        batch_op.drop_index('ix_payments_tenant_paid_on')
    op.drop_table('payments')
