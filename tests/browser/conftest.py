"""A real browser on the real server: headless Chromium (Debian's) driven by Selenium, against
``gunicorn app:app`` with gevent workers on the test session's ``mongod``.

Nothing here downloads anything: Chromium and chromedriver come from the system (apt's
``chromium`` and ``chromium-driver``), Selenium Manager is bypassed by naming both binaries,
and the browser is started with its background networking switched off. Without Chromium the
tests are skipped, saying why. All traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import base64
import contextlib
import html
import http.client
import http.server
import json
import os
import re
import secrets
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient
from pymongo.database import Database

from app.mongo_server import stop_process
from tests.gunicorn_app import start_app

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "img"

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")
CHROMEDRIVER_CANDIDATES = ("/usr/bin/chromedriver", "chromedriver")

# Chromium asks for /favicon.ico when a page names no icon; the app has none (404). The entry
# may be logged a little after the page's check, so it is recognised by its shape only.
DEFAULT_ICON_404 = re.compile(
    r"http://127\.0\.0\.1:\d+/favicon\.ico - Failed to load resource: "
    r"the server responded with a status of 404\b"
)

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-default-browser-check",
)

# Runs before any script of every document: records Content-Security-Policy violations, so a
# test sees them even if Chromium's wording in the console changes.
CSP_RECORDER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    event.violatedDirective + " blocked " + (event.blockedURI || "inline")
      + " in " + event.documentURI
  );
});
"""


def _find(candidates: tuple[str, ...]) -> str | None:
    for candidate in candidates:
        found = shutil.which(candidate)
        if found:
            return found
    return None


# --- the app under test --------------------------------------------------------------------


@dataclass
class LiveServer:
    """``gunicorn app:app`` on a loopback port, and the database it writes to."""

    base_url: str
    process: subprocess.Popen[bytes]
    log: Path
    db: Database[Any]

    def url(self, path: str) -> str:
        return self.base_url + path

    def post_json(self, path: str, body: Any) -> tuple[int, Any]:
        """POST JSON to the app (the API needs no CSRF token); status and decoded body."""
        return self.request_json("POST", path, json.dumps(body))

    def get_json(self, path: str) -> tuple[int, Any]:
        """GET a JSON document from the app; status and decoded body."""
        return self.request_json("GET", path)

    def request_json(self, method: str, path: str, body: str | None = None) -> tuple[int, Any]:
        host, port = self.base_url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            headers = {"Content-Type": "application/json"} if body is not None else {}
            connection.request(method, path, body, headers)
            response = connection.getresponse()
            return response.status, json.loads(response.read() or b"null")
        finally:
            connection.close()


@contextlib.contextmanager
def running_app(
    mongo_uri: str,
    mongo_client: MongoClient[dict[str, Any]],
    log_dir: Path,
    extra_env: dict[str, str],
) -> Iterator[LiveServer]:
    """``gunicorn app:app`` (gevent) on a free loopback port with its own database."""
    database = f"test_browser_{secrets.token_hex(6)}"
    log = log_dir / "gunicorn.log"
    env = {"MICRORAAB_SECRET_KEY": secrets.token_hex(32), **extra_env}
    port, process = start_app(mongo_uri, database, log, env=env)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", process, log, mongo_client[database])
    finally:
        stop_process(process, 15)
        mongo_client.drop_database(database)


