"""Every API payload typed, filters checked (issue 15, item 3).

- The schema has no untyped object in any response body: a generated client gets a model for
  every payload, never `Any` or a bare dict.
- What the endpoints answer matches what the schema says (validated here with jsonschema, as
  schemathesis's response_schema_conformance does against a live server in CI).
- An invalid filter value is a 400 whose envelope names the parameter; `ordering` is
  documented exactly where it works; lists are documented as pages; bodies are JSON except
  where a file is sent.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import jsonschema
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from compliance import services as compliance_services
from compliance.models import Incident, SaleCheck
from crm.models import BatchStatus, ClientSnapshot, ImportBatch, Product, Sale
from scorecards.models import ManualScore
from scorecards.runs import services as run_services
from scorecards.schemes import services as scheme_services

ALICE, DAN, BOB = "000101", "000102", "000201"
PDF = b"%PDF-1.4\n%%EOF\n"
COMPOSITIONS = ("allOf", "oneOf", "anyOf")
FREE_FORM = ("→AuditEntry.before", "→AuditEntry.after")


# ---------------------------------------------------------------- the schema, read
@pytest.fixture
def schema(bank) -> dict:
    response = bank.client("admin").get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def _untyped(node, where: str, components: dict, seen: set[str], found: list[str]) -> None:
    """Collect every schema under `node` that types nothing: an object with neither
    properties, nor typed additionalProperties, nor a $ref; or a schema with no type at all."""
    if not isinstance(node, dict):
        return
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        if name not in seen:
            seen.add(name)
            _untyped(components[name], f"{where}→{name}", components, seen, found)
        return
    extra = node.get("additionalProperties")
    typed_extra = isinstance(extra, dict) and bool(extra)
    kind = node.get("type")
    if kind == "object" and not node.get("properties") and not typed_extra:
        found.append(where)
    if kind is None and not any(key in node for key in (*COMPOSITIONS, "enum")):
        found.append(where)
    for name, child in node.get("properties", {}).items():
        _untyped(child, f"{where}.{name}", components, seen, found)
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            _untyped(node[key], f"{where}[{key}]", components, seen, found)
    for key in COMPOSITIONS:
        for index, child in enumerate(node.get(key, [])):
            _untyped(child, f"{where}<{key}{index}>", components, seen, found)


def _operations(schema: dict):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            if isinstance(operation, dict) and "responses" in operation:
                yield path, method, operation


def test_no_response_body_has_an_untyped_object(schema):
    components = schema["components"]["schemas"]
    found: list[str] = []
    for path, method, operation in _operations(schema):
        for status, response in operation["responses"].items():
            for media, content in response.get("content", {}).items():
                if "json" in media:
                    where = f"{method.upper()} {path} {status}"
                    _untyped(content.get("schema", {}), where, components, set(), found)
    # The one payload that is any JSON by design: an audit entry's snapshots hold any model's
    # fields (wealthscore/api.py, SnapshotField says why it cannot be a recursive type).
    free_form = [where for where in found if where.endswith(FREE_FORM)]
    assert [where for where in found if where not in free_form] == []
    snapshot = components["AuditEntry"]["properties"]["before"]
    assert snapshot["type"] == "object" and "any JSON" in snapshot["description"]


def test_the_walker_finds_what_it_is_meant_to_find():
    """The check above is only as good as its walker: it flags the shapes issue 15 found."""
    components = {"Card": {"type": "object", "properties": {"employee": {"type": "object",
                  "additionalProperties": {}}, "veto_reasons": {"title": "x"}}}}  # fmt: skip
    found: list[str] = []
    _untyped({"$ref": "#/components/schemas/Card"}, "GET", components, set(), found)
    _untyped({"type": "object", "additionalProperties": {}}, "facts", {}, set(), found)
    _untyped({"type": "object", "additionalProperties": {"type": "string"}}, "ok", {}, set(), found)
    assert found == ["GET→Card.employee", "GET→Card.employee[additionalProperties]",
                     "GET→Card.veto_reasons", "facts", "facts[additionalProperties]"]  # fmt: skip


def _json_schema(node):
    """OpenAPI 3.0 → JSON Schema: `nullable` becomes a null alternative, refs point at
    `definitions`."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        converted = {"$ref": node["$ref"].replace("#/components/schemas/", "#/definitions/")}
    else:
        converted = {
            key: ({k: _json_schema(v) for k, v in value.items()} if key == "properties"
                  else _json_schema(value))
            for key, value in node.items()
            if key not in ("nullable", "readOnly", "writeOnly", "discriminator")
        }  # fmt: skip
    if node.get("nullable"):
        converted = {"anyOf": [converted, {"type": "null"}]}
    return converted


