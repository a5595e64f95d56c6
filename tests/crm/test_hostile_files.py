"""Files built to hurt (issue 14): none may take down a worker or the night.

Each is rejected with a reason through `import_file` and `import_crm`, and through
`run_nightly` with good files around it: the good ones load, the bad ones go to rejected/
beside their reason, and the night's recompute still runs.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from django.core.management import call_command

from crm import services
from crm.models import BatchStatus, Holding, ImportBatch, Product, Sale
from tests.crm.test_pipeline_jobs import PRODUCTS, SALES, holdings_csv, write

SALES_HEADER = "交易流水号,交易日期,客户号,经办人工号,产品代码,金额"

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
    'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
    'worksheet+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://'
    'schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="'
    'http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.'
    'openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/>'
    "</sheets></workbook>"
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://'
    'schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="'
    'http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/></Relationships>'
)


def workbook_with_sheet(sheet_data: str) -> bytes:
    """A minimal workbook written by hand: no <dimension>, just the given <sheetData>."""
    import io

    sheet = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://'
        f'schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{sheet_data}'
        "</sheetData></worksheet>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
    return buffer.getvalue()


def xlsx_bomb() -> bytes:
    """One cell at XFD1048576 and no <dimension>: calamine asked for 512 GB and aborted."""
    return workbook_with_sheet(
        '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    )


def cr_only_csv() -> bytes:
    """Old Mac line endings: `_csv.Error: new-line character seen in unquoted field`."""
    return (SALES_HEADER + "\rT9,2026-10-12,0000000001,000101,P001,1.00\r").encode("utf-8")


def huge_field_csv() -> bytes:
    """A 60 MB field (a quote left open, or a pasted blob): pyarrow's "straddling object"."""
    return (
        SALES_HEADER.encode("utf-8")
        + b"\nT9,2026-10-12,0000000001,000101,P001,"
        + b"9" * (60 * 1024 * 1024)
        + b"\n"
    )


HOSTILE = {
    "bomb": (
        "holdings_bomb.xlsx",
        "holdings",
        xlsx_bomb,
        ["XFD1048576", "16384", "512"],
    ),
    "cr_only": ("sales_cr.csv", "sales", cr_only_csv, ["carriage return", "CRLF"]),
    "huge_field": ("sales_blob.csv", "sales", huge_field_csv, ["row 2", "金额", "16 MB"]),
}


def assert_says(reason: str, words: list[str]) -> None:
    for word in words:
        assert word.lower() in reason.lower(), (word, reason)
    for internal in ("straddl", "_csv.Error", "ArrowInvalid", "memory allocation"):
        assert internal not in reason


@pytest.fixture
def products(bank, tmp_path: Path) -> None:
    batch = services.import_file(path=write(tmp_path / "p.csv", PRODUCTS), kind="products")
    assert batch.status == BatchStatus.LOADED


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_file_is_rejected_with_its_reason(products, tmp_path: Path, name: str) -> None:
    file_name, kind, build, words = HOSTILE[name]
    path = tmp_path / file_name
    path.write_bytes(build())
    if name == "bomb":
        assert path.stat().st_size < 2048  # the 1.9 KB file of the review
    batch = services.import_file(path=path, kind=kind, actor_label="test")
    assert batch.status == BatchStatus.REJECTED
    assert_says(batch.message, words)
    assert batch.errors and batch.errors[0]["reason"]
    assert Sale.objects.count() == 0 and Holding.objects.count() == 0


def test_import_crm_exits_1_with_the_reason_for_the_xlsx_bomb(products, tmp_path, capsys):
    path = tmp_path / "holdings_bomb.xlsx"
    path.write_bytes(xlsx_bomb())
    with pytest.raises(SystemExit) as exited:
        call_command("import_crm", "--kind", "holdings", str(path))
    assert exited.value.code == 1
    assert "XFD1048576" in capsys.readouterr().err


