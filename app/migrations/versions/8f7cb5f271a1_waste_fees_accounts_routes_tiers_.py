"""waste fees: accounts, routes, tiers, billing runs, invoices, receipts, bank imports; one number counter table

Revision ID: 8f7cb5f271a1
Revises: b7c1a2d9e4f0
Create Date: 2026-12-01 12:27:30.478725

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8f7cb5f271a1'
down_revision = 'b7c1a2d9e4f0'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('number_counters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('series', sa.String(length=24), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant_id', 'series', 'year', name='uq_number_counters')
    )
    with op.batch_alter_table('number_counters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_number_counters_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('waste_billing_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('total_accounts', sa.Integer(), nullable=False),
    sa.Column('processed', sa.Integer(), nullable=False),
    sa.Column('created_count', sa.Integer(), nullable=False),
    sa.Column('amount_total', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('last_account_id', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('started_by_name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant_id', 'id', name='uq_waste_billing_runs_tenant_id_id')
    )
    with op.batch_alter_table('waste_billing_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_waste_billing_runs_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_waste_billing_runs_tenant_period', ['tenant_id', 'period_start'], unique=False)

    op.create_table('waste_routes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name_th', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=True),
    sa.Column('collection_days', sa.String(length=60), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant_id', 'code', name='uq_waste_routes_code'),
    sa.UniqueConstraint('tenant_id', 'id', name='uq_waste_routes_tenant_id_id')
    )
    with op.batch_alter_table('waste_routes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_waste_routes_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('waste_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service_code', sa.String(length=64), nullable=False),
    sa.Column('period_months', sa.Integer(), nullable=False),
    sa.Column('due_days', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant_id', name='uq_waste_settings_tenant')
    )
    with op.batch_alter_table('waste_settings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_waste_settings_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('waste_bank_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('line_count', sa.Integer(), nullable=False),
    sa.Column('applied', sa.Integer(), nullable=False),
    sa.Column('duplicates', sa.Integer(), nullable=False),
    sa.Column('unmatched', sa.Integer(), nullable=False),
    sa.Column('malformed', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_by_name', sa.String(length=200), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant_id', 'id', name='uq_waste_bank_imports_tenant_id_id')
    )
    with op.batch_alter_table('waste_bank_imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_waste_bank_imports_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('waste_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_no', sa.String(length=12), nullable=False),
    sa.Column('check_code', sa.String(length=6), nullable=False),
    sa.Column('premises_kind', sa.String(length=16), nullable=False),
    sa.Column('litres_per_day', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('holder_name', sa.String(length=200), nullable=False),
    sa.Column('business_name', sa.String(length=200), nullable=True),
    sa.Column('national_id', sa.String(length=13), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('address_line', sa.String(length=300), nullable=False),
    sa.Column('subdistrict_code', sa.String(length=6), nullable=False),
    sa.Column('postcode', sa.String(length=5), nullable=False),
    sa.Column('route_id', sa.Integer(), nullable=True),
    sa.Column('route_seq', sa.Integer(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'request_id'], ['service_requests.tenant_id', 'service_requests.id'], name='fk_waste_accounts_request', ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id', 'route_id'], ['waste_routes.tenant_id', 'waste_routes.id'], name='fk_waste_accounts_route', ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant_id', 'account_no', name='uq_waste_accounts_no'),
    sa.UniqueConstraint('tenant_id', 'id', name='uq_waste_accounts_tenant_id_id')
    )
    with op.batch_alter_table('waste_accounts', schema=None) as batch_op:
        batch_op.create_index('ix_waste_accounts_tenant_holder', ['tenant_id', 'holder_name'], unique=False)
        batch_op.create_index(batch_op.f('ix_waste_accounts_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_waste_accounts_tenant_route', ['tenant_id', 'route_id', 'route_seq'], unique=False)

    op.create_table('waste_account_tiers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('premises_kind', sa.String(length=16), nullable=False),
    sa.Column('litres_per_day', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('recorded_by_name', sa.String(length=200), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'account_id'], ['waste_accounts.tenant_id', 'waste_accounts.id'], name='fk_waste_account_tiers_account', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant_id', 'account_id', 'effective_from', name='uq_waste_account_tiers')
    )
    with op.batch_alter_table('waste_account_tiers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_waste_account_tiers_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('waste_receipts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('bank_txn_ref', sa.String(length=64), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by_name', sa.String(length=200), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('voided_at', sa.DateTime(), nullable=True),
    sa.Column('void_reason', sa.String(length=300), nullable=True),
    sa.Column('voided_by_name', sa.String(length=200), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['tenant_id', 'account_id'], ['waste_accounts.tenant_id', 'waste_accounts.id'], name='fk_waste_receipts_account', ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant_id', 'bank_txn_ref', name='uq_waste_receipts_bank_txn'),
    sa.UniqueConstraint('tenant_id', 'fiscal_year', 'number', name='uq_waste_receipts_number'),
    sa.UniqueConstraint('tenant_id', 'id', name='uq_waste_receipts_tenant_id_id')
    )
    with op.batch_alter_table('waste_receipts', schema=None) as batch_op:
        batch_op.create_index('ix_waste_receipts_tenant_account', ['tenant_id', 'account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_waste_receipts_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_waste_receipts_tenant_paid_on', ['tenant_id', 'paid_on'], unique=False)

    op.create_table('waste_bank_import_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('raw', sa.Text(), nullable=False),
    sa.Column('txn_ref', sa.String(length=64), nullable=True),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('ref1', sa.String(length=20), nullable=True),
    sa.Column('ref2', sa.String(length=20), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('receipt_id', sa.Integer(), nullable=True),
    sa.Column('resolved_by_name', sa.String(length=200), nullable=True),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'import_id'], ['waste_bank_imports.tenant_id', 'waste_bank_imports.id'], name='fk_waste_bank_import_lines_import', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'receipt_id'], ['waste_receipts.tenant_id', 'waste_receipts.id'], name='fk_waste_bank_import_lines_receipt', ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant_id', 'import_id', 'line_no', name='uq_waste_bank_import_lines')
    )
    with op.batch_alter_table('waste_bank_import_lines', schema=None) as batch_op:
        batch_op.create_index('ix_waste_bank_import_lines_status', ['tenant_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_waste_bank_import_lines_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('waste_invoices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('premises_kind', sa.String(length=16), nullable=False),
    sa.Column('litres_per_day', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('fee_code', sa.String(length=64), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('surcharge', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('receipt_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'account_id'], ['waste_accounts.tenant_id', 'waste_accounts.id'], name='fk_waste_invoices_account', ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id', 'receipt_id'], ['waste_receipts.tenant_id', 'waste_receipts.id'], name='fk_waste_invoices_receipt', ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id', 'run_id'], ['waste_billing_runs.tenant_id', 'waste_billing_runs.id'], name='fk_waste_invoices_run', ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant_id', 'account_id', 'period_start', name='uq_waste_invoices_period'),
    sa.UniqueConstraint('tenant_id', 'id', name='uq_waste_invoices_tenant_id_id')
    )
    with op.batch_alter_table('waste_invoices', schema=None) as batch_op:
        batch_op.create_index('ix_waste_invoices_tenant_due', ['tenant_id', 'due_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_waste_invoices_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_waste_invoices_tenant_period', ['tenant_id', 'period_start'], unique=False)
        batch_op.create_index('ix_waste_invoices_tenant_receipt', ['tenant_id', 'receipt_id'], unique=False)

    # certificate numbers carry on where they were: their counters move to the shared table
    op.execute("INSERT INTO number_counters (tenant_id, series, year, last_number) "
               "SELECT tenant_id, series, fiscal_year, last_number FROM certificate_counters")
    with op.batch_alter_table('certificate_counters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificate_counters_tenant_id'))

    op.drop_table('certificate_counters')


def downgrade():
    op.create_table('certificate_counters',
    sa.Column('id', sa.INTEGER(), nullable=False),
    sa.Column('series', sa.VARCHAR(length=12), nullable=False),
    sa.Column('fiscal_year', sa.INTEGER(), nullable=False),
    sa.Column('last_number', sa.INTEGER(), nullable=False),
    sa.Column('tenant_id', sa.INTEGER(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant_id', 'series', 'fiscal_year', name=op.f('uq_certificate_counters'))
    )
    with op.batch_alter_table('certificate_counters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificate_counters_tenant_id'), ['tenant_id'], unique=False)

    with op.batch_alter_table('waste_invoices', schema=None) as batch_op:
        batch_op.drop_index('ix_waste_invoices_tenant_receipt')
        batch_op.drop_index('ix_waste_invoices_tenant_period')
        batch_op.drop_index(batch_op.f('ix_waste_invoices_tenant_id'))
        batch_op.drop_index('ix_waste_invoices_tenant_due')

    op.drop_table('waste_invoices')
    with op.batch_alter_table('waste_bank_import_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_waste_bank_import_lines_tenant_id'))
        batch_op.drop_index('ix_waste_bank_import_lines_status')

    op.drop_table('waste_bank_import_lines')
    with op.batch_alter_table('waste_receipts', schema=None) as batch_op:
        batch_op.drop_index('ix_waste_receipts_tenant_paid_on')
        batch_op.drop_index(batch_op.f('ix_waste_receipts_tenant_id'))
        batch_op.drop_index('ix_waste_receipts_tenant_account')

    op.drop_table('waste_receipts')
    with op.batch_alter_table('waste_account_tiers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_waste_account_tiers_tenant_id'))

    op.drop_table('waste_account_tiers')
    with op.batch_alter_table('waste_accounts', schema=None) as batch_op:
        batch_op.drop_index('ix_waste_accounts_tenant_route')
        batch_op.drop_index(batch_op.f('ix_waste_accounts_tenant_id'))
        batch_op.drop_index('ix_waste_accounts_tenant_holder')

    op.drop_table('waste_accounts')
    with op.batch_alter_table('waste_bank_imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_waste_bank_imports_tenant_id'))

    op.drop_table('waste_bank_imports')
    with op.batch_alter_table('waste_settings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_waste_settings_tenant_id'))

    op.drop_table('waste_settings')
    with op.batch_alter_table('waste_routes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_waste_routes_tenant_id'))

    op.drop_table('waste_routes')
    with op.batch_alter_table('waste_billing_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_waste_billing_runs_tenant_period')
        batch_op.drop_index(batch_op.f('ix_waste_billing_runs_tenant_id'))

    op.drop_table('waste_billing_runs')
    op.execute("INSERT INTO certificate_counters (tenant_id, series, fiscal_year, last_number) "
               "SELECT tenant_id, series, year, last_number FROM number_counters WHERE length(series) <= 12 "
               "AND series NOT LIKE 'waste%'")
    with op.batch_alter_table('number_counters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_number_counters_tenant_id'))

    op.drop_table('number_counters')
