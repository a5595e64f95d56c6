"""The schemes page (/schemes/) and the weights editor (/schemes/<pk>/): administrators only;
the editor refuses what the services refuse and keeps what was typed; the preview saves
nothing; period approval and reopening with a reason; what each version changed."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.test import Client

from scorecards.models import (
    Kpi,
    ManualScore,
    Period,
    SchemeVersion,
    Scorecard,
    ScoreLine,
    ScoreRun,
)
from scorecards.periods import services as period_services
from scorecards.runs import services as run_services
from scorecards.schemes import services as scheme_services
from tests.conftest import WHO, approve_period
from wealthscore.kernel.errors import ConflictError
from wealthscore.models import AuditEntry

# Manual scores that rank the three RMs one way under the default weights and another way
# once mentoring weighs more: dan 75, bob 70, alice 60 → bob, alice, dan.
SCORES = {
    "rm_alice": {"mentoring": 80, "collaboration": 40},
    "rm_dan": {"mentoring": 60, "collaboration": 90},
    "rm_bob": {"mentoring": 70, "collaboration": 70},
}


@pytest.fixture
def scored(bank):
    """September 2026 scored for the bank's three RMs, and a draft copied from v1."""
    scheme_services.install_default_scheme()
    for key, scores in SCORES.items():
        for measure, score in scores.items():
            ManualScore.objects.create(
                period="2026-Q3", employee=bank.employees[key], measure=measure,
                score=Decimal(score),
            )  # fmt: skip
    run_services.score_period(period_code="2026-09", trigger="test")
    published = SchemeVersion.objects.get(status="published")
    draft = scheme_services.scheme_draft_create(base=published, actor=bank.users["admin"])
    return {"published": published, "draft": draft}


def page_client(bank, who: str) -> Client:
    # Read in English, so that assertions do not depend on the Chinese catalogue.
    client = Client(headers={"accept-language": "en"})
    if who != "anonymous":
        client.force_login(bank.users[who])
    return client


def weights_of(version: SchemeVersion) -> dict[str, str]:
    """The editor's form as the page fills it: every weight and share, as stored."""
    data = {"effective_from": version.effective_from.isoformat()}
    for kpi in Kpi.objects.filter(version=version).prefetch_related("measures"):
        data[f"kpi-{kpi.code}-weight"] = f"{kpi.weight:.2f}"
        for m in kpi.measures.all():
            data[f"measure-{m.measure}-share"] = f"{m.share:.2f}"
    return data


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def error_after(html: str, name: str) -> str | None:
    """The field error shown right after the input named `name`."""
    found = re.search(rf'name="{name}"[^>]*>\s*<p class="field-error">(.*?)</p>', html, re.S)
    return found.group(1).strip() if found else None


def stored_weights(version: SchemeVersion) -> dict[str, Decimal]:
    return dict(Kpi.objects.filter(version=version).values_list("code", "weight"))


# ---------------------------------------------------------------- who sees the pages
@pytest.mark.parametrize("who", WHO)
def test_schemes_pages_exist_for_admins_only(bank, scored, who):
    client = page_client(bank, who)
    urls = ["/schemes/", f"/schemes/{scored['published'].pk}/", f"/schemes/{scored['draft'].pk}/",
            f"/schemes/{scored['draft'].pk}/?period=2026-09"]  # fmt: skip
    codes = [client.get(url).status_code for url in urls]
    new_draft = client.post("/schemes/", {"action": "new_draft"})
    urls.append("/schemes/periods/2026-09/")
    codes.append(client.get(urls[-1]).status_code)
    period_services.units_transition(
        period=Period.objects.get(code="2026-09"), unit_codes=["A", "B"], action="submit",
        actor=bank.users["admin"],
    )  # fmt: skip
    confirmed = {"action": "approve", "unit": ["A", "B"], "confirm": "on", "reason": "委员会已确认"}
    approve = client.post("/schemes/periods/2026-09/", confirmed)
    save = client.post(f"/schemes/{scored['draft'].pk}/", {**weights_of(scored["draft"]),
                                                            "action": "publish"})  # fmt: skip
    if who == "anonymous":
        assert codes == [302] * 5
        assert client.get("/schemes/")["Location"].startswith("/login/")
        assert {new_draft.status_code, approve.status_code, save.status_code} == {302}
    elif who == "admin":
        assert codes == [200] * 5
        assert (new_draft.status_code, approve.status_code, save.status_code) == (302, 302, 302)
    else:
        assert codes == [404] * 5
        assert (new_draft.status_code, approve.status_code, save.status_code) == (404, 404, 404)
    changed = who == "admin"
    assert SchemeVersion.objects.count() == (3 if changed else 2)
    assert Period.objects.get(code="2026-09").status == ("approved" if changed else "in_review")
    assert SchemeVersion.objects.get(pk=scored["draft"].pk).status == (
        "published" if changed else "draft"
    )