def conforms(schema: dict, path: str, method: str, status: int, body) -> None:
    """`body` is what the schema documents for this operation and status (or it raises)."""
    documented = schema["paths"][path][method]["responses"][str(status)]["content"]
    media = documented["application/json"]["schema"]
    definitions = {
        name: _json_schema(value) for name, value in schema["components"]["schemas"].items()
    }
    jsonschema.validate(body, {**_json_schema(media), "definitions": definitions})


# ---------------------------------------------------------------- a scored bank with facts
@pytest.fixture
def scored(bank, settings, tmp_path):
    """September 2026 scored with a sale and a client behind Alice's lines, and a confirmed
    vetoing case against Bob (his card lists it in veto_reasons)."""
    settings.MEDIA_ROOT = tmp_path
    scheme_services.install_default_scheme()
    batch = ImportBatch.objects.create(
        kind="sales", file_name="t.csv", sha256="1" * 64, status=BatchStatus.LOADED
    )
    Product.objects.create(
        product_code="WM01", name="稳健理财", category="wealth", risk_level=2, batch=batch
    )
    for day, balance in ((dt.date(2026, 8, 31), "800000"), (dt.date(2026, 9, 30), "950000")):
        ClientSnapshot.objects.create(
            client_id="C0001", as_of_date=day, name="赵钱孙", rm_id=ALICE, unit_id="A1",
            total_balance=Decimal(balance), client_risk_level=3, batch_id=batch.pk,
        )  # fmt: skip
    Sale.objects.create(
        txn_id="T0001", txn_date=dt.date(2026, 9, 10), client_id="C0001", rm_id=ALICE,
        product_id="WM01", amount=Decimal("150000"), batch_id=batch.pk,
    )  # fmt: skip
    for key in ("rm_alice", "rm_dan", "rm_bob"):
        ManualScore.objects.create(
            period="2026-Q3", employee=bank.employees[key], measure="mentoring",
            score=Decimal("80"),
        )  # fmt: skip
    officer = bank.users["compliance"]
    case = compliance_services.incident_create(
        actor=officer, employee=bank.employees["rm_bob"], type_code="misleading_sales",
        occurred_on=dt.date(2026, 9, 3), description="夸大收益",
    )  # fmt: skip
    compliance_services.incident_decide(
        incident=case, actor=officer, decision="confirm", reason="属实"
    )
    compliance_services.incident_create(
        actor=officer, employee=bank.employees["rm_alice"], type_code="other",
        occurred_on=dt.date(2026, 9, 20), description="待核实",
    )  # fmt: skip
    # The T+1 check of the sale, as the import pipeline writes it: August's level 3 client
    # bought an R2 product (suitable); the board compares September with August.
    SaleCheck.objects.create(
        txn_id="T0001", txn_date=dt.date(2026, 9, 10), client_id="C0001", employee_id=ALICE,
        unit_code="A1", product_risk=2, client_risk=3, suitable=True, batch_id=batch.pk,
    )  # fmt: skip
    run_services.score_period(period_code="2026-09", trigger="test")
    return bank


def _card(bank, employee_id: str) -> int:
    """Her September card's id, through the API as a client finds it."""
    url = f"/api/v1/scorecards/?period=2026-09&employee={employee_id}"
    (card,) = bank.client("admin").get(url).json()["results"]
    return card["id"]


