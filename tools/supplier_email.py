"""Supplier e-mail drafts built from PO facts, following SOP-07's three-level ladder.

``draft_supplier_email`` drafts one e-mail about a PO or a supplier's late POs; without a
supplier or PO it drafts the follow-ups: one e-mail per supplier with late or at-risk POs.
Every fact (dates, quantities, stock) comes from the store and the supply engine. Drafts are
never sent, and a draft is refused when its address fields could not be sent as they are.
"""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import pandas as pd

from tools.arguments import PoNumber, Supplier
from tools.registry import Evidence, Request, ToolContext, ToolError, ToolResult, tool
from tools.store import Store
from tools.suppliers import PurchaseOrder, purchase_orders
from tools.supply import OPEN_STATUSES


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


ADDRESS = re.compile(r"[^@\s,;<>\"']+@[^@\s,;<>\"']+\.[A-Za-z]{2,}")
NOTICE = "DRAFT - not sent"


LEVELS = {
    1: ("Reminder", []),
    2: ("Escalation", ["Purchasing Manager"]),
    3: ("Executive escalation", ["Head of Procurement"]),
}
SIGNATURE = "[Your name], Stockpilot purchasing team"


class DraftEmailRequest(Request):
    """A PO, a supplier, or neither: then one follow-up draft per supplier with late or at-risk POs."""

    supplier: Supplier = None
    po_number: PoNumber | None = None


class SupplierEmail(ToolResult):
    level: int
    level_name: str
    reason: str
    supplier_id: str
    po_numbers: list[str]
    to: list[str]
    cc: list[str]
    subject: str
    body: str
    sent: bool = False  # drafts are never sent

    supplier_name: str = ""

    def headers(self) -> str:
        return f"To: {', '.join(self.to)}\nCc: {', '.join(self.cc) or '-'}\nSubject: {self.subject}"

    def summary(self) -> str:
        pos = ", ".join(self.po_numbers)
        return (
            f"Drafted a Level {self.level} {self.level_name} to {self.supplier_name or self.supplier_id} "
            f"about {pos} ({self.reason}). {NOTICE}: review it and send it from your mailbox."
        )

    def render(self) -> str:
        return f"Level {self.level} {self.level_name}: {self.reason}. {NOTICE}.\n{self.headers()}\n\n{self.body}"

    def table(self) -> pd.DataFrame:
        return pd.DataFrame([{"po_number": p, "level": self.level} for p in self.po_numbers])

    def deliverable(self) -> str:
        """The editable draft itself, shown verbatim beside the answer: the notice and the header
        lines once, then the body."""
        return f"{NOTICE}\n{self.headers()}\n\n{self.body}"


class FollowUps(ToolResult):
    """One draft per supplier with late or at-risk POs (never sent)."""

    today: date
    drafts: list[SupplierEmail]
    refused: list[str]  # suppliers whose draft could not be built, with the reason

    def summary(self) -> str:
        if not self.drafts and not self.refused:
            return f"No supplier has late or at-risk POs as of {self.today}: no follow-ups needed."
        levels = ", ".join(
            f"{d.supplier_name or d.supplier_id} Level {d.level} ({_n(len(d.po_numbers), 'PO')})"
            for d in self.drafts[:5]
        )
        more = f" and {len(self.drafts) - 5} more" if len(self.drafts) > 5 else ""
        refused = f" Not drafted: {'; '.join(self.refused)}." if self.refused else ""
        return (
            f"Drafted {len(self.drafts)} follow-up e-mails, one per supplier with late or at-risk POs: "
            f"{levels}{more}. {NOTICE}: review each and send it from your mailbox.{refused}"
        )

    def render(self) -> str:
        lines = [self.summary()]
        lines += [
            f"{d.supplier_id}: Level {d.level} {d.level_name}, {', '.join(d.po_numbers)}: {d.reason}"
            for d in self.drafts
        ]
        return "\n".join(lines)

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "supplier_id": d.supplier_id,
                    "supplier": d.supplier_name,
                    "level": d.level,
                    "level_name": d.level_name,
                    "po_numbers": ", ".join(d.po_numbers),
                    "to": ", ".join(d.to),
                    "reason": d.reason,
                }
                for d in self.drafts
            ]
        )

    def deliverable(self) -> str | None:
        if not self.drafts:
            return None
        return "\n\n---\n\n".join(d.deliverable() for d in self.drafts)


