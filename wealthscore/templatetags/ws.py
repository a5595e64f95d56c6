"""The page filters: the kernel's formats (`wealthscore.kernel.formats`), for templates."""

from __future__ import annotations

from django import template

from wealthscore.kernel import formats

register = template.Library()

for _name in ("yuan", "payroll", "score", "pct", "signed"):
    register.filter(_name, getattr(formats, _name))