def test_a_card_its_employee_veto_reasons_and_inputs_conform(scored, schema):
    body = scored.client("admin").get(f"/api/v1/scorecards/{_card(scored, BOB)}/").json()
    conforms(schema, "/api/v1/scorecards/{id}/", "get", 200, body)
    assert body["employee"] == {"employee_id": BOB, "name": "李四", "unit_code": "B1"}
    assert body["vetoed"] and len(body["veto_reasons"]) == 1
    (case,) = body["veto_reasons"]
    assert case["occurred_on"] == "2026-09-03" and case["type"] == "misleading_sales"
    assert case["text"].endswith(f"2026-09-03 (#{case['incident_id']})")
    sales = next(line for line in body["lines"] if line["measure"] == "sales_attainment")
    assert sales["inputs"]["sales"] == 0 and "window" in sales["inputs"]

    listed = scored.client("admin").get("/api/v1/scorecards/").json()
    conforms(schema, "/api/v1/scorecards/", "get", 200, listed)
    assert listed["count"] == 9


def test_the_facts_of_a_line_conform_and_read_the_same_on_every_database(scored, schema):
    client = scored.client("rm_alice")
    url = "/api/v1/scorecards/{id}/lines/{measure}/facts/"
    lines = f"/api/v1/scorecards/{_card(scored, ALICE)}/lines"
    sales = client.get(f"{lines}/sales_attainment/facts/")
    assert sales.status_code == 200
    body = sales.json()
    conforms(schema, url, "get", 200, body)
    assert body["kind"] == "sales" and body["count"] == 1 and body["truncated"] is False
    row = body["rows"][0]
    # Amounts two places as strings, dates ISO, names masked: whatever the database returns.
    assert row["txn_id"] == "T0001" and row["txn_date"] == "2026-09-10"
    assert row["amount"] == "150000.00" and row["client_name"] == "赵*孙"
    assert "balance_end" not in row  # a sale has no balance: absent, not null

    clients = client.get(f"{lines}/aum_net_growth/facts/").json()
    conforms(schema, url, "get", 200, clients)
    assert clients["kind"] == "clients" and clients["as_of"] == "2026-09-30"
    assert clients["rows"][0]["balance_end"] == "950000.00"
    assert clients["rows"][0]["balance_start"] == "800000.00"

    manual = client.get(f"{lines}/mentoring/facts/").json()
    conforms(schema, url, "get", 200, manual)
    assert manual["kind"] == "manual_scores" and manual["rows"][0]["score"] == "80.00"


def test_the_warning_board_conforms(scored, schema):
    response = scored.client("compliance").get("/api/v1/compliance/board/?month=2026-09")
    assert response.status_code == 200
    body = response.json()
    conforms(schema, "/api/v1/compliance/board/", "get", 200, body)
    assert body["open"] == 1 and body["by_rm"][0]["employee_id"] == ALICE
    assert body["suitability"]["month"] == "2026-09"
    assert body["suitability"]["units"][0]["unit_code"] == "A1"


def test_me_pay_rows_talent_audit_and_imports_conform(scored, schema):
    me = scored.client("rm_alice").get("/api/v1/me/").json()
    conforms(schema, "/api/v1/me/", "get", 200, me)
    assert me["employee"]["employee_id"] == ALICE and me["unit"]["code"] == "A1"
    audit = scored.client("admin").get("/api/v1/audit/").json()
    conforms(schema, "/api/v1/audit/", "get", 200, audit)
    assert audit["count"] > 0
    imports = scored.client("admin").get("/api/v1/imports/").json()
    conforms(schema, "/api/v1/imports/", "get", 200, imports)
    assert imports["count"] == 1


