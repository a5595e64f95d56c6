"""Stored messages are codes rendered in the reader's language; money follows the language;
an older row's sentence stays readable (issue 18.6)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import translation

from wealthscore.kernel import formats
from wealthscore.kernel.messages import REGISTRY, legacy, msg, render


def in_(language: str, value) -> str:
    with translation.override(language):
        return render(value)


def test_a_code_with_parameters_is_rendered_in_the_readers_language() -> None:
    stored = msg("no_manual_score", p="2026-Q3")
    assert stored == {"code": "no_manual_score", "params": {"p": "2026-Q3"}}
    assert in_("en", stored) == "no score entered for 2026-Q3"
    assert "2026-Q3" in in_("zh-hans", stored) and in_("zh-hans", stored) != in_("en", stored)


def test_a_message_inside_a_message_is_rendered_in_the_same_language() -> None:
    stored = msg("over_limits", why=msg("over_time", n="30"))
    assert in_("en", stored) == (
        "The file could not be read within the limits: it took longer than 30 seconds."
    )
    assert "30" in in_("zh-hans", stored) and "took" not in in_("zh-hans", stored)


def test_a_parameter_named_code_does_not_clash_with_the_messages_code() -> None:
    stored = msg("reader_exit_code", code=1, n=512)
    assert stored["code"] == "reader_exit_code" and stored["params"]["code"] == 1
    assert "exit code 1" in in_("en", stored)


def test_every_app_registers_its_codes_and_every_message_has_a_translation() -> None:
    # Imported by the apps' models: scoring's, the pipeline's and the org's codes are in.
    assert {"no_hnw_client", "unknown_employee_id", "position_in_app"} <= set(REGISTRY)
    with translation.override("zh-hans"):
        untranslated = [c for c, text in REGISTRY.items() if translation.gettext(text) == text]
    assert untranslated == []


@pytest.mark.parametrize("stored_as", ["en", "zh-hans"])
def test_an_older_rows_sentence_of_a_known_message_is_read_in_the_readers_language(stored_as):
    with translation.override(stored_as):
        sentence = translation.gettext("no HNW client")
    assert in_("en", legacy(sentence)) == "no HNW client"
    assert in_("zh-hans", legacy(sentence)) == in_("zh-hans", msg("no_hnw_client"))


def test_an_older_rows_sentence_with_parameters_is_read_back_in_the_readers_language() -> None:
    with translation.override("zh-hans"):
        sentence = translation.gettext("no score entered for %(p)s") % {"p": "2026-Q3"}
    assert in_("en", legacy(sentence)) == "no score entered for 2026-Q3"
    assert in_("zh-hans", legacy(sentence)) == sentence
    older = "Loaded 48 rows (0 replaced). 3 compliance warning(s) raised."
    assert in_("zh-hans", legacy(older)) == in_(
        "zh-hans", msg("loaded_with_warnings", n=48, r=0, w=3)
    )


def test_an_older_rows_other_sentence_is_kept_as_it_was_written() -> None:
    text = "没有高净值客户（2026-Q3 手工核对）"
    assert in_("en", legacy(text)) == text and in_("en", text) == text
    assert in_("en", "") == "" and in_("en", None) == ""
    assert in_("en", {"code": "a_code_of_a_newer_build", "params": {}}) == "a_code_of_a_newer_build"


@pytest.mark.parametrize(
    ("amount", "zh", "en"),
    [
        ("1234.567", "1,234.57 元", "1,234.57"),
        ("150000", "15.00 万元", "150.00 K"),
        ("853200", "85.32 万元", "853.20 K"),
        ("3680000", "368.00 万元", "3.68 M"),
        ("-3680000", "-368.00 万元", "-3.68 M"),
        ("472000000", "4.72 亿元", "472.00 M"),
        ("4720000000", "47.20 亿元", "4.72 B"),
        (None, "—", "—"),
    ],
)
def test_money_follows_the_language(amount, zh, en) -> None:
    value = None if amount is None else Decimal(amount)
    with translation.override("zh-hans"):
        assert formats.yuan(value) == zh
    with translation.override("en"):
        assert formats.yuan(value) == en


def test_pay_stays_exact_to_the_fen_in_both_languages() -> None:
    for language in ("zh-hans", "en"):
        with translation.override(language):
            assert formats.payroll(Decimal("1234567.891")) == "1,234,567.89 元"


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_an_older_batchs_sentences_as_legacy_messages() -> None:
    executor = MigrationExecutor(connection)
    before, after = [("crm", "0008_nightly_runs")], [("crm", "0009_batch_message_codes")]
    executor.migrate(before)
    old = executor.loader.project_state(before).apps.get_model("crm", "ImportBatch")
    row = old.objects.create(
        kind="sales", file_name="sales.csv", sha256="0" * 64, status="rejected",
        message="1 处错误，未导入任何数据。请修正文件后重新导入。",
        errors=[{"row": 2, "column": "金额", "value": "abc", "reason": "不是数字"}],
    )  # fmt: skip
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    from crm.models import ImportBatch

    batch = ImportBatch.objects.get(pk=row.pk)
    assert batch.notice == legacy("1 处错误，未导入任何数据。请修正文件后重新导入。")
    assert batch.row_errors == [
        {"row": 2, "column": "金额", "value": "abc", "reason": legacy("不是数字")}
    ]
    with translation.override("zh-hans"):
        assert batch.message == "1 处错误，未导入任何数据。请修正文件后重新导入。"
        assert batch.errors[0]["reason"] == "不是数字"
    with translation.override("en"):
        # Known messages are read in English, their figures read back out of the sentence.
        assert batch.errors[0]["reason"] == "not a number"
        assert batch.message == (
            "1 error(s); nothing was loaded. Correct the file and import it again."
        )


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_an_older_lines_reason_as_a_legacy_message(bank) -> None:
    from scorecards.models import ScoreLine
    from scorecards.runs.services import score_period

    score_period(period_code="2026-09", trigger="test")  # no facts: lines not applicable
    executor = MigrationExecutor(connection)
    before = [("scorecards", "0013_exact_figures")]
    executor.migrate(before)
    old = executor.loader.project_state(before).apps.get_model("scorecards", "ScoreLine")
    old.objects.exclude(reason="").update(reason="问卷回复少于 5 份")
    kept = old.objects.exclude(reason="").count()
    assert kept
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    lines = ScoreLine.objects.exclude(reason_code="")
    assert lines.count() == kept
    assert {(line.reason_code, line.reason_params["text"]) for line in lines} == {
        ("legacy", "问卷回复少于 5 份")
    }
    line = lines.first()
    with translation.override("en"):
        assert line.reason == "fewer than 5 responses"
    with translation.override("zh-hans"):
        assert line.reason == "问卷回复少于 5 份"
