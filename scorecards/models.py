"""Scoring models. Schemes, runs and cards arrive with the scoring issue."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ManualScore(models.Model):
    """A 0-100 score entered for a manual measure (committee, inspection) for one period."""

    period = models.CharField(_("period"), max_length=10)
    employee = models.ForeignKey(
        "targets.Employee", on_delete=models.PROTECT, related_name="manual_scores"
    )
    measure = models.CharField(_("measure"), max_length=40)
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=2)
    comment = models.TextField(_("comment"), blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    batch = models.ForeignKey(
        "crm.ImportBatch", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    entered_at = models.DateTimeField(_("entered at"), auto_now=True)

    class Meta:
        verbose_name = _("manual score")
        verbose_name_plural = _("manual scores")
        constraints = [
            models.UniqueConstraint(
                fields=["period", "employee", "measure"], name="manualscore_unique"
            ),
            models.CheckConstraint(
                condition=Q(score__gte=0, score__lte=100), name="manualscore_0_100"
            ),
        ]
