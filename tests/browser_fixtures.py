"""A real browser (Debian's chromium, driven by Playwright) and the app served to it (a plugin)."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail("Debian's chromium is missing (scripts/test installs it: apt-get)")
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def served(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
#: The impacts that fail a page: a person using a screen reader or a keyboard cannot get through.
BLOCKING = ("critical", "serious")


def check_accessibility(page, where: str = "") -> list[dict]:
    """Run axe-core (vendored from npm by scripts/vendor) on the page as it is now; fail on any
    critical or serious violation, naming the rule, its help text and the elements. Returns the
    lesser violations, which a test may also look at."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    blocking = [v for v in result["violations"] if v.get("impact") in BLOCKING]
    described = [
        f"{v['impact']} {v['id']}: {v['help']} -> "
        + "; ".join(node["target"][0] if node["target"] else "?" for node in v["nodes"][:5])
        for v in blocking
    ]
    assert not described, f"axe on {where or page.url}:\n" + "\n".join(described)
    return [v for v in result["violations"] if v.get("impact") not in BLOCKING]


def screenshots(tmp_path: Path) -> Path:
    """Where screenshots go: the test's tmp dir, or SCREENSHOTS_DIR to look at them."""
    folder = Path(os.environ.get("SCREENSHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
