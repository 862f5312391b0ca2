"""Bank payment files (ไฟล์รับชำระจากธนาคาร): upload a bill-payment report, see what became of each line,
and resolve the lines left for review. The logic is in bank_import.py; rows come through the tenant wall."""
from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _

from app.billing import bank_import
from app.extensions import db
from app.tasks import after_commit
from app.tenancy.context import require_tenant_id
from app.tenancy.errors import UserError

VIEW = "BankImportView"
GROUP_LIMIT = 500  # lines shown per status on an import's page (the rest are counted)


def _has(permission: str) -> bool:
    from flask import current_app

    return current_app.appbuilder.sm.has_access(permission, VIEW)


class BankImportView(BaseView):
    route_base = "/waste/bank-imports"
    default_view = "list"

    def _list_page(self, error: str | None = None, status: int = 200):
        rows, total = bank_import.imports()
        return self.render_template(
            "billing/bank_list.html", imports=rows, total=total, error=error, may_upload=_has("can_upload"),
            status_names=bank_import.IMPORT_STATUS_NAMES, max_mb=bank_import.MAX_BYTES // (1024 * 1024),
            max_lines=bank_import.MAX_LINES, appbuilder=self.appbuilder), status

    @expose("/")
    @has_access
    def list(self):
        return self._list_page()

    @expose("/upload", methods=["POST"])
    @has_access
    def upload(self):
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            return self._list_page(_("Choose the bank's payment file (CSV) to upload."), 422)
        data = upload.stream.read(bank_import.MAX_BYTES + 1)
        try:
            batch = bank_import.store(data, upload.filename, g.user)
            earlier = bank_import.uploaded_before(batch)
            after_commit(bank_import.TASK, require_tenant_id(), import_id=batch.id)
            pk = batch.id
            db.session.commit()
        except UserError as exc:
            db.session.rollback()
            return self._list_page(exc.message, exc.status if exc.status in (413, 422) else 422)
        if earlier is not None:
            flash(_("The same file was uploaded before (import no. %(number)d): its lines show as duplicates.",
                    number=earlier.id), "warning")
        flash(_("The file was received; its lines are being applied."), "success")
        return redirect(url_for(f"{VIEW}.show", pk=pk))

    @expose("/<int:pk>")
    @has_access
    def show(self, pk: int):
        batch = bank_import.get(pk)
        if batch is None:
            abort(404)
        grouped = bank_import.lines_by_status(batch, GROUP_LIMIT)
        return self.render_template(
            "billing/bank_show.html", batch=batch, grouped=grouped, limit=GROUP_LIMIT,
            status_names=bank_import.STATUS_NAMES, import_status_names=bank_import.IMPORT_STATUS_NAMES,
            reasons_of=bank_import.reasons_of, may_resolve=_has("can_resolve"), appbuilder=self.appbuilder)

    @expose("/review")
    @has_access
    def review(self):
        lines, total = bank_import.for_review()
        return self.render_template(
            "billing/bank_review.html", lines=lines, total=total, reasons_of=bank_import.reasons_of,
            may_resolve=_has("can_resolve"), appbuilder=self.appbuilder)

    @expose("/lines/<int:pk>/resolve", methods=["GET", "POST"])
    @has_access
    def resolve(self, pk: int):
        line = bank_import.line_or_none(pk)
        if line is None:
            abort(404)
        values = {"how": "bill", "account_no": line.ref1 or "", "period": line.ref2 or "", "note": ""}
        error, status = None, 200
        if request.method == "POST":
            values = {key: (request.form.get(key) or "").strip() for key in values}
            try:
                if values["how"] == "outside":
                    bank_import.resolve_outside(line, values["note"], g.user)
                elif values["how"] == "bill":
                    receipt = bank_import.resolve_by_bill(line, values["account_no"], values["period"], g.user)
                else:
                    raise UserError(_("Choose how this payment was resolved."), 422)
                db.session.commit()
            except UserError as exc:
                db.session.rollback()
                error, status = exc.message, exc.status if exc.status in (404, 409, 422) else 422
                line = bank_import.line_or_none(pk)
                if line is None:
                    abort(404)
            else:
                if values["how"] == "bill":
                    flash(_("Receipt %(number)s was issued for this payment.", number=receipt.label), "success")
                else:
                    flash(_("The line was marked as handled outside this system."), "success")
                return redirect(url_for(f"{VIEW}.show", pk=line.import_id))
        return self.render_template(
            "billing/bank_resolve.html", line=line, values=values, error=error,
            reasons_of=bank_import.reasons_of, status_names=bank_import.STATUS_NAMES,
            appbuilder=self.appbuilder), status