def test_an_unknown_version_is_404(bank, scored):
    assert page_client(bank, "admin").get("/schemes/99999/").status_code == 404


# ---------------------------------------------------------------- the history
def test_the_history_lists_every_version_with_its_weights_total(bank, scored):
    response = page_client(bank, "admin").get("/schemes/")
    html = response.content.decode()
    assert 'data-testid="version-history"' in html
    for version in (scored["published"], scored["draft"]):
        row = re.search(
            rf'<tr data-version="{version.pk}" data-status="(\w+)">(.*?)</tr>\s*(?=<tr|</tbody>)',
            html,
            re.S,
        )  # noqa: E501
        assert row, version
        assert row.group(1) == version.status
        assert "100.00" in row.group(2)
    assert 'data-testid="new-draft"' in html and 'data-testid="in-force"' in html


def test_the_history_shows_what_a_version_changed_against_its_base(bank, scored):
    client = page_client(bank, "admin")
    draft = scored["draft"]
    form = weights_of(draft) | {
        "kpi-sales-weight": "15.02",
        "kpi-mentoring-weight": "10.00",
        "measure-aum_net_growth-share": "50.00",
        "measure-aum_existing_uplift-share": "50.00",
        "action": "save",
    }
    assert client.post(f"/schemes/{draft.pk}/", form).status_code == 302
    html = client.get("/schemes/").content.decode()
    diff = html[html.index(f'data-version="{draft.pk}"') :].split("</details>")[0]
    assert "4 changes against v1" in diff
    text = re.sub(r"<[^>]+>", " ", diff)
    text = re.sub(r"\s+", " ", text)
    assert "Weight of 产品销售达成率 (sales) 21.45 → 15.02" in text
    assert "Weight of 知识分享与带教 (mentoring) 3.57 → 10.00" in text
    # The measure in the reader's language (the KPIs' names are the scheme's own, data).
    assert "Net AUM growth (aum_net_growth): share of the KPI (%) 60.00 → 50.00" in text
    assert "(aum_existing_uplift): share of the KPI (%) 40.00 → 50.00" in text
    # The first version has no base, so no diff.
    first = html[html.index(f'data-version="{scored["published"].pk}"') :].split("</tr>")[0]
    assert "<details" not in first


def test_new_draft_copies_the_version_in_force(bank, scored):
    client = page_client(bank, "admin")
    response = client.post("/schemes/", {"action": "new_draft"})
    draft = SchemeVersion.objects.order_by("-number").first()
    assert response.status_code == 302 and response["Location"] == f"/schemes/{draft.pk}/"
    assert draft.status == "draft" and draft.based_on_id == scored["published"].pk
    assert stored_weights(draft) == stored_weights(scored["published"])


# ---------------------------------------------------------------- the weights editor
def test_the_editor_shows_every_weight_and_share_and_a_live_total(bank, scored):
    draft = scored["draft"]
    response = page_client(bank, "admin").get(f"/schemes/{draft.pk}/")
    html = response.content.decode()
    assert 'data-testid="weights-form"' in html
    assert re.search(r'data-testid="weights-total"[^>]*>100\.00<', html)
    assert "js/schemes" in html  # the script that keeps the total up to date
    for name, value in weights_of(draft).items():
        assert re.search(rf'name="{name}" value="{value}"', html), name
    assert 'name="action" value="save"' in html and 'name="action" value="publish"' in html
    assert 'data-share-total="aum"' in html  # a KPI with two measures shows their sum


