"""The distribution profiles shipped with WealthScore (SPEC §3).

Installed by migration 0003 and again by `wealthscore.defaults.install_defaults` after a
flush (`demo --reset`); admins edit them and add their own on the targets API.
"""

from __future__ import annotations

# Shipped profiles, in hundredths of a percent: even (100 / 12 to the 0.01 %, the remainder
# on the first months) and the example "开门红" (a strong start: 30 % in the first quarter).
PROFILES: dict[str, list[int]] = {
    "均匀分布": [834] * 4 + [833] * 8,
    "开门红": [1200, 1000, 800] + [800] * 7 + [700] * 2,
}


def install_distribution_profiles(profile_model) -> None:
    """Create the missing shipped profiles; one that exists (maybe edited) stays as it is.

    `profile_model` is the migration's historical model or the current one."""
    for name, shares in PROFILES.items():
        months = {f"m{n:02d}": share for n, share in enumerate(shares, start=1)}
        profile_model.objects.get_or_create(name=name, defaults=months)
