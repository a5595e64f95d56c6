"""Messages stored as a code with parameters, rendered in the reader's language when read.

A sentence written into a row at the time of a run or an import is frozen in the language
of that moment (the worker's, Chinese by default), and an English reader then met Chinese.
So what is stored is `{"code": "no_hnw_client", "params": {...}}`; each app keeps one
registry of its codes (`<app>/messages.py`: code → gettext_noop'd English message, added
to `REGISTRY` with `register`), and `render` here, the one function, renders any of them
in the active language, on the page or in the API.

A row stored before codes existed keeps its text as the code `legacy` with `{"text": …}`:
nothing is lost, and a legacy text that is one of the registry's messages (in English or
in its Chinese translation, without parameters) is rendered in the reader's language too.
Kernel: imports no app.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache, lru_cache
from typing import Any, TypedDict

from django.utils import translation
from django.utils.translation import gettext

LEGACY = "legacy"


class Message(TypedDict):
    code: str
    params: dict[str, Any]


def msg(code: str, /, **params: Any) -> Message:
    """A message to store: its code and its parameters (JSON values: str, int, …)."""
    return {"code": code, "params": {k: _plain(v) for k, v in params.items()}}


def _plain(value: Any) -> Any:
    # Stored as JSON: Decimals, dates and lazy strings become text, numbers stay numbers, a
    # message inside a message (the why of "could not be read: …") stays a message.
    if isinstance(value, Mapping) and "code" in value:
        return {"code": str(value["code"]), "params": dict(value.get("params") or {})}
    return value if isinstance(value, str | int | float | bool | type(None)) else str(value)


def legacy(text: str) -> Message:
    return {"code": LEGACY, "params": {"text": text}}


def as_message(value: Any) -> Message | None:
    """What a row holds, as a Message: a stored message, or an older row's text (legacy)."""
    if not value:
        return None
    if isinstance(value, Mapping) and "code" in value:
        return {"code": str(value["code"]), "params": dict(value.get("params") or {})}
    return legacy(str(value))


# Every app's codes → their English messages (gettext_noop'd): each app's messages.py adds
# its own with `register`, at import (its models import it, so the registry is full by the
# time a page is rendered).
REGISTRY: dict[str, str] = {}


def register(messages: Mapping[str, str]) -> None:
    for code, text in messages.items():
        if REGISTRY.get(code, text) != text:
            raise ValueError(f"message code {code!r} registered twice with different texts")
        REGISTRY[code] = text
    _known_texts.cache_clear()
    _legacy_text.cache_clear()


def render(value: Any) -> str:
    """The message in the active language; "" for none. An unknown code renders as itself
    (a newer code read by an older build), never as an error on a page."""
    # A bare code (a column that holds only codes, e.g. a card's no_total_reason).
    message = msg(value) if isinstance(value, str) and value in REGISTRY else as_message(value)
    if message is None:
        return ""
    code, params = message["code"], message["params"]
    if code == LEGACY:
        return _legacy_text(str(params.get("text", "")), translation.get_language() or "")
    template = REGISTRY.get(code)
    if template is None:
        return code
    text = gettext(template)
    # A parameter that is a message is rendered too, in the same language.
    params = {k: render(v) if isinstance(v, Mapping) else v for k, v in params.items()}
    try:
        return text % params if params else text
    except (KeyError, TypeError, ValueError):
        return text


@lru_cache(maxsize=4096)
def _legacy_text(text: str, language: str) -> str:
    """An older row's sentence in the reader's language when it is one of the registry's
    messages (its English or its Chinese, with its parameters read back out of it), else as
    it was written."""
    plain, patterns = _known_texts()
    if text in plain:
        return gettext(plain[text])
    for pattern, template in patterns:
        found = pattern.fullmatch(text)
        if found:
            try:
                return gettext(template) % found.groupdict()
            except (KeyError, TypeError, ValueError):
                return text
    return text


@cache
def _known_texts() -> tuple[dict[str, str], list[tuple[re.Pattern[str], str]]]:
    """Each message's English text and Chinese translation → its msgid: the parameterless
    ones by text, the others as a pattern whose groups are the parameters."""
    plain: dict[str, str] = {}
    patterns: list[tuple[re.Pattern[str], str]] = []
    for template in REGISTRY.values():
        with translation.override("zh-hans"):
            chinese = gettext(template)
        for written in {template, chinese}:
            if "%(" not in written:
                plain[written] = template
                continue
            parts = re.split(r"%\((\w+)\)s", written)
            regex = "".join(
                re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)"
                for i, part in enumerate(parts)
            )
            try:
                patterns.append((re.compile(regex, re.DOTALL), template))
            except re.error:  # a parameter named twice: read such a sentence as written
                continue
    return plain, patterns