def test_publishing_99_is_refused_naming_the_total_and_keeps_what_was_typed(bank, scored):
    client = page_client(bank, "admin")
    draft = scored["draft"]
    before = stored_weights(draft)
    audits = AuditEntry.objects.count()
    form = weights_of(draft) | {"kpi-sales-weight": "20.45", "effective_from": "2026-07-01",
                                "action": "publish"}  # fmt: skip
    response = client.post(f"/schemes/{draft.pk}/", form)
    assert response.status_code == 400
    html = response.content.decode()
    error = re.search(r'data-testid="form-error">(.*?)</div>', html, re.S).group(1)
    assert "99.00" in error
    assert 'name="kpi-sales-weight" value="20.45"' in html
    assert 'name="effective_from" value="2026-07-01"' in html
    assert re.search(r'data-testid="weights-total"[^>]*>99\.00<', html)
    # Publishing is one act: refused, it saved nothing either.
    draft.refresh_from_db()
    assert draft.status == "draft" and stored_weights(draft) == before
    assert str(draft.effective_from) == "2026-01-01"
    assert AuditEntry.objects.count() == audits


def test_a_draft_saves_at_99_and_then_says_why_it_cannot_be_published(bank, scored):
    client = page_client(bank, "admin")
    draft = scored["draft"]
    form = weights_of(draft) | {"kpi-sales-weight": "20.45", "action": "save"}
    response = client.post(f"/schemes/{draft.pk}/", form)
    assert response.status_code == 302 and response["Location"] == f"/schemes/{draft.pk}/"
    assert stored_weights(draft)["sales"] == Decimal("20.45")
    html = client.get(f"/schemes/{draft.pk}/").content.decode()
    assert "KPI weights total 99.00, not 100.00." in html
    assert re.search(r'data-testid="weights-total"[^>]*>99\.00<', html)


def test_publishing_100_saves_publishes_and_lists_the_version(bank, scored):
    client = page_client(bank, "admin")
    draft = scored["draft"]
    form = weights_of(draft) | {"kpi-sales-weight": "15.02", "kpi-mentoring-weight": "10.00",
                                "action": "publish"}  # fmt: skip
    response = client.post(f"/schemes/{draft.pk}/", form)
    assert response.status_code == 302 and response["Location"] == "/schemes/"
    draft.refresh_from_db()
    assert draft.status == "published" and draft.published_by == bank.users["admin"]
    assert stored_weights(draft)["mentoring"] == Decimal("10.00")
    html = client.get("/schemes/").content.decode()
    assert f'<tr data-version="{draft.pk}" data-status="published">' in html
    assert "Version v2 is published." in html


def test_a_value_that_is_not_a_number_is_shown_next_to_its_field(bank, scored):
    client = page_client(bank, "admin")
    draft = scored["draft"]
    before = stored_weights(draft)
    form = weights_of(draft) | {"measure-nps-share": "abc", "kpi-sales-weight": "120",
                                "action": "save"}  # fmt: skip
    response = client.post(f"/schemes/{draft.pk}/", form)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'name="measure-nps-share" value="abc"' in html
    assert 'name="kpi-sales-weight" value="120"' in html
    assert error_after(html, "measure-nps-share") == "A valid number is required."
    assert error_after(html, "kpi-sales-weight") == (
        "Ensure this value is less than or equal to 100."
    )
    assert 'data-testid="form-error"' in html
    assert stored_weights(draft) == before


def test_a_published_version_is_read_only(bank, scored):
    client = page_client(bank, "admin")
    published = scored["published"]
    html = client.get(f"/schemes/{published.pk}/").content.decode()
    assert 'data-testid="read-only"' in html
    assert 'value="publish"' not in html and 'value="save"' not in html
    assert re.search(r'name="kpi-sales-weight" value="21.45"[^>]*readonly', html)
    form = weights_of(published) | {"kpi-sales-weight": "20.00", "action": "save"}
    response = client.post(f"/schemes/{published.pk}/", form)
    assert response.status_code == 409
    assert "published and frozen" in response.content.decode()
    assert stored_weights(published)["sales"] == Decimal("21.45")


