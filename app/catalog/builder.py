"""Turn a service's field list into a WTForms form (staff screens, the portal) and a marshmallow schema (API,
seeds). Both validate through app.catalog.values.parse, so they agree by construction."""
from __future__ import annotations

from typing import Any

import marshmallow
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from marshmallow import RAISE, pre_load
from wtforms import Field
from wtforms.widgets import html_params

from app import thai
from app.catalog import values
from app.tenancy.models import localized


def visible_fields(fields: list[dict], staff: bool) -> list[dict]:
    """Citizens see and fill only public fields; staff see all of them."""
    return [f for f in fields if staff or f.get("visibility", "public") == "public"]


def label(spec: dict) -> str:
    return localized(spec.get("label_th") or spec["code"], spec.get("label_en") or "")


def help_text(spec: dict) -> str:
    return localized(spec.get("help_th") or "", spec.get("help_en") or "")


# --- WTForms -----------------------------------------------------------------------------------------------

class SpecField(Field):
    """A form field for one spec; `data` is the parsed (stored) value."""

    def __init__(self, spec: dict, **kwargs):
        super().__init__(label(spec), description=help_text(spec), **kwargs)
        self.spec = spec
        self.raw = None
        if spec.get("required"):
            self.flags.required = True

    def process_data(self, value):
        self.data = value

    def process_formdata(self, valuelist):
        if self.spec["kind"] == "file":
            uploads = [v for v in valuelist if _is_upload(v)]
            if uploads:
                self.raw = None
                self.data = check_uploads(self.spec, uploads)
                return
            if self.object_data:  # editing: the files already attached stay unless new ones are sent
                self.data = self.object_data
                return
            valuelist = []
        self.raw = _raw_from_form(self.spec, self.name, valuelist, self.form_formdata)
        try:
            self.data = values.parse(self.spec, self.raw)
        except values.FieldError as exc:
            self.data = None
            raise ValueError(str(exc)) from None

    def process(self, formdata, data=None, extra_filters=None):
        # composite inputs (the address) read their parts from the whole form data
        self.form_formdata = formdata
        super().process(formdata, data, extra_filters)

    def __call__(self, **kwargs):
        return render_widget(self, **kwargs)


def _is_upload(value) -> bool:
    return hasattr(value, "filename") and hasattr(value, "stream") and bool(value.filename)


