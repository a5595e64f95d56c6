"""What each import kind's file holds: columns, header aliases, types and keys (CONTRACT.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from wealthscore.kernel import catalog

from .models import ImportKind


@dataclass(frozen=True)
class Column:
    name: str
    aliases: tuple[str, ...]
    type: str  # id | text | date | amount | int | enum | bool | period | list
    required: bool = True
    choices: dict[str, str] = field(default_factory=dict)  # spelling -> stored code
    max_length: int = 100
    min_value: int | None = None
    max_value: int | None = None
    allow_negative: bool = False
    # A client's name: kept for the masked pages, and masked in row errors too (PIPL).
    masked: bool = False


def _choices(pairs: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """{code: (other spellings…)} -> {spelling (case-folded): code}, codes included."""
    mapping: dict[str, str] = {}
    for code, spellings in pairs.items():
        for spelling in (code, *spellings):
            mapping[spelling.casefold()] = code
    return mapping


LEVELS = _choices(
    {
        "head_office": ("总行",),
        "branch": ("分行",),
        "sub_branch": ("支行", "sub-branch"),
        "team": ("团队",),
    }
)
POSITIONS = _choices(
    {
        "rm": ("理财经理", "客户经理"),
        "manager": ("负责人", "网点负责人", "行长"),
        "hr": ("人力", "人力资源"),
        "compliance": ("合规",),
        "admin": ("管理员", "系统管理员"),
    }
)
STATUSES = _choices({"active": ("在职",), "left": ("离职",)})
CATEGORIES = _choices(
    {
        "deposit": ("存款",),
        "wealth": ("理财",),
        "fund": ("基金",),
        "insurance": ("保险",),
        "trust": ("信托",),
        "private_fund": ("私募",),
        "bond": ("债券",),
        "loan": ("贷款",),
        "credit_card": ("信用卡",),
    }
)
PRODUCT_RISK = {f"r{n}": str(n) for n in range(1, 6)}
CLIENT_RISK = {f"c{n}": str(n) for n in range(1, 6)}
STRATEGIC_TAGS = _choices(catalog.STRATEGIC_TAGS)  # the catalog's, so a file can only name those
ACTIVITY_TYPES = _choices(
    {
        "visit": ("拜访",),
        "call": ("电话",),
        "plan_proposed": ("方案提交",),
        "plan_adopted": ("方案采纳",),
        "education_event": ("投教活动",),
    }
)
YES_NO = {"y": "true", "yes": "true", "是": "true", "n": "false", "no": "false", "否": "false"}

# Columns no measure needs (PIPL, minimum necessary): never read, never stored.
PII_ALIASES = frozenset(
    name.casefold()
    for name in (
        "id_number", "id_no", "证件号码", "证件号", "身份证号", "身份证号码",
        "phone", "mobile", "手机号码", "手机号", "联系电话", "电话",
        "address", "联系地址", "地址", "家庭住址", "email", "电子邮箱", "邮箱",
    )
)  # fmt: skip

EMPLOYEE_ID = ("id", 32)
CLIENT_ID_LEN = 32


@dataclass(frozen=True)
class KindSpec:
    kind: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    file_prefix: str

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def required(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.required)


def _id(name: str, *aliases: str, required: bool = True) -> Column:
    return Column(name, aliases, "id", required=required, max_length=32)


def _date(name: str, *aliases: str, required: bool = True) -> Column:
    return Column(name, aliases, "date", required=required)


KINDS: dict[str, KindSpec] = {
    spec.kind: spec
    for spec in [
        KindSpec(
            ImportKind.ORG_UNITS,
            (
                _id("unit_code", "机构号", "机构代码"),
                Column("unit_name", ("机构名称",), "text"),
                _id("parent_code", "上级机构号", "上级机构代码", required=False),
                Column("level", ("机构层级",), "enum", choices=LEVELS),
            ),
            key=("unit_code",),
            file_prefix="org_units",
        ),
        KindSpec(
            ImportKind.STAFF,
            (
                _id("employee_id", "员工号", "工号"),
                Column("name", ("姓名",), "text"),
                _id("unit_code", "机构号"),
                Column("position", ("岗位",), "enum", choices=POSITIONS),
                _date("hire_date", "入职日期"),
                Column("status", ("状态",), "enum", choices=STATUSES),
                Column("base_performance_pay", ("绩效工资基数",), "amount", required=False),
                Column("certifications", ("资格证书",), "list", required=False, max_length=300),
            ),
            key=("employee_id",),
            file_prefix="staff",
        ),
        KindSpec(
            ImportKind.PRODUCTS,
            (
                _id("product_code", "产品代码"),
                Column("product_name", ("产品名称",), "text", max_length=200),
                Column("category", ("产品类别",), "enum", choices=CATEGORIES),
                Column("risk_level", ("风险等级", "产品风险等级"), "enum", choices=PRODUCT_RISK),
                Column(
                    "strategic_tag", ("战略标签",), "enum", required=False, choices=STRATEGIC_TAGS
                ),
            ),
            key=("product_code",),
            file_prefix="products",
        ),
        KindSpec(
            ImportKind.HOLDINGS,
            (
                _date("as_of_date", "数据日期"),
                _id("client_id", "客户号"),
                Column("client_name", ("客户姓名", "客户名称"), "text", masked=True),
                _id("rm_employee_id", "管户经理工号", "管户客户经理工号"),
                _id("unit_code", "管户机构号"),
                Column("category", ("产品类别",), "enum", choices=CATEGORIES),
                Column("balance", ("余额",), "amount"),
                Column("client_risk_level", ("客户风险等级",), "enum", choices=CLIENT_RISK),
                _date("risk_assessed_on", "风评日期", required=False),
            ),
            key=("client_id", "category"),
            file_prefix="holdings",
        ),
        KindSpec(
            ImportKind.SALES,
            (
                _id("txn_id", "交易流水号"),
                _date("txn_date", "交易日期"),
                _id("client_id", "客户号"),
                _id("rm_employee_id", "经办人工号"),
                _id("product_code", "产品代码"),
                Column("amount", ("金额", "交易金额"), "amount"),
                Column("fee_income", ("中间业务收入",), "amount", required=False),
                Column("channel", ("渠道",), "text", required=False, max_length=40),
            ),
            key=("txn_id",),
            file_prefix="sales",
        ),
        KindSpec(
            ImportKind.ACTIVITIES,
            (
                _id("activity_id", "活动编号"),
                _date("activity_date", "活动日期"),
                _id("rm_employee_id", "员工号"),
                _id("client_id", "客户号", required=False),
                Column("activity_type", ("活动类型",), "enum", choices=ACTIVITY_TYPES),
                Column("rating", ("评价",), "int", required=False, min_value=1, max_value=5),
            ),
            key=("activity_id",),
            file_prefix="activities",
        ),
        KindSpec(
            ImportKind.SURVEYS,
            (
                _id("response_id", "问卷编号"),
                _date("survey_date", "调查日期"),
                _id("client_id", "客户号"),
                _id("rm_employee_id", "员工号"),
                Column("nps_score", ("推荐意愿",), "int", min_value=0, max_value=10),
            ),
            key=("response_id",),
            file_prefix="surveys",
        ),
        KindSpec(
            ImportKind.COMPLAINTS,
            (
                _id("complaint_id", "投诉编号"),
                _date("received_date", "受理日期"),
                _id("client_id", "客户号"),
                _id("rm_employee_id", "员工号"),
                Column("category", ("投诉类别",), "text", max_length=60),
                _date("resolved_date", "办结日期", required=False),
            ),
            key=("complaint_id",),
            file_prefix="complaints",
        ),
        KindSpec(
            ImportKind.RECORDING_CHECKS,
            (
                _id("check_id", "抽查编号"),
                _date("check_date", "抽查日期"),
                _id("rm_employee_id", "员工号"),
                Column("txn_id", ("交易流水号",), "id", required=False, max_length=40),
                Column("compliant", ("是否合规",), "bool", choices=YES_NO),
            ),
            key=("check_id",),
            file_prefix="recording_checks",
        ),
        KindSpec(
            ImportKind.TARGETS,
            (
                Column("year", ("年度",), "int", min_value=2000, max_value=2100),
                _id("scope", "考核对象"),
                Column("measure", ("指标代码",), "id", max_length=40),
                Column("annual_target", ("年度目标",), "amount"),
                Column("distribution", ("月度分布",), "text", required=False, max_length=40),
            ),
            key=("year", "scope", "measure"),
            file_prefix="targets",
        ),
        KindSpec(
            ImportKind.MANUAL_SCORES,
            (
                Column("period", ("考核期",), "period", max_length=10),
                _id("employee_id", "员工号"),
                Column("measure", ("指标代码",), "id", max_length=40),
                Column("score", ("得分",), "amount"),
                Column("comment", ("说明",), "text", required=False, max_length=1000),
            ),
            key=("period", "employee_id", "measure"),
            file_prefix="manual_scores",
        ),
    ]
}

# The order the nightly job loads kinds in: references before the facts that use them.
LOAD_ORDER: tuple[str, ...] = tuple(KINDS)

_BRACKETS = re.compile(r"[(（\[【].*?[)）\]】]")


def normalise_header(text: str) -> str:
    """'余额(元)' -> '余额', ' Balance ' -> 'balance': match headers however they are decorated."""
    text = _BRACKETS.sub("", str(text)).replace("\ufeff", "").replace("*", "")
    return re.sub(r"\s+", "", text).casefold()


def alias_map(spec: KindSpec) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for column in spec.columns:
        for name in (column.name, *column.aliases):
            mapping[normalise_header(name)] = column.name
    return mapping


ALIASES: dict[str, dict[str, str]] = {kind: alias_map(spec) for kind, spec in KINDS.items()}


def kind_from_file_name(name: str) -> str | None:
    """`holdings_2026-10-31.csv` -> holdings (longest prefix wins: recording_checks...)."""
    lowered = name.casefold()
    matches = [k for k, s in KINDS.items() if lowered.startswith(s.file_prefix)]
    return max(matches, key=len) if matches else None