def escalation_level(order: PurchaseOrder, today: date) -> tuple[int, str]:
    """SOP-07's ladder for one PO: (level, why), from how late it is and its stock impact (the
    supply engine's projected stock-out of its SKUs). A PO that is not late yet never goes to
    Level 3: an executive escalation with expedited shipment at the supplier's cost is for
    POs past their promise."""
    stockout = order.earliest_stockout()
    days_out = None if stockout is None else (stockout - today).days
    late = order.days_late if order.state == "late" else 0
    out_text = (
        ""
        if stockout is None
        else f"stock-out projected {stockout.isoformat()} ("
        + ("today" if days_out == 0 else f"in {_n(days_out, 'day')}")
        + ")"
    )
    if late > 7:
        return 3, f"{order.po_number} is {_n(late, 'day')} late"
    if late >= 1 and days_out is not None and days_out <= 3:
        return 3, f"{order.po_number} is {_n(late, 'day')} late; {out_text}"
    if late >= 4:
        return 2, f"{order.po_number} is {_n(late, 'day')} late"
    if days_out is not None and days_out <= 7:
        state = f"{_n(late, 'day')} late" if late else "not late yet"
        return 2, f"{order.po_number} is {state}; {out_text}"
    if late >= 1:
        return 1, f"{order.po_number} is {_n(late, 'day')} late"
    if order.state == "at_risk":
        return 1, f"{order.po_number} is at risk ({order.risk})"
    return 1, f"{order.po_number} is not late yet (promised {order.promised_date.isoformat()})"


def checked_address(value, supplier: dict) -> str:
    """The supplier's contact e-mail if it is exactly one address with no line breaks."""
    text = "" if value is None else str(value)
    where = f"supplier {supplier['supplier_id']} {supplier['name']}"
    if "\r" in text or "\n" in text:
        raise ToolError(
            f"contact_email: {where} has a line break in its e-mail address; fix the supplier record"
        )
    if not ADDRESS.fullmatch(text.strip()):
        raise ToolError(
            f"contact_email: {where} needs exactly one e-mail address, got {text!r}; fix the supplier record"
        )
    return text.strip()


def _header_text(value: str, field: str, supplier: dict) -> str:
    if "\r" in value or "\n" in value:
        raise ToolError(
            f"{field}: supplier {supplier['supplier_id']} has a line break in '{value.strip()}'; fix the supplier record"
        )
    return value


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def business_days_after(day: date, n: int) -> date:
    return pd.Timestamp(np.busday_offset(np.datetime64(day), n, roll="forward")).date()


def _facts(order: PurchaseOrder) -> str:
    late = f", {order.days_late} days late" if order.state == "late" else ""
    if order.state == "at_risk":
        late = f", at risk: {order.risk}"
    head = (
        f"- {order.po_number} (ordered {order.order_date.isoformat()}, promised "
        f"{order.promised_date.isoformat()}{late}):"
    )
    items = [
        f"  {ln.sku} {ln.name}: {ln.qty_ordered} ordered, {ln.qty_outstanding} outstanding"
        for ln in order.lines
        if ln.qty_outstanding > 0
    ]
    return "\n".join([head, *items])


def _impact(orders: list[PurchaseOrder]) -> list[str]:
    out: dict[tuple[str, str], str] = {}
    for order in orders:
        for ln in order.lines:
            if ln.qty_outstanding <= 0 or ln.days_of_cover is None:
                continue
            text = f"- {ln.sku} at {order.location_id}: {ln.days_of_cover:g} days of cover"
            if ln.stockout_date is not None:
                text += f", projected stock-out {ln.stockout_date.isoformat()}"
            out[(ln.sku, order.location_id)] = text
    return list(out.values())


def email_body(level: int, supplier: dict, orders: list[PurchaseOrder], today: date) -> str:
    facts = "\n".join(_facts(o) for o in orders)
    impact = _impact(orders)
    plural = "s" if len(orders) > 1 else ""
    if level == 1:
        greeting = f"Dear {supplier.get('contact_name') or supplier['name'] + ' team'},"
        ask = (
            f"Could you please confirm the ship date within 2 business days "
            f"(by {business_days_after(today, 2).isoformat()})?"
        )
        stock = (
            ["For your information, our current stock of these items:", *impact] if impact else []
        )
        parts = [
            greeting,
            f"This is a friendly reminder about the following purchase order{plural}:",
            facts,
            "\n".join(stock),
            ask,
            "Thank you for your help.",
        ]
    elif level == 2:
        greeting = f"Dear {supplier.get('contact_name') or supplier['name'] + ' team'},"
        stock = ["Our current stock of the affected items:", *impact] if impact else []
        parts = [
            greeting,
            f"The following purchase order{plural} need{'' if plural else 's'} your urgent attention:",
            facts,
            "\n".join(stock),
            "Please send us a recovery plan with confirmed ship dates within 1 business day "
            f"(by {business_days_after(today, 1).isoformat()}).",
            "Thank you for your help.",
        ]
    else:
        greeting = f"Dear {supplier['name']} account management,"
        stock = ["The impact on our stock:", *impact] if impact else []
        parts = [
            greeting,
            f"We need to escalate the following purchase order{plural}:",
            facts,
            "\n".join(stock),
            "Per our supply agreement, we request expedited shipment at your cost. "
            "Please respond within 24 hours with the shipment details.",
            "Thank you for your help.",
        ]
    closing = "Kind regards,\n" + SIGNATURE
    return "\n\n".join(p for p in [*parts, closing] if p)


