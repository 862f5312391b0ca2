"""Imports every model so that the shared metadata (and Alembic) sees every table."""
from app.billing.models import (  # noqa: F401
    BankImport, BankImportLine, BillingRun, Payment, WasteAccount, WasteAccountTier, WasteInvoice, WasteReceipt,
    WasteReceiptLine, WasteRoute, WasteSettings,
)
from app.catalog.attachments import Attachment  # noqa: F401
from app.catalog.models import (  # noqa: F401
    FeeSchedule,
    ServiceFieldDraft,
    ServiceRequest,
    ServiceTemplate,
    ServiceType,
    ServiceTypeVersion,
)
from app.certificates.models import Certificate, CertificateToken  # noqa: F401
from app.numbering import NumberCounter  # noqa: F401
from app.service_requests.models import (  # noqa: F401
    Delegation,
    Forwarding,
    ForwardingMessage,
    Notification,
    ServiceRequestEvent,
    TenantClosure,
)
from app.security.models import GrantLog, Membership, RoleTemplate  # noqa: F401
from app.tenancy.models import Division, Tenant, TenantSwitchLog, TenantType  # noqa: F401
from app.saraban.models import (  # noqa: F401
    Document, DocumentAccess, DocumentFile, DocumentOpening, Endorsement, Register, RetentionItem, RetentionList,
    ReviewStep, Routing,
)
from app.api.models import IntegrationKey, Open311Token, WebhookDelivery, WebhookSubscription  # noqa: F401
