"""catalog: the SLA's unit (working or calendar days) and field drafts holding every field setting

Revision ID: b7c1a2d9e4f0
Revises: a3f1c9d2e7b4
Create Date: 2026-12-01 10:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b7c1a2d9e4f0'
down_revision = 'a3f1c9d2e7b4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('service_types', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sla_unit', sa.String(length=10), server_default='working', nullable=False))
    with op.batch_alter_table('service_field_drafts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('help_en', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('min_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('max_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('min_length', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('max_length', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('pattern', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('pattern_error_th', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('accept_text', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('max_size_mb', sa.Integer(), nullable=True))
    # drafts made before this revision lost these settings; drop them so the next edit starts from the
    # published version (which still has them) instead of publishing the loss
    op.execute("DELETE FROM service_field_drafts")


def downgrade():
    with op.batch_alter_table('service_field_drafts', schema=None) as batch_op:
        for name in ('max_size_mb', 'accept_text', 'pattern_error_th', 'pattern', 'max_length', 'min_length',
                     'max_date', 'min_date', 'help_en'):
            batch_op.drop_column(name)
    with op.batch_alter_table('service_types', schema=None) as batch_op:
        batch_op.drop_column('sla_unit')
