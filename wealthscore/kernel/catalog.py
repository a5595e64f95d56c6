"""Codes of the measures that targets and manual scores may name (SPEC §5).

The scoring engine's measure library (its own issue) implements them; imports only need to
know which codes exist, so that a file naming an unknown measure is rejected.
"""

from __future__ import annotations

from django.db.models import Q

# code -> (Chinese name, kind): "flow" values accumulate over a window, "stock" are read at
# its end, "ratio" are percentages, "manual" are entered scores.
MEASURES: dict[str, tuple[str, str]] = {
    "sales_attainment": ("产品销售达成率", "flow"),
    "aum_net_growth": ("客户资产净增", "flow"),
    "aum_existing_uplift": ("存量客户资产提升率", "ratio"),
    "cross_sell_coverage": ("交叉销售覆盖率", "ratio"),
    "nps": ("客户净推荐值", "ratio"),
    "hnw_visit_coverage": ("高净值客户拜访覆盖率", "ratio"),
    "dormant_activation": ("睡眠客户激活率", "ratio"),
    "plan_adoption": ("方案采纳率", "ratio"),
    "education_events": ("投教活动场次", "flow"),
    "suitability_match": ("适当性匹配率", "ratio"),
    "script_compliance": ("双录合规率", "ratio"),
    "complaint_rate": ("客户投诉率", "ratio"),
    "complaint_resolution": ("投诉及时办结率", "ratio"),
    "internal_policy": ("内部制度遵从", "manual"),
    "collaboration": ("跨部门协作", "manual"),
    "mentoring": ("知识分享与带教", "manual"),
    "strategic_sales": ("战略产品销售", "flow"),
    # Library measures an admin may add to a scheme.
    "fee_income": ("中间业务收入", "flow"),
    "new_hnw_clients": ("新增高净值客户", "flow"),
    "client_points": ("管户积分", "stock"),
    "family_trust_clients": ("家族信托客户数", "stock"),
}

MEASURE_CODES: frozenset[str] = frozenset(MEASURES)
MANUAL_MEASURE_CODES: frozenset[str] = frozenset(
    code for code, (_name, kind) in MEASURES.items() if kind == "manual"
)
# The measures the library computes from the facts (scorecards/measures.py): every other.
COMPUTED_MEASURE_CODES: frozenset[str] = MEASURE_CODES - MANUAL_MEASURE_CODES

# Strategic products (SPEC §5, strategic_sales): those tagged 固收+ or 养老, and no other.
# code -> the bank's spellings of it in a products file. The tag column is free text in the
# table (an admin may type anything), so every reader asks `is_strategic_q`/STRATEGIC_TAGS,
# never "has a tag".
STRATEGIC_TAGS: dict[str, tuple[str, ...]] = {
    "fixed_income_plus": ("固收+",),
    "pension": ("养老",),
}
STRATEGIC_TAG_CODES: tuple[str, ...] = tuple(STRATEGIC_TAGS)


def is_strategic_q(product: str = "product__") -> Q:
    """ORM filter: the product (reached through the `product` lookup prefix) is strategic."""
    return Q(**{f"{product}strategic_tag__in": STRATEGIC_TAG_CODES})


# English names of the measures (when the page is in English; in Chinese the names above).
MEASURE_NAMES_EN: dict[str, str] = {
    "sales_attainment": "Sales attainment",
    "aum_net_growth": "Net AUM growth",
    "aum_existing_uplift": "Uplift of existing clients' AUM",
    "cross_sell_coverage": "Cross-sell coverage",
    "nps": "Net promoter score",
    "hnw_visit_coverage": "HNW visit coverage",
    "dormant_activation": "Dormant clients activated",
    "plan_adoption": "Plan adoption rate",
    "education_events": "Investor-education events",
    "suitability_match": "Suitability match rate",
    "script_compliance": "Recording compliance rate",
    "complaint_rate": "Complaint rate",
    "complaint_resolution": "Complaints resolved in time",
    "internal_policy": "Internal policy compliance",
    "collaboration": "Cross-department collaboration",
    "mentoring": "Knowledge sharing and mentoring",
    "strategic_sales": "Strategic product sales",
    "fee_income": "Fee income",
    "new_hnw_clients": "New HNW clients",
    "client_points": "Client-management points",
    "family_trust_clients": "Family-trust clients",
}


def measure_name(code: str) -> str:
    """The measure's name in the active language: the bank's Chinese name, or English."""
    from django.utils import translation

    if (translation.get_language() or "").startswith("zh"):
        return MEASURES.get(code, (code, ""))[0]
    return MEASURE_NAMES_EN.get(code, code.replace("_", " ").capitalize())
