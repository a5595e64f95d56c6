"""Inquiries (申诉, SPEC §8; issue 17 item 5): an RM questions a line of her published card
within the scheme's window; her manager, compliance or an admin answers; the answer shows on
the line; open inquiries are on the close board. Role × scope as everywhere."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from scorecards.models import Inquiry, ManualScore, Period, ScoreRun
from scorecards.runs import services as run_services
from scorecards.schemes import services as scheme_services
from tests.conftest import WHO
from wealthscore.models import AuditEntry

API = "/api/v1/inquiries/"


@pytest.fixture
def scored(bank):
    scheme_services.install_default_scheme()
    for key in ("rm_alice", "rm_dan", "rm_bob"):
        ManualScore.objects.create(period="2026-Q3", employee=bank.employees[key],
                                   measure="mentoring", score=Decimal(80))  # fmt: skip
    run_services.score_period(period_code="2026-Q3", trigger="test")
    return bank


def raise_one(bank, who="rm_alice", measure="mentoring", text="委员会评分有误"):
    return bank.client(who).post(API, {"period": "2026-Q3", "measure": measure, "text": text},
                                 format="json")  # fmt: skip


def test_an_rm_questions_a_line_and_her_manager_answers_it(scored):
    bank = scored
    raised = raise_one(bank)
    assert raised.status_code == 201, raised.content
    pk = raised.data["id"]
    assert raised.data["status"] == "open" and raised.data["unit_code"] == "A1"
    again = raise_one(bank)
    assert again.status_code == 409 and again.data["code"] == "inquiry_open"
    assert raise_one(bank, measure="no_such_line").status_code == 404
    assert raise_one(bank, who="manager_a").status_code == 403

    answer = f"{API}{pk}/answer/"
    vague = bank.client("manager_a").post(answer, {"accepted": True, "answer": "补录"},
                                          format="json")  # fmt: skip
    assert vague.status_code == 400 and "outcome" in vague.data["fields"]
    assert bank.client("manager_b").post(answer, {"accepted": False, "answer": "x"},
                                         format="json").status_code == 404  # fmt: skip
    assert bank.client("rm_alice").post(answer, {"accepted": False, "answer": "x"},
                                        format="json").status_code == 403  # fmt: skip
    done = bank.client("manager_a").post(
        answer, {"accepted": True, "answer": "已更正委员会评分", "outcome": "manual_score"},
        format="json",
    )  # fmt: skip
    assert done.status_code == 200
    assert done.data["status"] == "accepted" and done.data["outcome"] == "manual_score"
    twice = bank.client("admin").post(answer, {"accepted": False, "answer": "x"}, format="json")
    assert twice.status_code == 409
    assert list(
        AuditEntry.objects.filter(object_type="inquiry").order_by("id").values_list("action")
    ) == [("inquiry.raise",), ("inquiry.answer",)]
    # The RM reads the answer on the line of her card.
    page = Client(headers={"accept-language": "en"})
    page.force_login(bank.users["rm_alice"])
    html = page.get("/me/", {"period": "2026-Q3"}).content.decode()
    line = html.split('data-testid="inquiry-mentoring"')[1].split("</div>")[0]
    assert 'data-status="accepted"' in line
    assert "已更正委员会评分" in html


def test_the_window_closes_days_after_the_cards_appear(scored):
    bank = scored
    ScoreRun.objects.filter(period__code="2026-Q3").update(
        finished_at=timezone.now() - dt.timedelta(days=11)
    )
    late = raise_one(bank)
    assert late.status_code == 409 and late.data["code"] == "inquiry_window_closed"
    assert not Inquiry.objects.exists()


@pytest.mark.parametrize("who", WHO)
def test_who_sees_which_inquiries(scored, who):
    bank = scored
    raise_one(bank)
    raise_one(bank, who="rm_bob")
    client = bank.client(None if who == "anonymous" else who)
    listed = client.get(API)
    if who == "anonymous":
        assert listed.status_code == 401
        return
    seen = {row["employee_id"] for row in listed.data["results"]}
    assert seen == {
        "rm_alice": {"000101"}, "manager_a": {"000101"}, "manager_b": {"000201"}, "hr": set(),
        "compliance": {"000101", "000201"}, "admin": {"000101", "000201"},
    }[who]  # fmt: skip
    page = Client()
    page.force_login(bank.users[who])
    expected = 200 if who in ("manager_a", "manager_b", "compliance", "admin") else 404
    assert page.get("/inquiries/").status_code == expected


def test_open_inquiries_are_on_the_close_board(scored):
    bank = scored
    raise_one(bank)
    board = (
        bank.client("admin")
        .get("/api/v1/periods/2026-Q3/units/", HTTP_ACCEPT_LANGUAGE="en")
        .data["units"]
    )
    counts = {u["unit_code"]: u["checklist"]["open_inquiries"] for u in board}
    assert counts == {"A": 1, "B": 0}
    a = next(u for u in board if u["unit_code"] == "A")
    assert any("inquir" in item for item in a["checklist"]["open_items"])
    assert Period.objects.get(code="2026-Q3").status == "open"


def test_an_answer_from_the_page(scored):
    bank = scored
    pk = raise_one(bank).data["id"]
    page = Client(headers={"accept-language": "en"})
    page.force_login(bank.users["compliance"])
    assert f'data-inquiry-id="{pk}"' in page.get("/inquiries/").content.decode()
    done = page.post(f"/inquiries/{pk}/answer/", {"accepted": "no", "answer": "评分无误"})
    assert done.status_code == 302
    assert Inquiry.objects.get(pk=pk).status == "rejected"


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_an_inquiry_carries_a_supporting_file_seen_only_by_who_sees_it(scored, settings,
                                                                        tmp_path):  # fmt: skip
    """SPEC §8: a text and an optional file. The file is checked as evidence is (a hostile
    one raises nothing), stored under a generated name, and downloaded, audited, by whoever
    sees the inquiry: out of scope is 404."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = str(tmp_path / "media")
    bank = scored
    page = Client(headers={"accept-language": "en"})
    page.force_login(bank.users["rm_alice"])
    hostile = page.post("/me/inquiries/", {
        "period": "2026-Q3", "measure": "mentoring", "text": "见附件",
        "attachment": SimpleUploadedFile("../../评分表.pdf.exe", b"MZ\x90\x00"),
    }, follow=True)  # fmt: skip
    assert "Attachment must be one of .docx, .jpeg" in hostile.content.decode()
    assert not Inquiry.objects.exists()
    disguised = page.post("/me/inquiries/", {
        "period": "2026-Q3", "measure": "mentoring", "text": "见附件",
        "attachment": SimpleUploadedFile("截图.png", PDF),
    }, follow=True)  # fmt: skip
    assert "is not a PNG file" in disguised.content.decode()
    assert not Inquiry.objects.exists()

    sent = page.post("/me/inquiries/", {
        "period": "2026-Q3", "measure": "mentoring", "text": "见附件",
        "attachment": SimpleUploadedFile("../委员会评分表.pdf", PDF),
    })  # fmt: skip
    assert sent.status_code == 302
    inquiry = Inquiry.objects.get()
    assert inquiry.attachment_name == "委员会评分表.pdf"
    assert ".." not in inquiry.attachment.name and inquiry.attachment.name.endswith(".pdf")
    html = page.get("/me/", {"period": "2026-Q3"}).content.decode()
    assert f"/api/v1/inquiries/{inquiry.pk}/attachment/" in html

    url = f"{API}{inquiry.pk}/attachment/"
    for who, expected in (
        ("rm_alice", 200),
        ("manager_a", 200),
        ("compliance", 200),
        ("admin", 200),
        ("manager_b", 404),
        ("rm_bob", 404),
        ("hr", 404),
    ):
        got = bank.client(who).get(url)
        assert got.status_code == expected, who
        if expected == 200:
            assert b"".join(got.streaming_content) == PDF
    assert Client().get(url).status_code in {401, 403}
    opened = AuditEntry.objects.filter(action="inquiry.attachment_open", object_id=str(inquiry.pk))
    assert opened.count() == 4
    listed = bank.client("manager_a").get(API).data["results"][0]
    assert listed["has_attachment"] is True and listed["attachment_name"] == "委员会评分表.pdf"
    # Through the API: raised from JSON, its file sent on its own, once, by her alone.
    dan = raise_one(bank, who="rm_dan").data["id"]
    send = f"{API}{dan}/attachment/"
    assert bank.client("manager_a").post(send, {"attachment": SimpleUploadedFile(
        "x.pdf", PDF)}, format="multipart").status_code == 403  # fmt: skip
    sent = bank.client("rm_dan").post(send, {"attachment": SimpleUploadedFile("说明.pdf", PDF)},
                                      format="multipart")  # fmt: skip
    assert sent.status_code == 201 and sent.data["has_attachment"] is True, sent.content
    again = bank.client("rm_dan").post(send, {"attachment": SimpleUploadedFile("y.pdf", PDF)},
                                       format="multipart")  # fmt: skip
    assert again.status_code == 409 and again.data["code"] == "attachment_exists"
    assert bank.client("rm_alice").post(send, {"attachment": SimpleUploadedFile(
        "z.pdf", PDF)}, format="multipart").status_code == 404  # fmt: skip