# ---------------------------------------------------------------- filters
BAD_FILTERS = [
    ("admin", "/api/v1/scorecards/?period=garbage", "period"),
    ("admin", "/api/v1/scorecards/?period=2026-13", "period"),
    ("admin", "/api/v1/scorecards/?unit=NOPE", "unit"),
    ("manager_a", "/api/v1/scorecards/?unit=B1", "unit"),  # out of scope: as if unknown
    ("admin", "/api/v1/scorecards/?employee=00%E2%80%8B0101", "employee"),
    ("admin", "/api/v1/scorecards/?ordering=salary", "ordering"),
    ("admin", "/api/v1/kpis/?version=abc", "version"),
    ("admin", "/api/v1/periods/?year=abc", "year"),
    ("admin", "/api/v1/periods/?kind=decade", "kind"),
    ("admin", "/api/v1/periods/?status=lost", "status"),
    ("hr", "/api/v1/pay-adjustments/?period=garbage", "period"),
    ("hr", "/api/v1/pay-adjustments/?period=2026-Q3&unit=NOPE", "unit"),
    ("hr", "/api/v1/talent-lists/?year=abc", "year"),
    ("compliance", "/api/v1/compliance/board/?month=garbage", "month"),
    ("compliance", "/api/v1/compliance/board/?month=2026-Q3", "month"),
    ("compliance", "/api/v1/compliance/incidents/?status=lost", "status"),
    ("compliance", "/api/v1/compliance/incidents/?type=nonsense", "type"),
    ("compliance", "/api/v1/compliance/incidents/?source=radio", "source"),
    ("compliance", "/api/v1/compliance/incidents/?unit=NOPE", "unit"),
    ("admin", "/api/v1/targets/?year=abc", "year"),
    ("admin", "/api/v1/targets/?measure=happiness", "measure"),
    ("admin", "/api/v1/targets/explain/?scope=A1&measure=happiness&period=2026", "measure"),
    ("admin", "/api/v1/targets/explain/?scope=A1&measure=nps&period=2026-13", "period"),
    ("admin", "/api/v1/targets/reconciliation/?unit=A&year=abc", "year"),
    ("admin", "/api/v1/compliance/incidents/?employee=00%E2%80%8B0101", "employee"),
    ("admin", "/api/v1/imports/?status=lost", "status"),
    ("admin", "/api/v1/employees/?status=gone", "status"),
    ("admin", "/api/v1/employees/?position=pilot", "position"),
    ("admin", "/api/v1/org-units/?level=planet", "level"),
    ("admin", "/api/v1/imports/?kind=weather", "kind"),
    ("admin", "/api/v1/audit/?from=garbage", "from"),
]


@pytest.mark.parametrize(("who", "url", "param"), BAD_FILTERS)
def test_an_invalid_filter_value_is_a_400_naming_the_parameter(bank, who, url, param):
    response = bank.client(who).get(url)
    assert response.status_code == 400, (url, response.content)
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    assert list(body["fields"]) == [param] and body["fields"][param], body


def test_a_valid_filter_that_matches_nothing_is_an_empty_list(scored):
    client = scored.client("admin")
    assert client.get("/api/v1/scorecards/?period=2031-05").json()["count"] == 0
    assert client.get("/api/v1/scorecards/?employee=999999").json()["count"] == 0
    everything = client.get("/api/v1/scorecards/").json()["count"]
    assert everything == 9  # September, Q3 and 2026 (the veto recomputed them) × 3 RMs
    assert client.get("/api/v1/scorecards/?period=&unit=").json()["count"] == everything
    assert client.get("/api/v1/scorecards/?period=2026-09&unit=A").json()["count"] == 2
    assert client.get("/api/v1/compliance/board/?month=").status_code == 200


# ---------------------------------------------------------------- ordering
def test_scorecards_order_by_the_documented_names_and_page_without_overlap(scored):
    client = scored.client("admin")
    cards = "/api/v1/scorecards/?period=2026-09"
    by_id = [r["employee"]["employee_id"] for r in
             client.get(f"{cards}&ordering=employee_id").json()["results"]]  # fmt: skip
    assert by_id == [ALICE, DAN, BOB]
    backwards = client.get(f"{cards}&ordering=-employee_id").json()["results"]
    assert [r["employee"]["employee_id"] for r in backwards] == [BOB, DAN, ALICE]
    ranked = client.get(f"{cards}&ordering=rank,-unit_code").json()["results"]
    assert [r["rank"] for r in ranked] == sorted(r["rank"] for r in ranked)
    repeated = client.get(f"{cards}&ordering=-unit_code&ordering=employee_id").json()["results"]
    assert [r["employee"]["unit_code"] for r in repeated] == ["B1", "A2", "A1"]
    pages = [client.get(f"{cards}&ordering=-total&limit=1&offset={n}").json() for n in range(3)]
    assert pages[0]["count"] == 3 and pages[0]["next"] and pages[2]["next"] is None
    seen = [page["results"][0]["id"] for page in pages]
    assert len(set(seen)) == 3


