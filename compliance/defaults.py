"""The incident types of SPEC §6 as shipped; misleading and off-book sales veto by default.

Admins change names and the veto flag in the admin site; these are only the starting set
(installed by migration 0002, and by wealthscore.defaults.install_defaults() after a flush).
"""

DEFAULT_TYPES: list[tuple[str, str, str, bool]] = [
    # code, 中文, English, veto
    ("misleading_sales", "误导销售", "Misleading sales", True),
    ("off_book_sales", "飞单", "Off-book sales", True),
    ("missing_recording", "双录缺失", "Missing dual recording", False),
    ("stale_risk_assessment", "风险等级未及时更新", "Risk assessment out of date", False),
    ("unsuitable_sale", "适当性不匹配", "Unsuitable sale", False),
    ("non_compliant_recording", "双录抽查不合规", "Non-compliant recording", False),
    ("complaint", "客户投诉", "Complaint", False),
    ("other", "其他", "Other", False),
]


def install_incident_types(incident_type_model) -> None:
    """Create the missing default types; existing ones (maybe edited) stay as they are."""
    for position, (code, name, name_en, is_veto) in enumerate(DEFAULT_TYPES):
        incident_type_model.objects.get_or_create(
            code=code,
            defaults={"name": name, "name_en": name_en, "is_veto": is_veto, "position": position},
        )
