"""Chinese is the default language: every message the code marks must have a translation."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

CATALOG = Path(__file__).resolve().parents[2] / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def test_every_message_is_translated_and_none_is_fuzzy() -> None:
    # msgfmt --check also verifies that %(name)s placeholders agree between the languages.
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(CATALOG)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    statistics = re.search(r"(\d+) translated messages?(.*)\.", result.stderr)
    assert statistics, result.stderr
    assert int(statistics.group(1)) > 200
    assert statistics.group(2) == "", f"untranslated or fuzzy messages: {statistics.group(2)}"
