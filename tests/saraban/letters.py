"""Letters for the correspondence tests, written straight into the tables as the services leave them (a number
from the register, the people named on a secret one, the words indexed), so that the tests of links and
secrecy do not depend on the registration and drafting screens."""
from __future__ import annotations

from app.extensions import db
from app.saraban import access, registry, search
from app.saraban.models import INCOMING, NORMAL, Document
from app.tenancy.context import tenant_scope


_app = None


def use(app) -> None:
    """The application these helpers open their own contexts in (a test module's autouse fixture calls it):
    never the test client's context, so a request's g and session stay its own."""
    global _app
    _app = app


def letter(people, subject: str, *, direction: str = INCOMING, secrecy: str = NORMAL, readers=(),
           request_id: int | None = None, division: str = "office", numbered: bool = True, status: str | None = None,
           author: str = "clerk", scan: bytes | None = None) -> int:
    """A letter of the tenant `people` (tests.saraban.people.SarabanTenant); returns its id. `readers`: the
    user keys named on it (the author is always named, as the services do); `scan`: a PDF stored as its scan."""
    with _app.app_context(), tenant_scope(people.tenant_id):
        register_id = people.incoming_register_id if direction == INCOMING else people.outgoing_register_id
        document = Document(
            direction=direction, kind="external", secrecy=secrecy, subject=subject, sender="ศาลากลางจังหวัดเชียงใหม่",
            addressee="นายกองค์การบริหารส่วนตำบล", their_ref="ชม 0017.2/ว 123" if direction == INCOMING else None,
            register_id=register_id, origin_division_id=people.divisions[division], request_id=request_id,
            status=status or ("registered" if direction == INCOMING else "draft"),
            created_by_id=people.users[author], created_by_name="สุดา สารบรรณ")
        db.session.add(document)
        db.session.flush()
        if numbered:
            registry.take_number(document)
        if scan is not None:
            from app.saraban import files

            files.store(document, "scan.pdf", scan, "application/pdf", "scan", people.users[author])
        for key in {author, *readers}:
            access.grant(document, people.users[key], "recipient" if key != author else "registrar")
        search.index(document)
        db.session.commit()
        document_id = document.id
        db.session.remove()
    return document_id


def document(tenant_id: int, document_id: int) -> Document:
    """The row as it stands (expunged, to read after the session is gone)."""
    with _app.app_context(), tenant_scope(tenant_id):
        row = db.session.get(Document, document_id)
        db.session.expunge(row)
        db.session.remove()
    return row

