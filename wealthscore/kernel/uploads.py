"""Documents users attach (an incident's evidence, an inquiry's supporting file): one rule
for what is accepted — a size limit, a known type whose content starts as that type does —
and for where it is written (a generated name, never the uploader's)."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from .errors import DomainError

# The types accepted, each with the bytes its content starts with.
DOCUMENT_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    ".pdf": (b"%PDF-",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".docx": (b"PK\x03\x04",),
    ".xlsx": (b"PK\x03\x04",),
}


def check_document(upload: UploadedFile, *, limit: int, field: str, what: str) -> tuple[str, str]:
    """(extension, SHA-256) of an acceptable document; a DomainError on `field` naming `what`
    (e.g. "Evidence") otherwise: too large, a type not accepted, or content of another type."""
    # An uploaded file always has its size (Django's upload handlers set it).
    assert upload.size is not None
    if upload.size > limit:
        raise DomainError(
            _("The %(what)s file is %(size)s KB; the limit is %(limit)s KB.")
            % {"what": what.lower(), "size": upload.size // 1024, "limit": limit // 1024},
            field=field,
            code="too_large",
        )
    extension = Path(upload.name or "").suffix.lower()
    signatures = DOCUMENT_SIGNATURES.get(extension)
    if signatures is None:
        raise DomainError(
            _("%(what)s must be one of %(allowed)s.")
            % {"what": what, "allowed": ", ".join(sorted(DOCUMENT_SIGNATURES))},
            field=field,
            code="file_type",
        )
    digest = hashlib.sha256()
    head = b""
    for chunk in upload.chunks():
        head = head or chunk[:16]
        digest.update(chunk)
    upload.seek(0)
    if not head.startswith(signatures):
        raise DomainError(
            _("The %(what)s file's content is not a %(type)s file.")
            % {"what": what.lower(), "type": extension.lstrip(".").upper()},
            field=field,
            code="file_type",
        )
    return extension, digest.hexdigest()


def stored_name(extension: str) -> str:
    """A generated file name: the uploader's file name never chooses where we write."""
    return f"{uuid.uuid4().hex}{extension}"
