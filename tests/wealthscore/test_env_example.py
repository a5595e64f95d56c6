""".env.example lists every environment variable the code reads, and nothing it does not.

The variables are found in the code itself (every Python file of the project outside tests,
bench and the virtualenv), by AST: `os.environ.get("X")`, `os.environ["X"]`, `os.getenv("X")`,
`"X" in os.environ` and the settings' helpers `env_bool("X", …)` / `env_list("X", …)`. A
variable .env.example names that no code reads must at least be used by docker-compose.yml
(the database passwords it interpolates). Then the example itself, filled in, must configure
the settings: a numeric variable left empty there would stop the app at start.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SKIPPED_DIRS = {".venv", "node_modules", "tests", "bench", "var", ".git", "staticfiles"}
ASSIGNMENT = re.compile(r"^\s*(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$")


def code_files() -> list[Path]:
    files = []
    for folder, dirs, names in os.walk(ROOT):
        # Pruned, not filtered afterwards: the virtualenv alone holds tens of thousands of files.
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS and not d.endswith(".egg-info")]
        files.extend(Path(folder) / name for name in names if name.endswith(".py"))
    return files


def _is_os_environ(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def _literal(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _read_by_call(node: ast.Call) -> str | None:
    func = node.func
    if isinstance(func, ast.Attribute):
        reads = (func.attr == "get" and _is_os_environ(func.value)) or func.attr == "getenv"
    else:
        reads = isinstance(func, ast.Name) and func.id in {"getenv", "env_bool", "env_list"}
    return _literal(node.args[0]) if reads and node.args else None


def variables_read(tree: ast.AST) -> set[str]:
    """Names of the environment variables a module reads (setdefault writes: not counted)."""
    found: set[str | None] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            found.add(_read_by_call(node))
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            found.add(_literal(node.slice) if _is_os_environ(node.value) else None)
        elif (
            isinstance(node, ast.Compare)
            and len(node.ops) == 1
            and isinstance(node.ops[0], ast.In | ast.NotIn)
            and _is_os_environ(node.comparators[0])
        ):
            found.add(_literal(node.left))
    found.discard(None)
    return found  # type: ignore[return-value]


def code_variables() -> dict[str, set[str]]:
    """Each variable read, with the files that read it."""
    where: dict[str, set[str]] = {}
    for path in code_files():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for name in variables_read(tree):
            where.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    return where


def example_entries() -> dict[str, tuple[bool, str]]:
    """Variable -> (set in the file, value). `# NAME=value` documents one left at its default."""
    entries: dict[str, tuple[bool, str]] = {}
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        match = ASSIGNMENT.match(line)
        if match:
            entries[match.group(2)] = (match.group(1) is None, match.group(3))
    return entries


def test_the_scan_sees_the_settings_variables():
    # The scan itself: the reads written in each of its forms are found.
    found = code_variables()
    for name in ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DJANGO_DEBUG", "DATABASE_URL"]:
        assert "wealthscore/settings.py" in found.get(name, set()), name
    tree = ast.parse(
        "import os\nfrom os import getenv\n"
        "a = os.environ.get('A')\nb = os.environ['B']\nc = os.getenv('C')\nd = getenv('D')\n"
        "e = 'E' in os.environ\nf = env_bool('F', True)\nos.environ.setdefault('G', 'x')\n"
    )
    assert variables_read(tree) == {"A", "B", "C", "D", "E", "F"}


def test_env_example_lists_every_variable_the_code_reads():
    read, listed = code_variables(), example_entries()
    missing = {name: sorted(files) for name, files in read.items() if name not in listed}
    assert not missing, f".env.example lacks (variable: files reading it): {missing}"


def test_env_example_lists_nothing_unused():
    read = code_variables()
    compose = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    unused = sorted(
        name
        for name in example_entries()
        if name not in read and not re.search(rf"\b{name}\b", compose)
    )
    assert not unused, f".env.example names variables no code or compose file reads: {unused}"


def test_every_entry_has_a_comment():
    # Each block of entries (between blank lines) opens with a comment saying what it does.
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    uncommented = []
    for index, line in enumerate(lines):
        match = ASSIGNMENT.match(line)
        if not match:
            continue
        above = index - 1
        while above >= 0 and ASSIGNMENT.match(lines[above]):
            above -= 1
        if above < 0 or not lines[above].lstrip().startswith("#"):
            uncommented.append(match.group(2))
    assert not uncommented, f"entries with no comment above them: {uncommented}"


def test_the_filled_in_example_configures_production(tmp_path):
    # What an operator gets by copying the file and filling in the blanks it asks for.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "WEALTHSCORE_"))}
    values = {name: value for name, (active, value) in example_entries().items() if active}
    for name, value in values.items():
        # Compose interpolates ${X} from the same file: do the same.
        env[name] = re.sub(r"\$\{(\w+)\}", lambda m: values.get(m.group(1), ""), value)
    env.update(
        DJANGO_SECRET_KEY="filled-in-by-the-operator-" + "x" * 40,
        POSTGRES_PASSWORD="filled-in",
        # Paths of the image (/app, /data) do not exist here.
        WEALTHSCORE_VAR=str(tmp_path / "var"),
        WEALTHSCORE_STATIC_ROOT=str(tmp_path / "static"),
        WEALTHSCORE_INBOX=str(tmp_path / "inbox"),
        WEALTHSCORE_MEDIA_ROOT=str(tmp_path / "media"),
        DJANGO_SETTINGS_MODULE="wealthscore.settings",
    )
    script = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DEBUG, s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, "
        "s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.MEDIA_ROOT)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    debug, engine, broker, redirect, secure_cookie, media = result.stdout.split()
    assert (debug, redirect, secure_cookie) == ("False", "True", "True")
    assert engine == "django.db.backends.postgresql"
    assert broker.startswith("redis://")
    assert media == str(tmp_path / "media")
