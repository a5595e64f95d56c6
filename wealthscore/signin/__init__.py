"""Signing in (issue 14): lockout, audited logins, expiring API tokens, password changes and
the opt-in LDAP backend. Everything here is about who is signing in, never about roles:
a role comes only from `targets.models.scope_of`.
"""
