"""The menu การเชื่อมต่อระบบ (Integrations): integration keys, webhooks and the API's documentation."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

CATEGORY = "Integrations"


def register(appbuilder) -> None:
    from app.api.key_views import IntegrationKeyView

    appbuilder.add_view(IntegrationKeyView, "API keys", label=_l("API keys"), icon="fa-key", category=CATEGORY,
                        category_label=_l("Integrations"))
    from app.api.webhook_views import WebhookDeliveryView, WebhookView

    appbuilder.add_view(WebhookView, "Webhooks", label=_l("Webhooks"), icon="fa-paper-plane", category=CATEGORY,
                        category_label=_l("Integrations"))
    appbuilder.add_view(WebhookDeliveryView, "Webhook deliveries", label=_l("Webhook deliveries"), icon="fa-list-alt",
                        category=CATEGORY, category_label=_l("Integrations"))
    appbuilder.add_link("API documentation", href="/api/open/v1/docs", label=_l("API documentation"),
                        icon="fa-book", category=CATEGORY, category_label=_l("Integrations"))
