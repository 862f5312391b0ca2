"""Reading a matter another organisation shared with us, as its owner sees it, and nothing more."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from app.extensions import db
from app.tenancy.context import require_tenant_id, shared_read
from app.tenancy.guard import evict_other_tenants


@contextmanager
def as_owner(owner_tenant_id: int) -> Iterator[None]:
    """Read-only access to the owner's rows for the length of the block. The caller must first load the
    share (a TenantShared row) through the wall. The owner's rows are dropped from the session afterwards,
    so nothing loaded here can be found again through the identity map."""
    partner = require_tenant_id()
    try:
        with shared_read(owner_tenant_id):
            yield
    finally:
        evict_other_tenants(db.session, partner)
