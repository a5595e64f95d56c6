"""What an integrating system does with WealthScore, through a client generated from the live
OpenAPI schema by openapi-python-client (.ci/client), used as generated: no hand edit, no raw
HTTP. Every call goes through the generated `wealthscore_client` package.

    WEALTHSCORE_URL=http://127.0.0.1:8000 WEALTHSCORE_PASSWORD=… PYTHONPATH=var/client \\
        python tests/api_client/scenario.py

The demo bank's logins (`manage.py demo`) are used: admin, compliance and hr. Each step checks
real content; the first failure exits non-zero with what was expected and what came back.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import sys
from typing import Any, NoReturn

import openpyxl
from wealthscore_client import AuthenticatedClient, Client
from wealthscore_client.api.auth import auth_token_create
from wealthscore_client.api.compliance import (
    compliance_incidents_confirm_create,
    compliance_incidents_create,
)
from wealthscore_client.api.pay_adjustments import pay_adjustments_export_retrieve
from wealthscore_client.api.periods import periods_list
from wealthscore_client.api.scorecards import (
    scorecards_lines_facts_retrieve,
    scorecards_list,
    scorecards_retrieve,
)
from wealthscore_client.models import (
    DecisionReasonRequest,
    Error,
    Incident,
    IncidentCreateRequest,
    LineFacts,
    PaginatedPeriodList,
    PaginatedScorecardList,
    PayAdjustmentsExportRetrieveFormat,
    PeriodsListKind,
    Scorecard,
    TokenRequestRequest,
    TokenResponse,
)
from wealthscore_client.types import File, Response

BASE_URL = os.environ.get("WEALTHSCORE_URL", "http://127.0.0.1:8000")
PASSWORD = os.environ.get("WEALTHSCORE_PASSWORD", "wealthscore-demo")
PAGE = 10  # small pages, so that the demo's 24 RMs take three


def fail(step: str, problem: str) -> NoReturn:
    sys.exit(f"FAILED at {step}: {problem}")


def expect(step: str, response: Response[Any], status: int, kind: type) -> Any:
    """The parsed body of a response with the expected status and type, or a clear failure
    (an error's envelope is parsed by the client too, so its code and message are shown)."""
    parsed = response.parsed
    if response.status_code != status or not isinstance(parsed, kind):
        if isinstance(parsed, Error):
            got = f"{parsed.code}: {parsed.message} {parsed.fields.to_dict()}"
        else:
            got = response.content[:300].decode("utf-8", "replace")
        fail(step, f"expected {status} {kind.__name__}, got {int(response.status_code)}: {got}")
    print(f"ok  {step}")
    return parsed


def log_in(username: str) -> AuthenticatedClient:
    # The token endpoint needs no auth: the plain Client calls it.
    anonymous = Client(base_url=BASE_URL)
    body = TokenRequestRequest(username=username, password=PASSWORD)
    token = expect(
        f"log in as {username}",
        auth_token_create.sync_detailed(client=anonymous, body=body),
        200,
        TokenResponse,
    )
    if not token.token:
        fail(f"log in as {username}", "the token is empty")
    return AuthenticatedClient(base_url=BASE_URL, token=token.token, prefix="Token")


def wrong_password_is_a_typed_error() -> None:
    body = TokenRequestRequest(username="admin", password=PASSWORD + "-wrong")
    response = auth_token_create.sync_detailed(client=Client(base_url=BASE_URL), body=body)
    error = expect("a wrong password is refused", response, 400, Error)
    if error.code != "invalid_credentials" or not error.message:
        fail("a wrong password is refused", f"code {error.code!r}, message {error.message!r}")


def last_completed_quarter(client: AuthenticatedClient) -> str:
    step = "the last completed quarter"
    periods = expect(
        "list the quarters",
        periods_list.sync_detailed(client=client, kind=PeriodsListKind.QUARTER),
        200,
        PaginatedPeriodList,
    )
    today = dt.date.today()
    ended = [p for p in periods.results if p.last_day < today and p.current_run is not None]
    if not ended:
        fail(step, f"no scored quarter has ended by {today}: {[p.code for p in periods.results]}")
    return max(ended, key=lambda p: p.last_day).code


def an_open_day(client: AuthenticatedClient) -> dt.date:
    """The last day of the latest ended month that is not approved, nor its quarter or year:
    an incident on it can be decided (a decision in an approved period is a 409)."""
    periods = expect(
        "list the periods",
        periods_list.sync_detailed(client=client, limit=100),
        200,
        PaginatedPeriodList,
    )
    status = {p.code: getattr(p.status, "value", "open") for p in periods.results}
    today = dt.date.today()
    for month in sorted(
        (p for p in periods.results if p.kind == "month" and p.last_day < today),
        key=lambda p: p.last_day,
        reverse=True,
    ):
        quarter = f"{month.year}-Q{(month.first_day.month - 1) // 3 + 1}"
        if all(status.get(code) != "approved" for code in (month.code, quarter, str(month.year))):
            return month.last_day
    fail("an open period", f"every ended month is approved, or its quarter or year: {status}")


def cards_across_pages(client: AuthenticatedClient, period: str) -> list[Scorecard]:
    cards: list[Scorecard] = []
    offset, pages = 0, 0
    while True:
        page = expect(
            f"cards of {period}, page {pages + 1}",
            scorecards_list.sync_detailed(client=client, period=period, limit=PAGE, offset=offset),
            200,
            PaginatedScorecardList,
        )
        pages += 1
        if pages == 1 and (page.count <= PAGE or not page.next_):
            fail("paging", f"{page.count} cards in pages of {PAGE} and next={page.next_!r}")
        if any(card.period != period for card in page.results):
            fail("paging", f"a card of another period on page {pages}")
        cards.extend(page.results)
        if not page.next_:
            break
        offset += PAGE
    ids = [card.id for card in cards]
    if len(ids) != page.count or len(set(ids)) != len(ids) or pages < 2:
        fail("paging", f"{len(ids)} cards ({len(set(ids))} distinct) in {pages} pages, "
                       f"count {page.count}")  # fmt: skip
    print(f"    {len(cards)} cards of {period} in {pages} pages")
    return cards


def lines_and_facts(client: AuthenticatedClient, card_id: int) -> Scorecard:
    card = expect(
        f"card {card_id}", scorecards_retrieve.sync_detailed(card_id, client=client), 200, Scorecard
    )
    if not card.lines:
        fail(f"card {card_id}", "it has no lines")
    weights = sum(float(line.weight) for line in card.lines)
    print(f"    {card.employee.name} ({card.employee.employee_id}): {len(card.lines)} lines, "
          f"weights {weights:.2f}, total {card.total}")  # fmt: skip
    with_facts = 0
    for line in card.lines:
        if not line.applicable:
            continue
        facts = expect(
            f"facts of {line.measure}",
            scorecards_lines_facts_retrieve.sync_detailed(card_id, line.measure, client=client),
            200,
            LineFacts,
        )
        if facts.rows:
            with_facts += 1
            print(f"    {line.measure}: {len(facts.rows)} fact rows ({facts.kind})")
            break
    if not with_facts:
        fail(f"facts of card {card_id}", "no applicable line has a fact behind it")
    return card


def incident_created_and_confirmed(client: AuthenticatedClient, employee_id: str, day: dt.date):
    body = IncidentCreateRequest(
        employee_id=employee_id,
        type_="misleading_sales",
        occurred_on=day,
        description="API client scenario: exaggerated the expected return",
    )
    created = expect(
        "create an incident",
        compliance_incidents_create.sync_detailed(client=client, body=body),
        201,
        Incident,
    )
    if created.status != "open" or created.employee_id != employee_id:
        fail("create an incident", f"status {created.status}, employee {created.employee_id}")
    reason = DecisionReasonRequest(reason="Recording reviewed: confirmed")
    confirmed = expect(
        f"confirm incident {created.id}",
        compliance_incidents_confirm_create.sync_detailed(created.id, client=client, body=reason),
        200,
        Incident,
    )
    if confirmed.status != "confirmed" or not confirmed.decided_by:
        fail("confirm", f"status {confirmed.status}, decided by {confirmed.decided_by!r}")
    # Deciding twice is a conflict, answered in the error envelope with its own code.
    again = compliance_incidents_confirm_create.sync_detailed(
        created.id, client=client, body=reason
    )
    error = expect("confirming twice is refused", again, 409, Error)
    if error.code in ("", "invalid"):
        fail("confirming twice is refused", f"a 409 with code {error.code!r}")


def pay_xlsx(client: AuthenticatedClient, period: str, employee_ids: set[str]) -> None:
    step = f"pay XLSX of {period}"
    download = expect(
        step,
        pay_adjustments_export_retrieve.sync_detailed(
            client=client, period=period, format_=PayAdjustmentsExportRetrieveFormat.XLSX
        ),
        200,
        File,
    )
    try:
        sheet = openpyxl.load_workbook(io.BytesIO(download.payload.read()), read_only=True).active
        rows = [[str(cell) for cell in row if cell is not None] for row in sheet.iter_rows(
            values_only=True)]  # fmt: skip
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the failure to report
        fail(step, f"not an XLSX openpyxl can read: {exc!r}")
    listed = {cell for row in rows for cell in row if cell in employee_ids}
    if listed != employee_ids:
        missing = sorted(employee_ids - listed)
        fail(step, f"{len(rows)} rows; RMs missing from the sheet: {missing[:10]}")
    print(f"    {len(rows)} rows, every one of the {len(employee_ids)} RMs listed")


def main() -> None:
    print(f"WealthScore at {BASE_URL}")
    wrong_password_is_a_typed_error()
    admin = log_in("admin")
    quarter = last_completed_quarter(admin)
    cards = cards_across_pages(admin, quarter)
    card = lines_and_facts(admin, cards[0].id)
    officer = log_in("compliance")
    incident_created_and_confirmed(officer, card.employee.employee_id, an_open_day(admin))
    pay_xlsx(log_in("hr"), quarter, {c.employee.employee_id for c in cards})
    print("scenario passed")


if __name__ == "__main__":
    main()
