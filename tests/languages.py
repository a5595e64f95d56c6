"""Is a page wholly in its language? The checks the completeness tests share (issue 18.6).

The rule: the UI speaks the reader's language; data does not. Data are what the bank's
files and people wrote — names of people, units, products and clients (masked), an
incident's description, a reason someone typed, a file's own column headers and values —
and a page marks each such element as not for translation, the HTML way:
`translate="no"` (or a `lang` of its own, as the language switcher's 简体中文 has). So:

- on an English page no CJK character (nor full-width punctuation) may appear in the UI
  text — text nodes and the attributes a person reads (title, placeholder, aria-label,
  alt, a button's value) — outside an element marked `translate="no"` or `lang="zh…"`,
  once the data the page quotes are taken out of it: the values the database holds as
  people's writing (`data_values`: names of staff, units, products, clients masked, the
  scheme's and its KPIs' names, incident types, descriptions and reasons, the column
  headers a file named), wherever a page puts them ("刘梅梅 · Relationship manager");
- pay is shown to the fen with its 元 (the `payroll` filter: read against a payslip, in
  both languages), so "18,000.00 元" is a figure, not a word;
- on a Chinese page no UI text may be an English message of the catalogue left as it is
  (its msgid, where the compiled catalogue has a Chinese translation): a sentence stored or
  formatted before the request's language was known.

The language-neutral scripts and styles are not text a person reads, and are not checked.
"""

from __future__ import annotations

import re
from functools import cache

from tests.pages.html import Node, parse_html

CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff01-\uff5e]")
READ_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")
NOT_TEXT = {"script", "style", "template", "noscript"}


def _is_data(node: Node) -> bool:
    lang = (node.attrs.get("lang") or "").lower()
    return node.attrs.get("translate") == "no" or bool(lang and not lang.startswith("en"))


def _where(path: list[Node]) -> str:
    """A short address of a node: tag#id.testid, for the report."""
    parts = []
    for node in path[-3:]:
        mark = node.attrs.get("data-testid") or node.attrs.get("id") or node.attrs.get("class")
        parts.append(f"{node.tag}[{mark}]" if mark else node.tag)
    return " > ".join(parts)


def ui_texts(doc: Node) -> list[tuple[str, str]]:
    """(where, text) of every piece of UI text of the page: data and scripts left out."""
    found: list[tuple[str, str]] = []

    def visit(node: Node, path: list[Node]) -> None:
        if node.tag in NOT_TEXT or _is_data(node):
            return
        here = [*path, node]
        for name in READ_ATTRIBUTES:
            value = node.attrs.get(name)
            if value:
                found.append((f"{_where(here)} @{name}", value))
        if node.tag == "input" and node.attrs.get("type") in {"submit", "button"}:
            found.append((f"{_where(here)} @value", node.attrs.get("value") or ""))
        for child in node.children:
            if isinstance(child, Node):
                visit(child, here)
            elif child.strip():
                found.append((_where(here), " ".join(child.split())))

    visit(doc, [])
    return found


PAY = re.compile(r"[−+-]?[\d,]+\.\d\d 元")


def data_values() -> list[str]:
    """What the bank's files and people wrote, as the database holds it (longest first, so
    that a name is taken out before a shorter one inside it)."""
    from compliance.models import Incident, IncidentDecision, IncidentType
    from crm.models import ClientSnapshot, ImportBatch, Product
    from scorecards.models import Kpi, PeriodUnit, Scheme
    from targets.models import Employee, OrgUnit, TargetAdjustment
    from wealthscore.kernel.identifiers import mask_name
    from wealthscore.kernel.models import AuditEntry

    values: set[str] = set()
    for model, fields in [
        (Employee, ["name"]), (OrgUnit, ["name"]), (Product, ["name"]), (Kpi, ["name"]),
        (Scheme, ["name"]), (IncidentType, ["name"]),
        (Incident, ["description", "decision_reason"]), (IncidentDecision, ["reason"]),
        (PeriodUnit, ["reason"]), (AuditEntry, ["reason"]), (TargetAdjustment, ["reason"]),
    ]:  # fmt: skip
        for field in fields:
            values |= set(model.objects.values_list(field, flat=True))
    values |= {mask_name(n) for n in ClientSnapshot.objects.values_list("name", flat=True)}
    for errors in ImportBatch.objects.values_list("row_errors", flat=True):
        values |= {str(e.get("column") or "") for e in errors}
        values |= {str(e.get("value") or "") for e in errors}
    return sorted((v for v in values if v and CJK.search(v)), key=len, reverse=True)


def cjk_in_english_page(html: str, data: list[str] = ()) -> list[str]:  # type: ignore[assignment]
    """Where an English page shows Chinese UI text, once the data it quotes are taken out."""
    found = []
    for where, text in ui_texts(parse_html(html)):
        if not CJK.search(text):
            continue
        ui = PAY.sub("", text)
        for value in data:
            if value in ui:
                ui = ui.replace(value, "")
        if CJK.search(ui):
            found.append(f"{where}: {text[:80]!r}")
    return found


@cache
def _translated_msgids() -> frozenset[str]:
    """The English messages the compiled Chinese catalogue translates (a few words at least:
    "OK", "ID" or a code may rightly read the same in both languages)."""
    from django.utils.translation import trans_real

    catalog = trans_real.translation("zh-hans")._catalog  # the merged, compiled catalogues
    return frozenset(
        key for key, value in catalog.items()
        if isinstance(key, str) and key != value and re.search(r"[A-Za-z]{3,}.*\s\w", key)
        and "%(" not in key and not CJK.search(key)
    )  # fmt: skip


def english_in_chinese_page(html: str) -> list[str]:
    """Where a Chinese page shows a message of the catalogue untranslated."""
    known = _translated_msgids()
    return [f"{where}: {text[:80]!r}" for where, text in ui_texts(parse_html(html))
            if text in known or text.rstrip(".:") in known]  # fmt: skip
