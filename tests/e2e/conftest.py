"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server.

Every page load is watched for console errors (CSP violations included) and failed requests;
a test fails if any appear. Screenshots go to ``test-artifacts/screenshots/``.
"""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test thread; the ORM calls made by the tests
# themselves (factories, assertions) are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

pytestmark = pytest.mark.e2e


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
            if not Path(CHROMIUM).exists() and os.environ.get("CI") != "true":
                item.add_marker(pytest.mark.skip(reason=f"no Chromium at {CHROMIUM}"))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, "viewport": {"width": 1400, "height": 1000}}


REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
    const where = `${e.blockedURI} ${e.sample} at ${e.documentURI}`;
    window.__reportCspViolation(`${e.violatedDirective} ${where}`);
});
"""


class ConsoleWatch:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def attach(self, page) -> None:
        # A CSP violation is also an event in the page: report it here whatever the console says.
        page.expose_function("__reportCspViolation", self._csp_violation)
        page.add_init_script(REPORT_CSP_VIOLATIONS)
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc} {exc.stack}"))
        page.on("response", self._response)

    def _console(self, msg) -> None:
        # Failed loads are reported with their URL by _response; the console copy has none.
        # Alpine reports a failing expression as a warning (and rethrows it later).
        error = msg.type == "error" and not msg.text.startswith("Failed to load resource")
        if error or (msg.type == "warning" and msg.text.startswith("Alpine")):
            self.errors.append(f"console {msg.type}: {msg.text}")

    def _csp_violation(self, text: str) -> None:
        self.errors.append(f"CSP violation: {text}")

    def _response(self, response) -> None:
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            self.errors.append(f"HTTP {response.status}: {response.request.method} {response.url}")


@pytest.fixture
def watched_page(page) -> Iterator:
    """A page whose console errors, CSP violations and failed requests fail the test at
    teardown."""
    watch = ConsoleWatch()
    watch.attach(page)
    page.console_watch = watch
    page.set_default_timeout(15_000)
    yield page
    assert not watch.errors, "browser errors:\n" + "\n".join(watch.errors)


@pytest.fixture
def screenshot():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str, *, full_page: bool = True) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


@pytest.fixture
def admin_login(live_server):
    """Sign in through the admin's password form (break-glass login) as ``user``."""

    def login(page, username: str, password: str = "pw-test-12345") -> None:
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("#login-form button[type=submit], form button[type=submit]")
        page.wait_for_url(f"{live_server.url}/admin/")

    return login


from tests.idp_fixtures import idp  # noqa: E402, F401  (the test OpenID Connect provider)
