"""The kernel: the vocabulary every app shares, at the bottom of the import graph.

Periods, access (roles and who may do what), the measure catalog, jobs (work asked for by
task name after commit), the audit log, domain errors, identifiers, locks. A kernel module
imports Django and other kernel modules, never an app (the import-linter contract in
`.importlinter` holds it there).
"""
