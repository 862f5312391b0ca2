"""The waste-fee screens in the menu (ค่าธรรมเนียมเก็บขนมูลฝอย), in the order a clerk uses them."""
from __future__ import annotations

from flask_appbuilder import AppBuilder
from flask_babel import lazy_gettext as _l

CATEGORY = "Waste fees"


def register(appbuilder: AppBuilder) -> None:
    category_label = _l("Waste fees")
    # (each screen's block below: views are imported here so that app/__init__.py stays one line)
    from app.billing.account_views import WasteAccountView, WasteRouteView, WasteSettingsView

    appbuilder.add_view(WasteAccountView, "Waste accounts", label=_l("Service accounts"), icon="fa-home",
                        category=CATEGORY, category_label=category_label)
    appbuilder.add_view(WasteRouteView, "Waste routes", label=_l("Collection routes"), icon="fa-truck",
                        category=CATEGORY, category_label=category_label)
    from app.billing.run_views import BillingRunView

    appbuilder.add_view(BillingRunView, "Billing runs", label=_l("Billing runs"), icon="fa-cogs",
                        category=CATEGORY, category_label=category_label)
    from app.billing.bank_views import BankImportView

    appbuilder.add_view(BankImportView, "Bank payment files", label=_l("Bank payment files"), icon="fa-university",
                        category=CATEGORY, category_label=category_label)
    from app.billing.invoice_views import WasteInvoiceView
    from app.billing.report_views import WasteReportView

    appbuilder.add_view(WasteInvoiceView, "Waste bills", label=_l("Bills"), icon="fa-file-text-o",
                        category=CATEGORY, category_label=category_label)
    appbuilder.add_link("Route sheets", href="/waste/invoices/route-sheets", label=_l("Route sheets"),
                        icon="fa-print", category=CATEGORY)
    appbuilder.add_view(WasteReportView, "Waste arrears", label=_l("Arrears by route"), icon="fa-exclamation-circle",
                        category=CATEGORY, category_label=category_label)
    appbuilder.add_link("Waste yearly summary", href="/waste/reports/yearly", label=_l("Yearly summary"),
                        icon="fa-calendar", category=CATEGORY)
    from app.billing.receipt_views import WasteCounterView, WasteReceiptView

    appbuilder.add_view(WasteCounterView, "Counter payments", label=_l("Counter payments"), icon="fa-money",
                        category=CATEGORY, category_label=category_label)
    appbuilder.add_view(WasteReceiptView, "Waste receipts", label=_l("Receipts"), icon="fa-file-o",
                        category=CATEGORY, category_label=category_label)
    appbuilder.add_view(WasteSettingsView, "Waste settings", label=_l("Waste-fee settings"), icon="fa-sliders",
                        category=CATEGORY, category_label=category_label)
    del category_label
