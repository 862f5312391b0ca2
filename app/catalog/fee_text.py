"""Fee rules as a person reads them in the citizen guide: 'ค่าตรวจแบบ: 0.50 บาท ต่อ พื้นที่ (ตร.ม.)'."""
from __future__ import annotations

from decimal import Decimal

from flask_babel import gettext as _

from app.tenancy.models import localized

PERIODS = {"month": lambda: _("per month"), "year": lambda: _("per year")}


def _money(value) -> str:
    return f"{Decimal(str(value)):,.2f}"


def _number(value) -> str:
    return f"{Decimal(str(value)).normalize():,f}"


def describe(rule: dict, fields: list[dict]) -> str:
    labels = {f["code"]: (localized(f.get("label_th") or f["code"], f.get("label_en") or ""), f.get("unit_th", ""))
              for f in fields}
    name = localized(rule.get("label_th") or rule["code"], rule.get("label_en") or "")
    field, unit = labels.get(rule.get("field"), (rule.get("field"), ""))
    unit_text = f" ({unit})" if unit else ""
    kind = rule["kind"]
    if kind == "flat":
        text = _("%(amount)s baht", amount=_money(rule["amount"]))
    elif kind == "per_unit":
        text = _("%(rate)s baht per %(field)s", rate=_money(rule["rate"]), field=f"{field}{unit_text}")
        if rule.get("round_up_to"):
            text += " " + _("(rounded up to units of %(unit)s)", unit=_number(rule["round_up_to"]))
        if rule.get("minimum") is not None:
            text += " " + _("at least %(amount)s baht", amount=_money(rule["minimum"]))
        if rule.get("maximum") is not None:
            text += " " + _("at most %(amount)s baht", amount=_money(rule["maximum"]))
    elif kind == "tiered":
        parts = []
        for bracket in rule["brackets"]:
            price = (_("%(amount)s baht", amount=_money(bracket["amount"])) if bracket.get("amount") is not None
                     else _("%(rate)s baht per unit", rate=_money(bracket["rate"])))
            if bracket.get("round_up_to"):
                price += " " + _("(rounded up to units of %(unit)s)", unit=_number(bracket["round_up_to"]))
            limit = (_("up to %(limit)s", limit=bracket["up_to"]) if bracket.get("up_to") is not None
                     else _("above that"))
            parts.append(f"{limit}: {price}")
        text = f"{field}{unit_text} " + "; ".join(parts)
    elif kind == "late_surcharge":
        text = _("%(percent)s%% more when paid late", percent=rule["percent"])
        if rule.get("due_field"):
            text += " " + _("(after the date in %(field)s)", field=labels.get(rule["due_field"], (rule["due_field"],))[0])
    else:
        text = ""
    period = PERIODS.get(rule.get("per") or "once")
    if period:
        text += " " + period()
    when = rule.get("when") or {}
    if when.get("field"):
        wanted = when.get("equals") if "equals" in when else ", ".join(str(v) for v in when.get("in") or [])
        choices = {str(c["value"]): localized(c.get("label_th") or str(c["value"]), c.get("label_en") or "")
                   for f in fields if f["code"] == when["field"] for c in f.get("choices") or []}
        shown = choices.get(str(wanted), wanted)
        text += " " + _("(when %(field)s is %(value)s)", field=labels.get(when["field"], (when["field"],))[0],
                        value=shown)
    return f"{name}: {text}"
