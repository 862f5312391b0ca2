"""The correspondence screens in the menu (สารบรรณ), in the order a clerk uses them."""
from __future__ import annotations

from flask_appbuilder import AppBuilder
from flask_babel import lazy_gettext as _l

CATEGORY = "Correspondence"


def register(appbuilder: AppBuilder) -> None:
    category_label = _l("Correspondence")
    from app.saraban import links

    links.install()  # matter_panel() for the letter pages' "matter" box
    # (each screen's block below: views are imported here so that app/__init__.py stays one line)
    from app.saraban.inbox_views import SarabanInboxView
    from app.saraban.incoming_views import SarabanIncomingView

    appbuilder.add_view(SarabanInboxView, "Correspondence inbox", label=_l("My correspondence"), icon="fa-inbox",
                        category=CATEGORY, category_label=category_label)
    appbuilder.add_view(SarabanIncomingView, "Incoming letters", label=_l("Incoming letters"), icon="fa-envelope-o",
                        category=CATEGORY, category_label=category_label)
    from app.saraban.register_views import SarabanBookView, SarabanOpeningView, SarabanRegisterView
    from app.saraban.search_views import SarabanSearchView

    appbuilder.add_view(SarabanBookView, "Register books", label=_l("Register books"), icon="fa-book",
                        category=CATEGORY, category_label=category_label)
    appbuilder.add_view(SarabanSearchView, "Search correspondence", label=_l("Search letters"), icon="fa-search",
                        category=CATEGORY, category_label=category_label)
    appbuilder.add_view(SarabanRegisterView, "Registers", label=_l("Register settings"), icon="fa-cog",
                        category=CATEGORY, category_label=category_label)
    appbuilder.add_view(SarabanOpeningView, "Secret document openings", label=_l("Secret document openings"),
                        icon="fa-eye", category=CATEGORY, category_label=category_label)
    from app.saraban.retention_views import SarabanRetentionView

    appbuilder.add_view(SarabanRetentionView, "Retention", label=_l("Retention and destruction"), icon="fa-archive",
                        category=CATEGORY, category_label=category_label)
    from app.saraban.outgoing_views import SarabanOutgoingView

    appbuilder.add_view(SarabanOutgoingView, "Outgoing letters", label=_l("Outgoing letters"), icon="fa-paper-plane",
                        category=CATEGORY, category_label=category_label)
    del category_label
