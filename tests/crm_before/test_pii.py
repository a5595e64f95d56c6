"""Minimum necessary (PIPL, issue 14): after an import, loaded or rejected, no file under
MEDIA_ROOT and no database row holds the ID numbers, phones and addresses the file carried,
and a client's name appears only masked in row errors; files past their retention go."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest
from django.core.management import call_command

from crm import services
from crm.models import BatchStatus, ImportBatch

HEADER = (
    "数据日期,客户号,客户姓名,身份证号,手机号码,联系地址,管户经理工号,管户机构号,产品类别,余额,"
    "客户风险等级"
)
ID_NUMBER, PHONE, ADDRESS = "110101199003078888", "13812345678", "北京市朝阳区建国路88号"
LONG_NAME = "欧阳" + "娜" * 120 + "丽"  # too long: a row error on the client's name
SECRETS = [ID_NUMBER, PHONE, ADDRESS, "199003078888", "建国路88号"]


def row(client: str, name: str, balance: str = "100.00") -> str:
    return f"2026-09-30,{client},{name},{ID_NUMBER},{PHONE},{ADDRESS},000101,A1,存款,{balance},C2"


GOOD = "\n".join([HEADER, row("0000000001", "张三丰"), row("0000000002", "李四")]) + "\n"
BAD = (
    "\n".join(
        [
            HEADER,
            row("0000000001", LONG_NAME),
            row("0000000002", "王五", balance="12.345"),
            # One field too many: an invalid CSV row, whose raw text holds every PII column.
            row("0000000003", "赵六") + ",多余",
        ]
    )
    + "\n"
)


def files_holding(root: Path, needles: list[str]) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for needle in needles:
                if needle.encode("utf-8") in data or needle.encode("gb18030") in data:
                    found.append(f"{path}: {needle}")
    return found


def database_dump() -> str:
    out = io.StringIO()
    call_command("dumpdata", "--natural-foreign", stdout=out)
    return out.getvalue().encode("utf-8").decode("unicode_escape", "replace")


@pytest.fixture
def media(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


def named_upload(text: str, name: str) -> io.BytesIO:
    handle = io.BytesIO(text.encode("gb18030"))
    handle.name = name
    return handle


def test_no_pii_survives_a_loaded_and_a_rejected_upload(
    bank, media: Path, django_capture_on_commit_callbacks
) -> None:
    client = bank.client("hr")
    bodies = []
    for name, text in [("holdings_2026-09-30.csv", GOOD), ("holdings_bad.csv", BAD)]:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/api/v1/imports/", {"kind": "holdings", "file": named_upload(text, name)}
            )
        assert response.status_code == 202, response.content
        bodies.append(client.get(f"/api/v1/imports/{response.json()['id']}/").json())
    loaded, rejected = bodies
    assert loaded["status"] == "loaded" and rejected["status"] == "rejected"

    # The stored uploads are gone with their folders; the batches keep SHA-256 and size.
    assert files_holding(media, SECRETS + [LONG_NAME, "张三丰"]) == []
    assert not [p for p in (media / "imports").rglob("*") if p.is_file()]
    for batch in ImportBatch.objects.all():
        assert batch.stored_path == "" and len(batch.sha256) == 64 and batch.size_bytes > 0

    # Row errors: the column, the reason, a masked name; never the invalid row's text.
    errors = {(e["row"], e["column"]): e for e in rejected["errors"]}
    assert errors[(2, "客户姓名")]["value"].startswith("欧" + "*" * 10)
    assert "娜" not in errors[(2, "客户姓名")]["value"]
    assert errors[(4, None)]["value"] is None and "12" in errors[(4, None)]["reason"]
    body = str(rejected)
    assert not [secret for secret in SECRETS if secret in body]
    assert set(loaded["dropped_columns"]) == {"身份证号", "手机号码", "联系地址"}

    dump = database_dump()
    assert not [secret for secret in SECRETS if secret in dump]
    assert LONG_NAME not in dump and "娜娜娜" not in dump

    # The same file again still says "identical, nothing changed": its hash was kept.
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(
            "/api/v1/imports/",
            {"kind": "holdings", "file": named_upload(GOOD, "holdings_2026-09-30.csv")},
        )
    body = client.get(f"/api/v1/imports/{again.json()['id']}/").json()
    assert body["status"] == "duplicate" and body["duplicate_of"] == loaded["id"]
    assert not [p for p in (media / "imports").rglob("*") if p.is_file()]


def test_inbox_files_and_left_uploads_are_purged_after_the_retention(
    bank, media: Path, tmp_path: Path, settings
) -> None:
    settings.WEALTHSCORE_FILE_RETENTION_DAYS = 30
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "holdings_2026-09-30.csv").write_bytes(GOOD.encode("gb18030"))
    (inbox / "holdings_bad.csv").write_bytes(BAD.encode("gb18030"))
    services.run_nightly(inbox=inbox)
    filed = sorted(p.name for p in (inbox / "processed").iterdir()) + sorted(
        p.name for p in (inbox / "rejected").iterdir()
    )
    assert filed == ["holdings_2026-09-30.csv", "holdings_bad.csv", "holdings_bad.csv.errors.csv"]
    # The rejected file's report holds the masked name only.
    report = (inbox / "rejected" / "holdings_bad.csv.errors.csv").read_text(encoding="utf-8-sig")
    assert "欧*" in report and "娜娜" not in report and ID_NUMBER not in report
    # An upload of a failed batch, kept for a retry, and forgotten.
    left = media / "imports" / "0123abcd"
    left.mkdir(parents=True)
    (left / "staff.csv").write_text(f"员工号,姓名,身份证号\n1,张三,{ID_NUMBER}\n", encoding="utf-8")
    failed = ImportBatch.objects.create(
        kind="staff", file_name="staff.csv", sha256="0" * 64, size_bytes=10,
        stored_path=str(left / "staff.csv"), status=BatchStatus.FAILED,
    )  # fmt: skip

    # Within the retention nothing goes.
    call_command("purge_files", "--inbox", str(inbox), stdout=io.StringIO())
    assert len(list((inbox / "processed").iterdir())) == 1 and (left / "staff.csv").exists()

    old = time.time() - 31 * 86400
    for path in [
        *(inbox / "processed").iterdir(),
        *(inbox / "rejected").iterdir(),
        left / "staff.csv",
    ]:
        os.utime(path, (old, old))
    out = io.StringIO()
    call_command("purge_files", "--inbox", str(inbox), stdout=out)
    assert "deleted 3 inbox file(s) and 1 upload folder(s)" in out.getvalue()
    assert files_holding(inbox, SECRETS) == [] and files_holding(media, SECRETS) == []
    assert not left.exists()
    failed.refresh_from_db()
    assert failed.stored_path == ""
    assert not ImportBatch.objects.exclude(stored_path="").exists()
    from wealthscore.models import AuditEntry

    assert AuditEntry.objects.filter(action="import.files_purge").count() == 1
