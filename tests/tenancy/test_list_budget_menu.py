"""Every list screen in the menu, within the statement budget (DESIGN.md speed rules: at most 6 SQL statements
per list page whatever the page size; on PostgreSQL the row-level-security set_config counts too): the menu is
walked, each list requested at 25 and at 100 rows as the organisation's admin (who may see them all)."""
from __future__ import annotations

import os


from tests.conftest import login
from tests.tenancy.statements import page_statements

MAX_STATEMENTS = 6
ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgresql")
# List screens of our own (not FAB ModelViews) in the menu: one page size each (their own paging)
LIST_SCREENS = {"/inbox/", "/inbox/approvals", "/forwardings/", "/notifications/", "/waste/invoices/",
                "/saraban/inbox/", "/waste/bank-imports/", "/waste/runs/"}
# Known to cost more; each is the budget it must not exceed, until brought within MAX_STATEMENTS.
OVER_BUDGET = {
    "/memberships/list/": 7 if ON_POSTGRES else 6,  # three search drop-downs (users, กอง, roles)
    "/saraban/inbox/": 8 if ON_POSTGRES else 7,
    "/forwardings/": 7 if ON_POSTGRES else 6,
    # 6 or 7 on PostgreSQL depending on what earlier tests left waiting (seen 7 in a full run): not yet fixed
    "/inbox/approvals": 7 if ON_POSTGRES else 6,
}


def _menu_lists(app):
    """(url, view name) of every menu entry that is a list screen of this app."""
    from flask_appbuilder import ModelView

    with app.test_request_context():
        appbuilder = app.appbuilder
        found = []

        def walk(items):
            for item in items:
                if item.childs:
                    walk(item.childs)
                    continue
                if not item.name or item.name == "-":
                    continue
                try:
                    url = item.get_url()
                except Exception:  # a menu entry whose endpoint is missing
                    continue
                if not url or url.startswith("http"):
                    continue
                view = item.baseview
                if isinstance(view, ModelView) and url.rstrip("/").endswith("/list"):
                    found.append((url, type(view).__name__))
                elif url in LIST_SCREENS:
                    found.append((url, None))

        walk(appbuilder.menu.get_list())
    return sorted(set(found))


def test_menu_has_lists(app):
    lists = _menu_lists(app)
    assert len(lists) > 15, lists
    assert ("/memberships/list/", "MembershipView") in lists


def test_every_menu_list_within_budget(app, tenant_a):
    client = login(app.test_client(), "a.admin")
    report, over = [], []
    for url, view in _menu_lists(app):
        sizes = (25, 100) if view else (None,)
        counts = []
        for size in sizes:
            target = f"{url}{'&' if '?' in url else '?'}psize_{view}={size}" if size else url
            seen, response = page_statements(app, client, target)
            if response.status_code in (302, 403, 404):  # not this admin's screen (platform operators')
                counts = None
                break
            assert response.status_code == 200, (target, response.status_code)
            counts.append(len(seen))
        if counts is None:
            continue
        report.append((url, counts))
        budget = OVER_BUDGET.get(url, MAX_STATEMENTS)
        if max(counts) > budget or len(set(counts)) != 1:
            over.append((url, counts, seen))
    for url, counts in report:
        print(f"{url}: {counts}")
    assert len(report) > 15
    assert not over, [(u, c, [" ".join(s.split())[:120] for s in seen]) for u, c, seen in over]