def _orders_for_email(
    store: Store, req: DraftEmailRequest, today: date
) -> tuple[dict, list[PurchaseOrder]]:
    if req.po_number:
        po = store.purchase_order(req.po_number)
        supplier = store.supplier(po["supplier_id"])
        if req.supplier and store.supplier(req.supplier)["supplier_id"] != po["supplier_id"]:
            raise ToolError(
                f"supplier: {po['po_number']} belongs to {supplier['supplier_id']} {supplier['name']}, "
                f"not '{req.supplier}'"
            )
        orders = purchase_orders(store, today, po_numbers=[po["po_number"]])
        if not orders or orders[0].status not in OPEN_STATUSES:
            raise ToolError(
                f"po_number: {po['po_number']} is {po['status']}, nothing outstanding to chase"
            )
        return supplier, orders
    supplier = store.supplier(req.supplier)
    candidates = purchase_orders(store, today, supplier["supplier_id"], only_open=True)
    orders = [o for o in candidates if o.state == "late"] or [
        o for o in candidates if o.state == "at_risk"
    ]
    if not orders:
        raise ToolError(
            f"supplier: {supplier['supplier_id']} {supplier['name']} has no late or at-risk POs"
        )
    return supplier, sorted(orders, key=lambda o: (-o.days_late, o.po_number))


def build_draft(supplier: dict, orders: list[PurchaseOrder], today: date) -> SupplierEmail:
    """The draft for one supplier's POs; ToolError when its address fields are unusable."""
    address = checked_address(supplier.get("contact_email"), supplier)
    _header_text(str(supplier["name"]), "name", supplier)
    level, reason = max((escalation_level(o, today) for o in orders), key=lambda x: x[0])
    name, cc = LEVELS[level]
    numbers = [o.po_number for o in orders]
    to = [address]
    if level == 3:  # executive escalation goes to account management; the contact stays informed
        to, cc = [f"[{supplier['name']} account management e-mail]"], [address, *cc]
    subject = f"{name}: purchase order{'s' if len(numbers) > 1 else ''} {', '.join(numbers)}"
    return SupplierEmail(
        level=level,
        level_name=name,
        reason=reason,
        supplier_id=supplier["supplier_id"],
        supplier_name=str(supplier["name"]),
        po_numbers=numbers,
        to=_unique(to),
        cc=[c for c in _unique(list(cc)) if c not in to],
        subject=subject,
        body=email_body(level, supplier, orders, today),
        evidence=_evidence(today),
    )


def _evidence(today: date) -> Evidence:
    return Evidence(
        sources=["purchase_orders", "po_lines", "suppliers", "products", "inventory", "forecasts"],
        method="SOP-07 ladder: L1 1-3 days late or at risk; L2 4-7 days late or stock-out within 7 "
        "days; L3 >7 days late, or late with a stock-out within 3 days (never for a PO not late yet); "
        "stock from the supply engine's projection",
        period=today.isoformat(),
        notes=["draft only: never sent"],
    )


def follow_ups(store: Store, today: date) -> FollowUps:
    """One draft per supplier with late POs (else its at-risk POs), most urgent first."""
    orders = purchase_orders(store, today, only_open=True)
    by_supplier: dict[str, list[PurchaseOrder]] = {}
    for order in orders:
        if order.state in ("late", "at_risk"):
            by_supplier.setdefault(order.supplier_id, []).append(order)
    drafts, refused = [], []
    for supplier_id, mine in sorted(by_supplier.items()):
        chosen = [o for o in mine if o.state == "late"] or mine
        chosen = sorted(chosen, key=lambda o: (-o.days_late, o.po_number))
        supplier = store.supplier(supplier_id)
        try:
            drafts.append(build_draft(supplier, chosen, today))
        except ToolError as error:
            refused.append(f"{supplier_id}: {error}")
    drafts.sort(key=lambda d: (-d.level, d.supplier_id))
    return FollowUps(today=today, drafts=drafts, refused=refused, evidence=_evidence(today))


@tool(
    "draft_supplier_email",
    "e-mail draft about late POs; no arguments: one per supplier",
    DraftEmailRequest,
)
def draft_supplier_email(ctx: ToolContext, req: DraftEmailRequest) -> SupplierEmail | FollowUps:
    store, today = ctx.store, ctx.store.today()
    if not req.supplier and not req.po_number:
        return follow_ups(store, today)
    supplier, orders = _orders_for_email(store, req, today)
    return build_draft(supplier, orders, today)