def test_a_parse_that_outgrows_its_memory_limit_is_a_rejected_file(
    products, tmp_path: Path, settings
) -> None:
    """The child is killed (or its allocations refused) under RLIMIT_AS: this process goes
    on and the file is rejected, saying so."""
    settings.WEALTHSCORE_PARSE_MEMORY_MB = 24  # below what the child already maps
    path = write(tmp_path / "sales.csv", SALES)
    batch = services.import_file(path=path, kind="sales", actor_label="test")
    assert batch.status == BatchStatus.REJECTED
    assert_says(batch.message, ["within the limits", "24 MB"])
    # The worker is unharmed: the same file loads with the default limit.
    settings.WEALTHSCORE_PARSE_MEMORY_MB = 4096
    copy = write(tmp_path / "sales_again.csv", SALES)
    assert services.import_file(path=copy, kind="sales").status == BatchStatus.LOADED


def test_a_parse_over_its_time_limit_is_killed_and_the_file_rejected(
    products, tmp_path: Path, settings
) -> None:
    settings.WEALTHSCORE_PARSE_SECONDS = 0.001
    path = write(tmp_path / "holdings.csv", holdings_csv(60_000))
    batch = services.import_file(path=path, kind="holdings", actor_label="test")
    assert batch.status == BatchStatus.REJECTED
    assert_says(batch.message, ["within the limits", "0.001 seconds"])


def test_the_night_goes_on_around_hostile_and_crashing_files(
    products, tmp_path: Path, monkeypatch, settings
) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write(inbox / "sales_2026-10.csv", SALES)
    write(inbox / "holdings_2026-09-30.csv", holdings_csv(30))
    for _name, (file_name, _kind, build, _words) in HOSTILE.items():
        (inbox / file_name).write_bytes(build())
    # A file whose load raises something no one foresaw (here, planted): its batch must end
    # FAILED with the reason and the night go on.
    write(
        inbox / "activities_2026-10.csv",
        "活动编号,活动日期,员工号,活动类型\nA1,2026-10-01,000101,拜访\n",
    )
    real_load = services._load

    def load(batch, checked):
        if batch.kind == "activities":
            raise ZeroDivisionError("planted")
        return real_load(batch, checked)

    monkeypatch.setattr(services, "_load", load)
    recomputed: list[set[str]] = []
    monkeypatch.setattr(
        services, "_recompute", lambda months, label: recomputed.append(months) or ["2026-10"]
    )

    result = services.run_nightly(inbox=inbox)

    assert sorted(result.loaded) == ["holdings_2026-09-30.csv", "sales_2026-10.csv"]
    bad = sorted([*(f for f, *_ in HOSTILE.values()), "activities_2026-10.csv"])
    assert sorted(result.rejected) == bad
    filed = sorted(p.name for p in (inbox / "rejected").iterdir())
    assert filed == sorted([*bad, *(f"{name}.errors.csv" for name in bad)])
    assert recomputed == [{"2026-09", "2026-10"}] and result.recomputed == ["2026-10"]
    assert Sale.objects.count() == 2 and Holding.objects.count() == 30
    assert not ImportBatch.objects.filter(status=BatchStatus.RUNNING).exists()
    failed = ImportBatch.objects.get(kind="activities")
    assert failed.status == BatchStatus.FAILED and "ZeroDivisionError: planted" in failed.message
    reports = {
        name: (inbox / "rejected" / f"{name}.errors.csv").read_text(encoding="utf-8-sig")
        for name in bad
    }
    assert "XFD1048576" in reports["holdings_bomb.xlsx"]
    assert "carriage return" in reports["sales_cr.csv"]
    assert "16 MB" in reports["sales_blob.csv"]
    assert "planted" in reports["activities_2026-10.csv"]
    assert Product.objects.count() == 2


def test_an_upload_that_raises_ends_failed_with_the_reason(
    bank, tmp_path: Path, monkeypatch, settings, django_capture_on_commit_callbacks
) -> None:
    """Never "running 5 %" forever: the batch ends FAILED and says why (a transient database
    error instead leaves it to the task's retry, see crm.tasks)."""

    def broken(path, kind):
        raise RuntimeError("a reader bug")

    monkeypatch.setattr(services, "read_file", broken)
    settings.MEDIA_ROOT = str(tmp_path / "media")
    path = write(tmp_path / "products.csv", PRODUCTS)
    client = bank.client("admin")
    # The eager task's exception comes out of the commit callbacks, as a worker's would.
    with (
        pytest.raises(RuntimeError),
        open(path, "rb") as handle,
        django_capture_on_commit_callbacks(execute=True),
    ):
        client.post("/api/v1/imports/", {"kind": "products", "file": handle})
    batch = ImportBatch.objects.get()
    assert batch.status == BatchStatus.FAILED
    assert "RuntimeError: a reader bug" in batch.message and batch.finished_at
    # A FAILED batch keeps its file until purged, so that it can be retried.
    assert batch.stored_path and Path(batch.stored_path).exists()


