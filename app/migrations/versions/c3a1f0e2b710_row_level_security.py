"""Row-level security on every tenant table (PostgreSQL): the database refuses what the ORM guard refuses

Revision ID: c3a1f0e2b710
Revises: 8cece3d6c0a3
Create Date: 2026-12-01 22:40:00

"""
from alembic import op

from app.tenancy import rls

# revision identifiers, used by Alembic.
revision = 'c3a1f0e2b710'
down_revision = '8cece3d6c0a3'
branch_labels = None
depends_on = None

TENANT_TABLES = [
    'api_keys', 'attachments', 'certificates', 'delegations', 'divisions', 'fee_schedules', 'grant_logs',
    'memberships', 'notifications', 'number_counters', 'open311_tokens', 'payments', 'saraban_access',
    'saraban_documents', 'saraban_endorsements', 'saraban_files', 'saraban_openings', 'saraban_registers',
    'saraban_retention_items', 'saraban_retention_lists', 'saraban_reviews', 'saraban_routings',
    'service_field_drafts', 'service_request_events', 'service_requests', 'service_type_versions', 'service_types',
    'tenant_closures', 'waste_account_tiers', 'waste_accounts', 'waste_bank_import_lines', 'waste_bank_imports',
    'waste_billing_runs', 'waste_invoices', 'waste_receipt_lines', 'waste_receipts', 'waste_routes',
    'waste_settings', 'webhook_deliveries', 'webhook_subscriptions',
]
SHARED_TABLES = ['forwardings', 'forwarding_messages']


def upgrade():
    for table in TENANT_TABLES:
        rls.enable(op, table)
    for table in SHARED_TABLES:
        rls.enable(op, table, rls.SHARED_POLICY)
    rls.enable(op, 'ab_user', rls.USER_POLICY, rls.USER_CHECK)


def downgrade():
    for table in TENANT_TABLES + SHARED_TABLES + ['ab_user']:
        rls.disable(op, table)
