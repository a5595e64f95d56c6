"""The kernel's tables (the audit log, the jobs outbox), defined in `wealthscore.kernel.models`;
imported here because Django finds an app's models in its `models` module."""

from .kernel.models import AuditEntry, Job

__all__ = ["AuditEntry", "Job"]
