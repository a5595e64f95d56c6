"""The imports page (/imports/, /imports/<pk>/, /imports/<pk>/status/): administrators and
HR only; an upload runs the same pipeline as the API; a bad file shows its row errors (as
text) and changes nothing; a file over the limit is refused next to the field."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from crm import services
from crm.models import BatchStatus, ImportBatch, Product, Sale
from tests.conftest import WHO
from tests.crm.test_pipeline_jobs import BAD_SALES, PRODUCTS, SALES, write


def page_client(bank, who: str) -> Client:
    # Read in English, so that assertions do not depend on the Chinese catalogue.
    client = Client(headers={"accept-language": "en"})
    if who != "anonymous":
        client.force_login(bank.users[who])
    return client


def upload(name: str, text: str, encoding: str = "utf-8") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def text_of(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip())


@pytest.fixture(autouse=True)
def _uploads_in_tmp(settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def products(bank, tmp_path: Path) -> ImportBatch:
    path = write(tmp_path / "products.csv", PRODUCTS, "utf-8")
    return services.import_file(path=path, kind="products", actor=bank.users["admin"])


# ---------------------------------------------------------------- who sees the pages
@pytest.mark.parametrize("who", WHO)
def test_imports_pages_exist_for_admins_and_hr_only(
    bank, products, who, django_capture_on_commit_callbacks
):
    client = page_client(bank, who)
    urls = ["/imports/", f"/imports/{products.pk}/", f"/imports/{products.pk}/status/"]
    codes = [client.get(url).status_code for url in urls]
    with django_capture_on_commit_callbacks(execute=True):
        posted = client.post("/imports/", {"kind": "sales", "file": upload("sales.csv", SALES)})
    if who == "anonymous":
        assert codes == [302, 302, 302]
        assert client.get("/imports/")["Location"].startswith("/login/")
        assert posted.status_code == 302 and posted["Location"].startswith("/login/")
    elif who in {"admin", "hr"}:
        assert codes == [200, 200, 200]
        assert posted.status_code == 302
    else:
        assert codes == [404, 404, 404]
        assert posted.status_code == 404
    allowed = who in {"admin", "hr"}
    assert ImportBatch.objects.count() == (2 if allowed else 1)
    assert Sale.objects.count() == (2 if allowed else 0)


def test_an_unknown_batch_is_404(bank):
    client = page_client(bank, "hr")
    assert client.get("/imports/424242/").status_code == 404
    assert client.get("/imports/424242/status/").status_code == 404


# ---------------------------------------------------------------- the upload
def test_the_form_offers_every_kind_labelled(bank):
    html = page_client(bank, "admin").get("/imports/").content.decode()
    assert 'data-testid="upload-form"' in html and 'enctype="multipart/form-data"' in html
    form = html[html.index('data-testid="upload-form"') :].split("</form>")[0]
    options = dict(re.findall(r'<option value="(\w+)"[^>]*>([^<]*)</option>', form))
    assert set(options) == {
        "org_units", "staff", "products", "holdings", "sales", "activities", "surveys",
        "complaints", "recording_checks", "targets", "manual_scores",
    }  # fmt: skip
    assert options["recording_checks"].startswith("Recording checks")
    assert 'type="file" name="file"' in html


def test_a_good_file_loads_and_its_page_shows_the_result(
    bank, products, django_capture_on_commit_callbacks
):
    client = page_client(bank, "hr")
    sales = "交易流水号,交易日期,客户号,经办人工号,产品代码,金额,身份证号\n" + "\n".join(
        line + ",110101199001011234" for line in SALES.strip().splitlines()[1:]
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/imports/", {"kind": "sales", "file": upload("销售 10月.csv", sales, "gb18030")}
        )
    batch = ImportBatch.objects.order_by("-pk").first()
    assert response.status_code == 302 and response["Location"] == f"/imports/{batch.pk}/"
    assert batch.status == BatchStatus.LOADED and batch.actor == bank.users["hr"]
    assert batch.file_name == "销售 10月.csv"
    assert Sale.objects.count() == 2
    html = client.get(response["Location"]).content.decode()
    status = html[html.index('data-testid="batch-status"') :]
    assert 'data-status="loaded"' in html
    assert "hx-trigger" not in html  # final: nothing left to poll
    assert re.search(r'data-testid="rows-loaded">2<', status)
    assert re.search(r'data-testid="rows-replaced">0<', status)
    assert "Loaded 2 rows (0 replaced)." in status
    assert "身份证号" in text_of(status.split('data-testid="dropped-columns"')[1])
    assert 'data-testid="row-errors"' not in html
    # The history links to it.
    index = client.get("/imports/").content.decode()
    history = index[index.index('data-testid="batch-history"') :]
    assert f'href="/imports/{batch.pk}/"' in history and "销售 10月.csv" in history


def test_a_bad_file_shows_its_row_errors_as_text_and_changes_nothing(
    bank, products, django_capture_on_commit_callbacks
):
    client = page_client(bank, "admin")
    bad = BAD_SALES + "T10,2026-10-12,0000000001,<b>000101</b>,P001,1.00\n"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/imports/", {"kind": "sales", "file": upload("bad.csv", bad)})
    batch = ImportBatch.objects.order_by("-pk").first()
    assert response["Location"] == f"/imports/{batch.pk}/"
    assert batch.status == BatchStatus.REJECTED
    assert Sale.objects.count() == 0 and Product.objects.count() == 2
    html = client.get(response["Location"]).content.decode()
    assert 'data-status="rejected"' in html
    table = html[html.index('data-testid="row-errors"') :].split("</table>")[0]
    rows = [
        [text_of(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>")[1], re.S)
    ]
    assert len(rows) == len(batch.errors) == batch.error_count >= 3
    assert ["2", "经办人工号", "999999", "unknown employee ID"] in rows
    assert ["2", "金额", "1.999", "more than 2 decimal places"] in rows
    # A value is text, never markup.
    assert "&lt;b&gt;000101&lt;/b&gt;" in table and "<b>000101</b>" not in html
    assert ["3", "经办人工号", "<b>000101</b>", "unknown employee ID"] in rows


def test_a_file_over_the_limit_is_refused_next_to_the_field(bank, settings):
    settings.WEALTHSCORE_UPLOAD_MAX_BYTES = 50
    client = page_client(bank, "admin")
    response = client.post("/imports/", {"kind": "products",
                                         "file": upload("products.csv", PRODUCTS)})  # fmt: skip
    assert response.status_code == 413
    html = response.content.decode()
    error = re.search(r'data-testid="file-error">(.*?)</p>', html, re.S)
    assert error and "the limit is 0 MB" in error.group(1)
    assert re.search(r'<option value="products" selected>', html)  # the kind chosen is kept
    assert ImportBatch.objects.count() == 0


def test_a_missing_file_or_kind_is_shown_next_to_its_field(bank):
    client = page_client(bank, "admin")
    response = client.post("/imports/", {"kind": "nonsense"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-testid="file-error"' in html and 'data-testid="kind-error"' in html
    assert ImportBatch.objects.count() == 0


# ---------------------------------------------------------------- progress while it runs
def test_the_status_fragment_polls_until_the_batch_is_final(bank, tmp_path):
    path = write(tmp_path / "products.csv", PRODUCTS, "utf-8")
    batch = services.import_batch_create(path=path, kind="products", actor=bank.users["hr"])
    client = page_client(bank, "hr")
    page = client.get(f"/imports/{batch.pk}/").content.decode()
    fragment = client.get(f"/imports/{batch.pk}/status/").content.decode()
    for html in (page, fragment):
        tag = re.search(r'<section[^>]*data-testid="batch-status"[^>]*>', html, re.S).group(0)
        assert 'data-status="pending"' in tag
        assert f'hx-get="/imports/{batch.pk}/status/"' in tag
        assert 'hx-trigger="every 1s"' in tag
    assert "<html" not in fragment and 'data-testid="batch-progress"' in fragment
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=BatchStatus.RUNNING, progress=35, stage="checking"
    )
    running = client.get(f"/imports/{batch.pk}/status/").content.decode()
    assert 'hx-trigger="every 1s"' in running and 'value="35"' in running
    assert "Checking every row" in running
    services.import_run(batch_id=batch.pk)
    done = client.get(f"/imports/{batch.pk}/status/").content.decode()
    assert 'data-status="loaded"' in done and "hx-trigger" not in done
    assert 'value="100"' in done


# ---------------------------------------------------------------- the history
def test_the_history_is_paginated_in_a_bounded_number_of_queries(
    bank, tmp_path, django_assert_max_num_queries
):
    for n in range(25):
        path = write(tmp_path / f"p{n}.csv", PRODUCTS + f"P{n:03d}X,产品{n},基金,R3,\n", "utf-8")
        services.import_batch_create(path=path, kind="products", actor=bank.users["admin"])
    client = page_client(bank, "hr")
    with django_assert_max_num_queries(8):
        first = client.get("/imports/").content.decode()
    second = client.get("/imports/?page=2").content.decode()
    ids = [int(pk) for pk in re.findall(r'<tr data-batch="(\d+)">', first)]
    assert len(ids) == 20 and ids == sorted(ids, reverse=True)  # the latest first
    assert len(re.findall(r'<tr data-batch="(\d+)">', second)) == 5
    assert 'href="?page=2"' in first
