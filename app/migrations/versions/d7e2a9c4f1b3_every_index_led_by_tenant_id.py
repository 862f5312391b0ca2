"""Every index and unique constraint of a tenant table led by tenant_id; a composite foreign key from payments to
their timeline step; the certificates' verification tokens in a platform directory (docs/scaling.md)

Revision ID: d7e2a9c4f1b3
Revises: c3a1f0e2b710
Create Date: 2026-12-01 22:30:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'd7e2a9c4f1b3'
down_revision = 'c3a1f0e2b710'
branch_labels = None
depends_on = None

# (table, index name, old columns, new columns): the same name, now led by tenant_id
REPLACED = [
    ('attachments', 'ix_attachments_request_id', ['request_id'], ['tenant_id', 'request_id']),
    ('attachments', 'ix_attachments_event_id', ['event_id'], ['tenant_id', 'event_id']),
    ('delegations', 'ix_delegations_delegator_id', ['delegator_id'], ['tenant_id', 'delegator_id']),
    ('delegations', 'ix_delegations_delegate_id', ['delegate_id'], ['tenant_id', 'delegate_id']),
    ('forwarding_messages', 'ix_forwarding_messages_forwarding_id', ['forwarding_id'],
     ['tenant_id', 'forwarding_id']),
    ('forwardings', 'ix_forwardings_request_id', ['request_id'], ['tenant_id', 'request_id']),
    ('forwardings', 'ix_forwardings_status', ['status'], ['tenant_id', 'status']),
    ('grant_logs', 'ix_grant_logs_at', ['at'], ['tenant_id', 'at']),
    ('memberships', 'ix_memberships_division_id', ['division_id'], ['tenant_id', 'division_id']),
    ('memberships', 'ix_memberships_role_template_id', ['role_template_id'], ['tenant_id', 'role_template_id']),
    ('notifications', 'ix_notifications_request_id', ['request_id'], ['tenant_id', 'request_id']),
    ('notifications', 'ix_notifications_user_id', ['user_id'], ['tenant_id', 'user_id']),
    ('saraban_documents', 'ix_saraban_documents_origin_division_id', ['origin_division_id'],
     ['tenant_id', 'origin_division_id']),
    ('saraban_documents', 'ix_saraban_documents_reply_to_id', ['reply_to_id'], ['tenant_id', 'reply_to_id']),
    ('saraban_registers', 'ix_saraban_registers_division_id', ['division_id'], ['tenant_id', 'division_id']),
    ('service_request_events', 'ix_service_request_events_request_id', ['request_id'],
     ['tenant_id', 'request_id']),
    ('service_requests', 'ix_service_requests_service_type_id', ['service_type_id'],
     ['tenant_id', 'service_type_id']),
    ('service_requests', 'ix_service_requests_version_id', ['version_id'], ['tenant_id', 'version_id']),
    ('service_requests', 'ix_service_requests_division_id', ['division_id'], ['tenant_id', 'division_id']),
    ('service_requests', 'ix_service_requests_status', ['status'], ['tenant_id', 'status']),
    ('service_requests', 'ix_service_requests_due_on', ['due_on'], ['tenant_id', 'due_on']),
    ('service_requests', 'ix_service_requests_created_at', ['created_at'], ['tenant_id', 'created_at']),
    ('service_requests', 'ix_service_requests_closed_at', ['closed_at'], ['tenant_id', 'closed_at']),
    ('service_requests', 'ix_service_requests_assignee_id', ['assignee_id'], ['tenant_id', 'assignee_id']),
    ('service_types', 'ix_service_types_responsible_division_id', ['responsible_division_id'],
     ['tenant_id', 'responsible_division_id']),
]
# (table, index name, old columns, the tenant-led key that already serves its look-ups and foreign key)
DROPPED = [
    ('certificates', 'ix_certificates_request_id', ['request_id'], 'uq_certificates_request_series'),
    ('fee_schedules', 'ix_fee_schedules_service_type_id', ['service_type_id'], 'uq_fee_schedules'),
    ('memberships', 'ix_memberships_user_id', ['user_id'], 'uq_memberships'),
    ('saraban_documents', 'ix_saraban_documents_register_id', ['register_id'], 'uq_saraban_documents_no'),
    ('saraban_retention_items', 'ix_saraban_retention_items_list_id', ['list_id'], 'uq_saraban_retention_items'),
    ('service_field_drafts', 'ix_service_field_drafts_service_type_id', ['service_type_id'],
     'uq_service_field_drafts'),
    ('service_type_versions', 'ix_service_type_versions_service_type_id', ['service_type_id'],
     'uq_service_type_versions'),
]
# unique constraints created without a name: PostgreSQL named them <table>_<column>_key; on SQLite batch mode
# needs a naming convention to find them
UNNAMED_UNIQUE = [
    ('attachments', 'storage_key', 'uq_attachments_storage_key'),
    ('saraban_files', 'storage_key', 'uq_saraban_files_storage_key'),
    ('certificates', 'token', 'uq_certificates_token'),
]
# named unique constraints whose columns change: (table, name, old columns, new columns)
RENAMED_UNIQUE = [
    ('open311_tokens', 'uq_open311_tokens_token', ['token'], ['tenant_id', 'token']),
    ('webhook_deliveries', 'uq_webhook_deliveries_event_subscription', ['event_id', 'subscription_id'],
     ['tenant_id', 'subscription_id', 'event_id']),
]
SQLITE_NAMES = {'uq': 'uq_%(table_name)s_%(column_0_name)s',
                'fk': 'fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s'}


def _postgres() -> bool:
    return op.get_bind().dialect.name == 'postgresql'


def _unnamed_unique(table: str, column: str) -> str:
    return f'{table}_{column}_key' if _postgres() else f'uq_{table}_{column}'


def _payments_event_fk() -> str:
    return 'payments_event_id_fkey' if _postgres() else 'fk_payments_event_id_service_request_events'


def upgrade():
    for table, name, _old, new in REPLACED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)
            batch_op.create_index(name, new, unique=False)
    for table, name, _old, _kept in DROPPED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)

    # the same meaning: a storage key starts with the tenant's folder, a verification token is random (and from
    # now on also the primary key of the platform directory below)
    for table, column, name in UNNAMED_UNIQUE:
        with op.batch_alter_table(table, schema=None, naming_convention=SQLITE_NAMES) as batch_op:
            batch_op.drop_constraint(_unnamed_unique(table, column), type_='unique')
            batch_op.create_unique_constraint(name, ['tenant_id', column])
    # an Open311 token is read back within its jurisdiction; a subscription belongs to one tenant
    for table, name, _old, new in RENAMED_UNIQUE:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(name, type_='unique')
            batch_op.create_unique_constraint(name, new)

    # a payment's timeline step is of the payment's own tenant (the events' (tenant_id, id) key exists)
    with op.batch_alter_table('payments', schema=None, naming_convention=SQLITE_NAMES) as batch_op:
        batch_op.drop_constraint(_payments_event_fk(), type_='foreignkey')
        batch_op.create_foreign_key('fk_payments_event', 'service_request_events', ['tenant_id', 'event_id'],
                                    ['tenant_id', 'id'])

    # the verification page's directory: which organisation issued the certificate a token names
    op.create_table(
        'certificate_tokens',
        sa.Column('token', sa.String(length=43), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('certificate_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['organisation_id'], ['tenants.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('token'),
    )
    # the owner runs this: row-level security does not hide the certificates from it
    op.execute('INSERT INTO certificate_tokens (token, organisation_id, certificate_id) '
               'SELECT token, tenant_id, id FROM certificates')


def downgrade():
    op.drop_table('certificate_tokens')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_constraint('fk_payments_event', type_='foreignkey')
        batch_op.create_foreign_key(_payments_event_fk(), 'service_request_events', ['event_id'], ['id'])
    for table, name, old, _new in reversed(RENAMED_UNIQUE):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(name, type_='unique')
            batch_op.create_unique_constraint(name, old)
    for table, column, name in reversed(UNNAMED_UNIQUE):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(name, type_='unique')
            batch_op.create_unique_constraint(_unnamed_unique(table, column), [column])
    for table, name, old, _kept in reversed(DROPPED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, old, unique=False)
    for table, name, old, _new in reversed(REPLACED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)
            batch_op.create_index(name, old, unique=False)