@pytest.fixture(scope="session")
def live_server(
    mongo_uri: str,
    mongo_client: MongoClient[dict[str, Any]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveServer]:
    """The app as it is deployed: gunicorn + gevent workers, production mode, own database."""
    with running_app(mongo_uri, mongo_client, tmp_path_factory.mktemp("gunicorn"), {}) as live:
        yield live


@pytest.fixture(scope="session")
def dev_server(
    mongo_uri: str,
    mongo_client: MongoClient[dict[str, Any]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveServer]:
    """The app in development mode (request X-ray on), two workers sharing the traces."""
    extra = {"MICRORAAB_ENV": "development", "WEB_CONCURRENCY": "2"}
    with running_app(mongo_uri, mongo_client, tmp_path_factory.mktemp("dev"), extra) as live:
        yield live


@pytest.fixture
def server(live_server: LiveServer) -> LiveServer:
    """The live server with no links stored, so each test sees only its own."""
    live_server.db["links"].delete_many({})
    return live_server


# --- somewhere for short links to lead -----------------------------------------------------


class _TargetHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/favicon.ico":
            self.send_response(204)
            self.end_headers()
            return
        body = (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<title>Arrived</title></head><body><h1 id='arrived'>You arrived</h1>"
            f"<p id='path'>{html.escape(self.path)}</p></body></html>"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def target_site() -> Iterator[str]:
    """A small local web site, the target the short links point to: its base URL."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _TargetHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


# --- the browser ---------------------------------------------------------------------------


@dataclass
class Browser:
    """A headless Chromium and the checks every page gets."""

    driver: Any

    def console(self) -> list[dict[str, Any]]:
        """The browser log since the last call (reading it empties it)."""
        return list(self.driver.get_log("browser"))

    def response_status(self) -> int:
        """The HTTP status of the current document (Navigation Timing's responseStatus)."""
        return int(
            self.driver.execute_script(
                "return performance.getEntriesByType('navigation')[0].responseStatus"
            )
        )

    def check_page(self, status: int = 200) -> None:
        """Assert the page came with ``status``, logged no errors and broke no CSP rule.

        Two SEVERE lines are expected and allowed, nothing else: Chromium logs a non-2xx
        document as "Failed to load resource" for its own URL, so an error page has that one;
        and a page that names no icon makes Chromium ask for /favicon.ico, which is a 404.
        """
        assert self.response_status() == status, self.driver.current_url
        violations = self.driver.execute_script("return window.__cspViolations || []")
        url = self.driver.current_url
        has_icon = self.driver.execute_script("return !!document.querySelector('link[rel~=icon]')")
        problems = []
        for entry in self.console():
            message = entry["message"]
            if "Content Security Policy" in message or "Content-Security-Policy" in message:
                problems.append(entry)
            elif entry["level"] == "SEVERE":
                own_status = (
                    status >= 400
                    and message.startswith(url.split("#")[0] + " ")
                    and f"status of {status} " in message
                )
                default_icon = not has_icon and DEFAULT_ICON_404.match(message) is not None
                if not (own_status or default_icon):
                    problems.append(entry)
        assert not violations, f"CSP violations on {url}: {violations}"
        assert not problems, f"browser console on {url}: {problems}"

    def page_width(self) -> int:
        """How wide the page's content is, in CSS pixels (wider than the screen: it scrolls)."""
        return int(self.driver.execute_script("return document.documentElement.scrollWidth"))

    @contextlib.contextmanager
    def phone(self, width: int = 375, height: int = 740) -> Iterator[None]:
        """Emulate a phone's screen: ``width`` CSS pixels, a mobile viewport.

        At 1x density, so a screenshot is as wide as the phone's CSS pixels (375 px).
        """
        metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": True}
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        try:
            yield
        finally:
            self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

    def screenshot(self, name: str, around: str | None = None) -> None:
        """Save the whole page as docs/img/<name>.png, only when UPDATE_SCREENSHOTS=1.

        With ``around`` (a CSS selector), only the window's bottom strip down from 120 px
        above that element: how a fixed toolbar looks over the page.
        """
        if os.environ.get("UPDATE_SCREENSHOTS") != "1":
            return
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        # The page down to the end of its content (the footer), not the empty window below.
        width, height = self.driver.execute_script(
            "const style = getComputedStyle(document.body);"
            "return [document.documentElement.clientWidth,"
            " Math.ceil(document.body.getBoundingClientRect().bottom"
            " + parseFloat(style.marginBottom))]"
        )
        clip = {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}
        if around is not None:
            top, bottom = self.driver.execute_script(
                "const box = document.querySelector(arguments[0]).getBoundingClientRect();"
                "return [Math.max(0, box.top - 120), window.innerHeight]",
                around,
            )
            clip.update(y=top, height=bottom - top)
        shot = self.driver.execute_cdp_cmd(
            "Page.captureScreenshot",
            {"format": "png", "captureBeyondViewport": True, "clip": clip},
        )
        (SCREENSHOTS / f"{name}.png").write_bytes(base64.b64decode(shot["data"]))


@pytest.fixture(scope="session")
def chromium_binaries() -> tuple[str, str]:
    """The paths of Chromium and chromedriver; the browser tests are skipped without them."""
    binary = _find(CHROMIUM_CANDIDATES)
    driver_path = _find(CHROMEDRIVER_CANDIDATES)
    if binary is None or driver_path is None:
        pytest.skip(
            "browser tests need Chromium and chromedriver on PATH "
            "(Debian/Ubuntu: apt-get install chromium chromium-driver); "
            f"found chromium={binary}, chromedriver={driver_path}"
        )
    return binary, driver_path


@pytest.fixture(scope="session")
def chromium(
    chromium_binaries: tuple[str, str],
    live_server: LiveServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Any]:
    """One headless Chromium for the session, with a fresh profile.

    It depends on ``live_server`` only so that it quits first: gunicorn then stops at once
    instead of waiting out the browser's keep-alive connections.
    """
    binary, driver_path = chromium_binaries
    webdriver = pytest.importorskip(
        "selenium.webdriver", reason="browser tests need selenium (pip install -e '.[dev]')"
    )
    from selenium.webdriver.chrome.service import Service

    # Selenium Manager (which can download browsers and drivers) is never run when both
    # paths are given; offline mode is a second lock on that door.
    saved = os.environ.get("SE_OFFLINE")
    os.environ["SE_OFFLINE"] = "true"
    profile = tmp_path_factory.mktemp("chromium-profile")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument("--window-size=1024,768")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    log = tmp_path_factory.mktemp("chromedriver") / "chromedriver.log"
    service = Service(executable_path=driver_path, log_output=str(log))
    try:
        driver = webdriver.Chrome(service=service, options=options)
    except Exception as error:  # a broken install: say what happened
        pytest.fail(f"Chromium did not start ({binary}, {driver_path}): {error}")
    driver.set_page_load_timeout(20)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CSP_RECORDER})
    yield driver
    driver.quit()
    if saved is None:
        os.environ.pop("SE_OFFLINE", None)
    else:
        os.environ["SE_OFFLINE"] = saved


@pytest.fixture
def browser(chromium: Any) -> Iterator[Browser]:
    """The session's Chromium, with no cookies and an empty log at the start of each test."""
    chromium.get("about:blank")
    chromium.execute_cdp_cmd("Network.clearBrowserCookies", {})
    chromium.get_log("browser")
    yield Browser(chromium)