def test_a_transient_database_error_is_left_to_the_retry(bank, tmp_path: Path, monkeypatch):
    from django.db import OperationalError

    def gone(path, kind):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(services, "read_file", gone)
    batch = services.import_batch_create(
        path=write(tmp_path / "products.csv", PRODUCTS), kind="products"
    )
    with pytest.raises(OperationalError):
        services.import_run(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.RUNNING  # resumable: the task's retry runs it again


# ---------------------------------------------------------------- look-alike identifiers
@pytest.mark.parametrize(
    ("employee_id", "named"),
    [
        ("000\u200b101", "U+200B ZERO WIDTH SPACE"),
        ("\ufeff000109", "U+FEFF ZERO WIDTH NO-BREAK SPACE"),
        ("000\u00a0109", "U+00A0 NO-BREAK SPACE"),
        # Full-width digits are folded to the key they spell (crm.normalise, issue 15); a
        # full-width space inside an ID is still a look-alike.
        ("000\u3000109", "U+3000 IDEOGRAPHIC SPACE"),
        ("000\x07109", "U+0007"),
    ],
)
def test_an_id_with_an_invisible_or_full_width_character_is_a_row_error(
    bank, tmp_path: Path, employee_id: str, named: str
) -> None:
    from targets.models import Employee

    staff = (
        "员工号,姓名,机构号,岗位,入职日期,状态\n"
        + f"{employee_id},张三,A1,理财经理,2024-01-02,在职\n"
    )
    path = tmp_path / "staff.csv"
    path.write_bytes(staff.encode("utf-8"))
    before = Employee.objects.count()
    batch = services.import_file(path=path, kind="staff", actor_label="test")
    assert batch.status == BatchStatus.REJECTED
    [error] = [e for e in batch.errors if e["column"] == "员工号"]
    assert error["row"] == 2 and named in error["reason"], error
    assert Employee.objects.count() == before  # no look-alike employee


def test_the_api_refuses_a_look_alike_id_in_a_body_and_a_parameter(bank) -> None:
    incident = bank.client("compliance").post(
        "/api/v1/compliance/incidents/",
        {"employee_id": "000\u200b101", "type": "other", "occurred_on": "2026-08-20",
         "description": "x"},
        format="json",
    )  # fmt: skip
    assert incident.status_code == 400
    assert "U+200B ZERO WIDTH SPACE" in str(incident.content.decode())
    admin = bank.client("admin")
    target = admin.post(
        "/api/v1/targets/",
        {"scope": "Ａ1", "year": 2026, "measure": "sales_attainment", "annual_target": "200"},
        format="json",
    )
    assert target.status_code == 400 and "U+FF21" in target.content.decode()
    explain = admin.get("/api/v1/targets/explain/?scope=A1%E2%80%8B&measure=nps&period=2026")
    assert explain.status_code == 400 and "U+200B" in explain.content.decode()


def test_the_identifier_rule_is_one_function() -> None:
    import pyarrow as pa

    from wealthscore.kernel.identifiers import identifier_problem, identifier_problems
    from wealthscore.kernel.messages import render

    assert identifier_problem("000101") is None and identifier_problem("A-1_x.2 3") is None
    values = pa.array(["000101", "0\u200b01", "ok", "0\u200b01", "Ｂ1", "支行1"])
    codes, reasons = identifier_problems(values)
    got = [None if c is None else render(reasons[c]) for c in codes.to_pylist()]
    assert got == [identifier_problem(v) for v in values.to_pylist()]
    assert got[1] and got[4] and got[5] is None  # Chinese characters are not look-alikes
