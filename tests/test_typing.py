"""mypy checks the app with no blanket escape: scripts/test runs it on pyproject's `files`, and an
error is silenced only on its line, by its code, with the reason a library forces it (after it,
`# type: ignore[code]  # why`, or in a comment on the line above)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
IGNORE = re.compile(r"#\s*type:\s*ignore(?P<codes>\[[^\]]*\])?(?P<after>.*)$")
# The escapes that turn checking off for a whole module or package.
BLANKET = {"ignore_errors": True, "disallow_untyped_defs": False, "check_untyped_defs": False}


def _checked_files() -> list[Path]:
    paths = [ROOT / entry for entry in CONFIG["files"]]
    return sorted(
        file for path in paths for file in ([path] if path.is_file() else path.rglob("*.py"))
    )


def test_the_checked_modules_exist_and_include_the_platform():
    listed = set(CONFIG["files"])
    assert all((ROOT / entry).exists() for entry in listed)
    assert listed == {"app"} or {"app/errors.py", "app/database.py", "app/audit"} <= listed


def test_no_module_of_the_app_is_exempt_from_checking():
    for setting, value in BLANKET.items():
        assert CONFIG.get(setting, not value) != value, setting
    for override in CONFIG.get("overrides", []):
        modules = override["module"]
        modules = [modules] if isinstance(modules, str) else modules
        assert not any(module == "app" or module.startswith("app.") for module in modules)
        for setting, value in BLANKET.items():
            assert override.get(setting, not value) != value, (modules, setting)


def test_no_file_of_the_app_turns_mypy_off():
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "app").rglob("*.py")
        for line in path.read_text().splitlines()
        if re.match(r"\s*#\s*(mypy:\s*ignore-errors|type:\s*ignore\s*$)", line)
    ]
    assert offenders == []


def test_each_silenced_error_in_the_checked_files_names_its_code_and_its_reason():
    offenders = []
    for path in _checked_files():
        lines = path.read_text().splitlines()
        for number, line in enumerate(lines, start=1):
            found = IGNORE.search(line)
            if found is None:
                continue
            above = lines[number - 2].strip() if number > 1 else ""
            # mypy reads `# type: ignore[code]  # why`; any other text after it is a syntax error.
            has_reason = re.match(r"\s+#\s*\S", found["after"]) or above.startswith("#")
            if not found["codes"] or not has_reason:
                offenders.append(f"{path.relative_to(ROOT)}:{number}")
    assert offenders == []