# ---------------------------------------------------------------- the what-if preview
def test_the_preview_shows_who_moves_and_writes_nothing(bank, scored):
    client = page_client(bank, "admin")
    draft = scored["draft"]
    form = weights_of(draft) | {"kpi-sales-weight": "15.02", "kpi-mentoring-weight": "10.00",
                                "action": "save"}  # fmt: skip
    client.post(f"/schemes/{draft.pk}/", form)
    counts = [m.objects.count() for m in (Scorecard, ScoreRun, ScoreLine, Period, AuditEntry)]
    page = client.get(f"/schemes/{draft.pk}/")
    assert 'data-testid="preview-form"' in page.content.decode()
    assert re.search(r'<option value="2026-09"', page.content.decode())
    response = client.get(f"/schemes/{draft.pk}/", {"period": "2026-09"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="preview-table"' in html
    rows = re.findall(r'<tr data-employee="(\d+)">(.*?)</tr>', html, re.S)
    cells = {
        employee: [
            re.sub(r"<[^>]+>|\s+", " ", c).strip()
            for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]  # noqa: E501
        for employee, row in rows
    }
    expected = scheme_services.scheme_preview(version=draft, period_code="2026-09")["rows"]
    assert set(cells) == {"000101", "000102", "000201"}
    for row in expected:
        shown = cells[row["employee_id"]]
        assert shown[2] == str(row["rank_before"]) and shown[4] == str(row["rank_after"])
    # Sorted by the size of the change: alice +14.54, bob +7.83, dan +2.52 (who drops from
    # first place to third).
    assert [employee for employee, _row in rows] == ["000101", "000201", "000102"]
    assert cells["000101"][5] == "+14.54" and cells["000101"][6] == "▲ 1"
    assert cells["000102"][6] == "▼ 2"
    summary = text_of(html.split('data-testid="preview-summary"')[1].split("</div>")[0])
    assert "2 move up" in summary and "1 moves down" in summary
    assert "Largest gain: 张晓三 000101 +14.54 (42.86 → 57.40)" in summary
    assert "Largest loss" not in summary  # every total rose
    assert [
        m.objects.count() for m in (Scorecard, ScoreRun, ScoreLine, Period, AuditEntry)
    ] == counts


def test_the_preview_refuses_a_period_without_scores(bank, scored):
    client = page_client(bank, "admin")
    runs = ScoreRun.objects.count()
    response = client.get(f"/schemes/{scored['draft'].pk}/", {"period": "2026-08"})
    assert response.status_code == 400
    assert 'data-testid="preview-error"' in response.content.decode()
    assert 'data-testid="preview-table"' not in response.content.decode()
    assert ScoreRun.objects.count() == runs


# ---------------------------------------------------------------- period control
def _submit_all(bank, code: str = "2026-09") -> None:
    period_services.units_transition(
        period=Period.objects.get(code=code), unit_codes=["A", "B"], action="submit",
        actor=bank.users["admin"],
    )  # fmt: skip


def _board_row(html: str, unit: str) -> str:
    return html.split(f'data-unit="{unit}"')[1].split("</tr>")[0]


def test_the_close_board_approves_the_branches_then_the_period_reopens_with_a_reason(bank, scored):
    client = page_client(bank, "admin")
    html = client.get("/schemes/").content.decode()
    assert 'data-testid="periods"' in html and 'data-testid="board-2026-09"' in html
    _submit_all(bank)
    board = client.get("/schemes/periods/2026-09/").content.decode()
    assert 'data-testid="close-board"' in board and 'data-testid="last-import"' in board
    # The checklist: three RMs, each with manual measures the scheme has but SCORES lacks.
    row = _board_row(board, "A")
    assert 'data-status="in_review"' in row and 'data-testid="select-A"' in row
    blind = client.post("/schemes/periods/2026-09/", {"action": "approve", "unit": ["A"]})
    assert blind.status_code == 409
    assert "Open items remain" in blind.content.decode()
    assert 'data-testid="board-error"' in blind.content.decode()
    confirmed = {"action": "approve", "unit": ["A", "B"], "confirm": "on", "reason": "委员会已确认"}
    done = client.post("/schemes/periods/2026-09/", confirmed)
    assert done.status_code == 302
    period = Period.objects.get(code="2026-09")
    assert period.status == "approved" and period.changed_by == bank.users["admin"]
    html = client.get("/schemes/").content.decode()
    row = html[html.index('data-period="2026-09"') :].split("</tr>")[0]
    assert 'data-status="approved"' in row and 'data-testid="reopen-2026-09"' in row

    refused = client.post("/schemes/", {"action": "reopen", "period": "2026-09", "reason": " "})
    assert refused.status_code == 400
    row = refused.content.decode().split('data-period="2026-09"')[1].split("</tr>")[0]
    assert "Reopening a period needs a reason." in row
    assert Period.objects.get(code="2026-09").status == "approved"

    reason = "补录投诉 <复核>"
    done = client.post("/schemes/", {"action": "reopen", "period": "2026-09", "reason": reason})
    assert done.status_code == 302
    assert Period.objects.get(code="2026-09").status == "open"
    entry = AuditEntry.objects.filter(action="period.reopen").get()
    assert entry.reason == reason and entry.actor == bank.users["admin"]


def test_a_branch_is_sent_back_from_the_board_with_a_reason(bank, scored):
    client = page_client(bank, "admin")
    _submit_all(bank)
    refused = client.post("/schemes/periods/2026-09/", {"action": "send_back", "unit": "A",
                                                        "reason": ""})  # fmt: skip
    assert refused.status_code == 400
    done = client.post("/schemes/periods/2026-09/", {"action": "send_back", "unit": "A",
                                                     "reason": "营销积分未录入"})  # fmt: skip
    assert done.status_code == 302
    board = client.get("/schemes/periods/2026-09/").content.decode()
    row = _board_row(board, "A")
    assert 'data-status="open"' in row and "营销积分未录入" in row
    assert 'data-status="in_review"' in _board_row(board, "B")


def test_a_refused_transition_is_shown_at_its_row_and_keeps_the_reason(bank, scored):
    client = page_client(bank, "admin")
    response = client.post(
        "/schemes/", {"action": "reopen", "period": "2026-09", "reason": "查 <b>复核</b>"}
    )
    assert response.status_code == 409  # an open period cannot be reopened
    row = response.content.decode().split('data-period="2026-09"')[1].split("</tr>")[0]
    assert 'data-testid="period-error"' in row and "2026-09 is Open" in row
    # An approved period whose reason is too long: refused at the row, what was typed kept.
    approve_period(Period.objects.get(code="2026-09"), bank.users["admin"])
    reason = "查 <b>复核</b>" + "。" * 2000
    response = client.post("/schemes/", {"action": "reopen", "period": "2026-09", "reason": reason})
    assert response.status_code == 400
    row = response.content.decode().split('data-period="2026-09"')[1].split("</tr>")[0]
    assert 'data-testid="period-error"' in row and "2000 characters" in row
    assert 'value="查 &lt;b&gt;复核&lt;/b&gt;。。' in row
    assert Period.objects.get(code="2026-09").status == "approved"


def test_a_period_without_scores_cannot_be_submitted(bank, scored):
    period = period_services.period_get_or_create("2026-08")
    with pytest.raises(ConflictError) as refused:
        period_services.units_transition(
            period=period, unit_codes=["A"], action="submit", actor=bank.users["manager_a"]
        )
    assert refused.value.code == "no_scores"
    assert Period.objects.get(code="2026-08").status == "open"


def test_an_unknown_period_is_404(bank, scored):
    client = page_client(bank, "admin")
    assert client.get("/schemes/periods/1999/").status_code == 404
    assert client.post("/schemes/", {"action": "reopen", "period": "1999"}).status_code == 404


# ---------------------------------------------------------------- queries
def test_the_pages_read_in_a_bounded_number_of_queries(bank, scored, django_assert_max_num_queries):
    client = page_client(bank, "admin")
    for _n in range(3):
        scheme_services.scheme_draft_create(base=scored["published"], actor=bank.users["admin"])
    for code in ("2026-07", "2026-08", "2026-10"):
        period_services.period_get_or_create(code)
    with django_assert_max_num_queries(13):  # 12, and the periods with a branch locked
        assert client.get("/schemes/").status_code == 200
    # The board: a fixed number, whatever the number of branches and RMs
    # (tests/scorecards/test_period_units.py counts them for more branches).
    with django_assert_max_num_queries(17):  # 16, and the open inquiries
        assert client.get("/schemes/periods/2026-09/").status_code == 200
    with django_assert_max_num_queries(14):
        assert client.get(f"/schemes/{scored['draft'].pk}/").status_code == 200