def test_ordering_is_documented_only_where_it_works(schema):
    documented = {
        (method, path)
        for path, method, operation in _operations(schema)
        for parameter in operation.get("parameters", [])
        if parameter["name"] == "ordering"
    }
    assert documented == {("get", "/api/v1/scorecards/")}
    parameter = next(
        p for p in schema["paths"]["/api/v1/scorecards/"]["get"]["parameters"]
        if p["name"] == "ordering"
    )  # fmt: skip
    assert {"rank", "-rank", "total", "-total", "employee_id"} <= set(
        parameter["schema"]["items"]["enum"]
    )
    # The card's filters belong to the list, not to a card or its facts.
    detail = schema["paths"]["/api/v1/scorecards/{id}/"]["get"].get("parameters", [])
    assert {p["name"] for p in detail} == {"id"}


def test_lists_are_documented_as_pages(schema):
    components = schema["components"]["schemas"]
    lists = ["/api/v1/scorecards/", "/api/v1/compliance/incidents/", "/api/v1/periods/",
             "/api/v1/pay-adjustments/", "/api/v1/talent-lists/", "/api/v1/audit/"]  # fmt: skip
    for path in lists:
        operation = schema["paths"][path]["get"]
        ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        page = components[ref.rsplit("/", 1)[-1]]
        assert {"count", "next", "previous", "results"} <= set(page["properties"]), path
        assert {"limit", "offset"} <= {p["name"] for p in operation["parameters"]}, path


# ---------------------------------------------------------------- request formats
def test_bodies_are_json_except_where_a_file_is_sent(schema):
    formats = {
        (method, path): sorted(operation["requestBody"]["content"])
        for path, method, operation in _operations(schema)
        if "requestBody" in operation
    }
    multipart = {key for key, media in formats.items() if media == ["multipart/form-data"]}
    assert multipart == {
        ("post", "/api/v1/imports/"),
        ("post", "/api/v1/compliance/incidents/{id}/evidence/"),
        ("post", "/api/v1/inquiries/{id}/attachment/"),
    }
    others = {key: media for key, media in formats.items() if key not in multipart}
    assert all(media == ["application/json"] for media in others.values()), others


def test_an_incident_is_created_from_json_and_its_evidence_sent_on_its_own(
    bank, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    scheme_services.install_default_scheme()
    client = bank.client("compliance")
    body = {"employee_id": ALICE, "type": "misleading_sales", "occurred_on": "2026-08-20",
            "description": "夸大收益"}  # fmt: skip
    as_form = client.post("/api/v1/compliance/incidents/", body, format="multipart")
    assert as_form.status_code == 415 and as_form.json()["code"] == "unsupported_media_type"
    created = client.post("/api/v1/compliance/incidents/", body, format="json")
    assert created.status_code == 201 and created.json()["has_evidence"] is False
    url = f"/api/v1/compliance/incidents/{created.json()['id']}/evidence/"

    as_json = client.post(url, {"evidence": "x"}, format="json")
    assert as_json.status_code == 415
    wrong = client.post(url, {"evidence": SimpleUploadedFile("x.pdf", b"MZ")}, format="multipart")
    assert wrong.status_code == 400 and list(wrong.json()["fields"]) == ["evidence"]
    missing = client.post(url, {}, format="multipart")
    assert missing.status_code == 400 and list(missing.json()["fields"]) == ["evidence"]

    sent = client.post(
        url, {"evidence": SimpleUploadedFile("录音摘要.pdf", PDF)}, format="multipart"
    )
    assert sent.status_code == 201, sent.content
    assert sent.json()["has_evidence"] and sent.json()["evidence_name"] == "录音摘要.pdf"
    assert b"".join(client.get(url).streaming_content) == PDF
    again = client.post(url, {"evidence": SimpleUploadedFile("b.pdf", PDF)}, format="multipart")
    assert again.status_code == 409 and again.json()["code"] == "evidence_exists"
    incident = Incident.objects.get(pk=created.json()["id"])
    assert incident.evidence_name == "录音摘要.pdf"
    from wealthscore.models import AuditEntry

    attached = AuditEntry.objects.get(action="incident.evidence_attach", object_id=str(incident.pk))
    assert attached.after["evidence_sha256"] == incident.evidence_sha256