def check_uploads(spec: dict, uploads: list) -> list:
    """Uploaded files of a file field: allowed types and size. The view stores them as attachments."""
    from flask_babel import gettext as _

    from app.catalog.filetypes import content_fits

    accept = {ext.lower() for ext in spec.get("accept") or []}
    limit = int(spec.get("max_size_mb") or 10) * 1024 * 1024
    for upload in uploads:
        ext = upload.filename.rsplit(".", 1)[-1].lower() if "." in upload.filename else ""
        head = upload.stream.read(8192)
        upload.stream.seek(0)
        # the name and the content must both be an accepted type: a renamed file is refused
        if accept and (ext not in accept or not content_fits(head, accept)):
            raise ValueError(_("%(name)s: only %(types)s files are accepted.", name=upload.filename,
                               types=", ".join(sorted(accept))))
        upload.stream.seek(0, 2)
        size = upload.stream.tell()
        upload.stream.seek(0)
        if size > limit:
            raise ValueError(_("%(name)s is larger than %(mb)d MB.", name=upload.filename, mb=limit // 2**20))
    return uploads


def _raw_from_form(spec: dict, name: str, valuelist: list, formdata) -> Any:
    kind = spec["kind"]
    if kind == "address":
        return {part: (formdata.get(f"{name}-{part}") or "") for part in ("line", "subdistrict", "postcode")}
    if kind in ("multi_choice", "file"):
        return list(valuelist)
    return valuelist[0] if valuelist else ""


def _value_text(field: SpecField) -> str:
    """What the input shows: what was typed, else the stored value in the form's own notation."""
    if field.raw is not None and not isinstance(field.raw, (list, dict)):
        return str(field.raw)
    value = field.data
    if value is None:
        return ""
    kind = field.spec["kind"]
    if kind == "date":
        from datetime import date

        return thai.format_date_input(date.fromisoformat(value))
    if kind == "location":
        return f"{value['lat']}, {value['lng']}"
    return str(value)


def render_widget(field: SpecField, **kwargs) -> Markup:
    spec, kind = field.spec, field.spec["kind"]
    kwargs.setdefault("id", field.id)
    css = kwargs.pop("class_", "") or kwargs.pop("class", "")
    if kind == "long_text":
        return Markup(f"<textarea {html_params(name=field.name, class_='form-control ' + css, rows=4, **kwargs)}>"
                      f"{escape(_value_text(field))}</textarea>")
    if kind == "choice":
        current = field.raw if isinstance(field.raw, str) else field.data
        options = ['<option value="">—</option>'] + [
            f'<option value="{escape(c["value"])}"{" selected" if str(c["value"]) == current else ""}>'
            f'{escape(values._choice_label(c))}</option>' for c in spec.get("choices") or []
        ]
        return Markup(f"<select {html_params(name=field.name, class_='form-control ' + css, **kwargs)}>"
                      + "".join(options) + "</select>")
    if kind == "multi_choice":
        chosen = field.raw if isinstance(field.raw, list) else (field.data or [])
        boxes = [
            f'<label class="checkbox-inline"><input type="checkbox" name="{escape(field.name)}" '
            f'value="{escape(c["value"])}"{" checked" if str(c["value"]) in chosen else ""}> '
            f'{escape(values._choice_label(c))}</label>' for c in spec.get("choices") or []
        ]
        return Markup(f'<div id="{escape(field.id)}">' + " ".join(boxes) + "</div>")
    if kind == "yes_no":
        current = field.raw if field.raw is not None else ("y" if field.data else ("n" if field.data is False else ""))
        yes = str(current).lower() in values.YES
        no = str(current).lower() in values.NO
        return Markup(
            f'<label class="radio-inline"><input type="radio" name="{escape(field.name)}" value="y"'
            f'{" checked" if yes else ""}> {escape(thai.format_bool(True))}</label> '
            f'<label class="radio-inline"><input type="radio" name="{escape(field.name)}" value="n"'
            f'{" checked" if no else ""}> {escape(thai.format_bool(False))}</label>'
        )
    if kind == "address":
        return _address_widget(field)
    if kind == "date":
        from flask_babel import gettext as _

        hint = _("dd/mm/yyyy (B.E.)")
        params = html_params(
            type="text", name=field.name, value=_value_text(field), class_="form-control thai-date",
            placeholder=hint, data_months="|".join(thai.month_names("wide").values()), autocomplete="off",
            **kwargs,
        )
        return Markup(
            '<div class="input-group thai-date-group"><span class="input-group-addon">'
            f'<i class="fa fa-calendar"></i></span><input {params}></div>'
        )
    if kind == "location":
        from flask_babel import gettext as _

        params = html_params(type="text", name=field.name, value=_value_text(field),
                             class_="form-control thai-location", placeholder="18.7883, 98.9853",
                             autocomplete="off", **kwargs)
        here = _("Use my current location")
        pick = _("or tap the map")
        return Markup(
            f'<div class="thai-location-group"><input {params}>'
            f'<button type="button" class="btn btn-default btn-sm thai-locate" hidden>'
            f'<i class="fa fa-crosshairs"></i> {escape(here)}</button> '
            f'<span class="text-muted thai-map-hint" hidden>{escape(pick)}</span>'
            f'<div class="thai-map" hidden></div></div>'
        )
    if kind == "file":
        accept = ",".join("." + ext for ext in spec.get("accept") or [])
        return Markup(f"<input {html_params(type='file', name=field.name, multiple=True, accept=accept, class_='form-control ' + css, **kwargs)}>")
    input_type = {"email": "email", "phone": "tel"}.get(kind, "text")
    mode = {"integer": "numeric", "decimal": "decimal", "national_id": "numeric", "phone": "tel"}.get(kind)
    extra = {"inputmode": mode} if mode else {}
    unit = spec.get("unit_th")
    html = (f"<input {html_params(type=input_type, name=field.name, value=_value_text(field), class_='form-control ' + css, **extra, **kwargs)}>")
    if unit:
        html = f'<div class="input-group">{html}<span class="input-group-addon">{escape(unit)}</span></div>'
    return Markup(html)


def _address_widget(field: SpecField) -> Markup:
    from flask_babel import gettext as _

    raw = field.raw if isinstance(field.raw, dict) else (field.data or {})
    line, code, postcode = raw.get("line", ""), raw.get("subdistrict", ""), raw.get("postcode", "")
    name = escape(field.name)
    line_hint, postcode_hint = _("House number, village, road"), _("Postcode")
    options = ['<option value="">—</option>']
    if postcode and values.validators.is_thai_postcode(postcode):
        import geothai

        for s in geothai.by_postal_code(postcode):
            found = geothai.address(s.code)
            text = f"{s.name_th} / {found.district.name_th} / {found.province.name_th}" if found else s.name_th
            options.append(f'<option value="{s.code}"{" selected" if s.code == code else ""}>{escape(text)}</option>')
    return Markup(
        f'<div class="thai-address" id="{escape(field.id)}">'
        f'<input type="text" class="form-control" name="{name}-line" value="{escape(line)}" '
        f'placeholder="{escape(line_hint)}">'
        f'<div class="row" style="margin-top:4px"><div class="col-xs-4">'
        f'<input type="text" class="form-control thai-postcode" name="{name}-postcode" value="{escape(postcode)}" '
        f'inputmode="numeric" maxlength="5" placeholder="{escape(postcode_hint)}"></div>'
        f'<div class="col-xs-8"><select class="form-control thai-subdistrict" name="{name}-subdistrict" '
        f'data-selected="{escape(code)}">{"".join(options)}</select></div></div></div>'
    )


def document_fields(documents: list[dict]) -> list[dict]:
    """Required documents become file fields of the form, stored like any other value."""
    return [
        {"code": f"doc_{d['code']}", "kind": "file", "label_th": d["name_th"], "label_en": d.get("name_en", ""),
         "required": d.get("required", True), "accept": d.get("accept") or ["pdf", "jpg", "png"],
         "max_size_mb": d.get("max_size_mb", 10), "visibility": "public"}
        for d in documents or []
    ]


def build_form(fields: list[dict], *, staff: bool = True, documents: list[dict] | None = None) -> type[FlaskForm]:
    """A FlaskForm class (CSRF protected) with one field per visible spec, in order, then the documents."""
    specs = visible_fields(fields, staff) + document_fields(documents or [])
    attrs = {spec["code"]: SpecField(spec) for spec in specs}
    form_class = type("ServiceForm", (FlaskForm,), attrs)
    form_class.spec_codes = [spec["code"] for spec in specs]
    form_class.specs = specs
    return form_class


def form_values(form) -> dict:
    return {code: getattr(form, code).data for code in form.spec_codes}


# --- marshmallow ---------------------------------------------------------------------------------------------

class SpecValue(marshmallow.fields.Field):
    def __init__(self, spec: dict, **kwargs):
        super().__init__(**kwargs)
        self.spec = spec

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return values.parse(self.spec, value)
        except values.FieldError as exc:
            # the message itself (not str() of it): in the open API it is a Phrase, said again in English
            raise marshmallow.ValidationError(exc.args[0] if exc.args else str(exc)) from None

    def _serialize(self, value, attr, obj, **kwargs):
        return value


def build_schema(fields: list[dict], *, staff: bool = True,
                 documents: list[dict] | None = None) -> type[marshmallow.Schema]:
    specs = visible_fields(fields, staff) + document_fields(documents or [])
    attrs: dict[str, Any] = {spec["code"]: SpecValue(spec) for spec in specs}
    codes = [spec["code"] for spec in specs]

    class Meta:
        unknown = RAISE

    def fill_missing(self, data, **kwargs):
        # a missing key is an empty value, so "required" has one message everywhere
        if isinstance(data, dict):
            return {**{code: "" for code in codes}, **data}
        return data

    attrs["Meta"] = Meta
    attrs["fill_missing"] = pre_load(fill_missing)
    return type("ServiceSchema", (marshmallow.Schema,), attrs)
