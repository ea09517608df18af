"""The HTML pages, used the way people use them: in a real browser (headless Chromium).

Each test drives Chromium through the pages of ``gunicorn app:app`` and, after every page,
checks its HTTP status, that the browser console has no errors and that no
Content-Security-Policy rule was broken (``Browser.check_page``).

With ``UPDATE_SCREENSHOTS=1`` the same tests save the README's screenshots in docs/img/:
``UPDATE_SCREENSHOTS=1 python -m pytest tests/browser``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

pytest.importorskip("selenium", reason="browser tests need selenium (pip install -e '.[dev]')")

from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

if TYPE_CHECKING:  # the fixtures' types, from this directory's conftest.py
    from conftest import Browser, LiveServer

# Realistic links for the pages in the screenshots.
SAMPLE_URLS = [
    "https://werkzeug.palletsprojects.com/en/stable/routing/",
    "https://jinja.palletsprojects.com/en/stable/templates/#template-inheritance",
    "https://docs.gunicorn.org/en/stable/design.html#async-workers",
    "https://www.gevent.org/intro.html",
    "https://www.mongodb.com/docs/manual/reference/operator/update/inc/",
    "https://pymongo.readthedocs.io/en/stable/api/pymongo/collection.html",
    "https://peps.python.org/pep-3333/",
    "https://itsdangerous.palletsprojects.com/en/stable/",
    "https://owasp.org/www-community/attacks/csrf",
    "https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/Content-Security-Policy",
    "https://www.rainbond.com/docs/",
    "https://www.techempower.com/benchmarks/",
]


# What app.application.prepare_database sends, once per worker, on its first request.
PREPARE_COMMANDS = ("createIndexes", "createIndexes", "count", "count")

LISTED_LENGTH = 60  # templates/index.html shows a longer URL cut to this, ending in "…"


def listed(url: str) -> str:
    """How the list of recent links shows ``url``."""
    return url if len(url) <= LISTED_LENGTH else url[: LISTED_LENGTH - 1] + "…"


def wait(browser: Browser, condition: Any, timeout: float = 10) -> Any:
    return WebDriverWait(browser.driver, timeout).until(condition)


def gone(element: Any) -> Any:
    """A wait condition: ``element``'s page has been replaced (Selenium's ``staleness_of``).

    Mid-navigation Chromium may answer "Node with given id does not belong to the
    document" instead of a stale-element error. It means the same, and Selenium's own
    condition would raise it.
    """

    def replaced(driver: Any) -> bool:
        try:
            element.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as e:
            if "does not belong to the document" in str(e):
                return True
            raise
        return False

    return replaced


def text(browser: Browser, css: str) -> str:
    return str(browser.driver.find_element(By.CSS_SELECTOR, css).text)


def submit_form(browser: Browser, url: str, code: str = "", with_token: bool = True) -> None:
    """Type into the home page's form and press the button, as a person would.

    The browser sends the CSRF token itself, from the form's hidden field (checked to be
    there unless ``with_token`` is false).
    """
    driver = browser.driver
    form = driver.find_element(By.CSS_SELECTOR, "form[method=post]")
    if with_token:
        token = form.find_element(By.NAME, "csrf_token")
        assert token.get_attribute("type") == "hidden"
        assert len(token.get_attribute("value") or "") >= 32
    field = form.find_element(By.ID, "url")
    field.clear()
    field.send_keys(url)
    if code:
        form.find_element(By.ID, "code").send_keys(code)
    old_page = driver.find_element(By.TAG_NAME, "html")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(browser, gone(old_page))


def follow_link(browser: Browser, css: str) -> None:
    old_page = browser.driver.find_element(By.TAG_NAME, "html")
    browser.driver.find_element(By.CSS_SELECTOR, css).click()
    wait(browser, gone(old_page))


def test_shorten_a_url_follow_it_and_see_the_click_counted(
    browser: Browser, server: LiveServer, target_site: str
) -> None:
    driver = browser.driver
    target = f"{target_site}/articles/gevent?from=links"
    driver.get(server.url("/"))
    browser.check_page()
    assert driver.title == "Shorten a URL · microraab"
    assert "No links yet" in text(browser, "main")

    submit_form(browser, target)
    browser.check_page()
    assert driver.current_url.endswith("+")
    assert text(browser, ".flash-success") == "Your short link is ready."
    assert text(browser, "#target") == target
    assert text(browser, "#clicks") == "0"
    [stored] = server.db["links"].find()
    assert stored["url"] == target
    assert stored["clicks"] == 0
    short_url = text(browser, "#short-url")
    assert short_url == server.url("/" + stored["code"])
    details_url = driver.current_url

    follow_link(browser, "#short-url")
    assert driver.current_url == target
    assert text(browser, "#arrived") == "You arrived"
    assert text(browser, "#path") == "/articles/gevent?from=links"
    browser.check_page()
    # Counted right after the 302 was sent: wait for it, bounded by the client's 5 s
    # socket timeout.
    deadline = time.monotonic() + 5
    while server.db["links"].find_one({"code": stored["code"]})["clicks"] != 1:
        assert time.monotonic() < deadline, "the click was not counted"
        time.sleep(0.05)

    driver.back()
    wait(browser, expected_conditions.url_to_be(details_url))
    driver.refresh()
    browser.check_page()
    assert text(browser, "#clicks") == "1"

    follow_link(browser, "a[href='/']")
    browser.check_page()
    [item] = driver.find_elements(By.CSS_SELECTOR, ".links li")
    assert text(browser, ".links .code") == stored["code"]
    assert item.find_element(By.CSS_SELECTOR, ".clicks").text == "1 click"
    assert "Shorten another" not in text(browser, "main")


@pytest.mark.parametrize(
    ("typed", "strip_browser_checks", "message"),
    [
        # The browser accepts it as a URL; the server refuses it.
        (
            "http://user:pw@example.com/",
            False,
            "URLs with a user name or password are not accepted.",
        ),
        # The browser would refuse it (type=url): take its checks away, as an attacker could.
        ("javascript:alert(1)", True, "Only http:// and https:// URLs can be shortened."),
    ],
    ids=["credentials", "javascript"],
)
def test_an_invalid_url_is_refused_with_a_message_and_nothing_stored(
    browser: Browser, server: LiveServer, typed: str, strip_browser_checks: bool, message: str
) -> None:
    driver = browser.driver
    driver.get(server.url("/"))
    browser.check_page()
    if strip_browser_checks:
        driver.execute_script(
            "const field = document.getElementById('url');"
            "field.removeAttribute('type'); field.removeAttribute('required');"
            "field.removeAttribute('pattern');"
        )

    submit_form(browser, typed)
    browser.check_page(400)
    assert driver.current_url == server.url("/")
    error = driver.find_element(By.ID, "form-error")
    assert error.text == message
    assert error.get_attribute("role") == "alert"
    field = driver.find_element(By.ID, "url")
    assert field.get_attribute("value") == typed
    assert field.get_attribute("aria-describedby") == "form-error"
    assert "No links yet" in text(browser, "main")
    assert server.db["links"].count_documents({}) == 0
    assert driver.execute_script("return document.querySelectorAll('.flash').length") == 0


def test_a_form_without_its_security_token_is_refused(
    browser: Browser, server: LiveServer, target_site: str
) -> None:
    driver = browser.driver
    driver.get(server.url("/"))
    browser.check_page()
    driver.execute_script("document.querySelector('input[name=csrf_token]').remove()")
    assert not driver.find_elements(By.NAME, "csrf_token")

    submit_form(browser, f"{target_site}/no-token", with_token=False)
    browser.check_page(403)
    assert driver.title == "403 Forbidden · microraab"
    assert text(browser, "h1") == "403 · Forbidden"
    assert "security token is missing or does not match" in text(browser, ".error-page")
    assert server.db["links"].count_documents({}) == 0
    print("\n--- the page after submitting without the CSRF token ---")
    print(text(browser, "body"))

    # Reloading the form, as the page says, gives a working token again.
    follow_link(browser, ".error-page a")
    browser.check_page()
    submit_form(browser, f"{target_site}/with-token")
    browser.check_page()
    assert text(browser, "#target") == f"{target_site}/with-token"


def test_page_through_the_recent_links(browser: Browser, server: LiveServer) -> None:
    driver = browser.driver
    for url in SAMPLE_URLS[:-1]:
        status, _ = server.post_json("/api/links", {"url": url})
        assert status == 201
    driver.get(server.url("/"))
    browser.check_page()
    submit_form(browser, SAMPLE_URLS[-1], code="benchmarks")
    browser.check_page()
    assert text(browser, "h1") == "Short link benchmarks"
    browser.screenshot("link")

    follow_link(browser, "a.brand")
    browser.check_page()
    newest = driver.find_elements(By.CSS_SELECTOR, ".links .target")
    assert [e.get_attribute("title") for e in newest] == SAMPLE_URLS[::-1][:10]
    assert [e.text for e in newest] == [listed(url) for url in SAMPLE_URLS[::-1][:10]]
    assert not driver.find_elements(By.LINK_TEXT, "Newest")
    browser.screenshot("home")

    follow_link(browser, "a[rel=next]")
    browser.check_page()
    assert "cursor=" in driver.current_url
    older = driver.find_elements(By.CSS_SELECTOR, ".links .target")
    assert [e.get_attribute("title") for e in older] == SAMPLE_URLS[1::-1]
    assert not driver.find_elements(By.CSS_SELECTOR, "a[rel=next]")

    follow_link(browser, ".pager a")
    browser.check_page()
    assert driver.current_url == server.url("/")
    assert len(driver.find_elements(By.CSS_SELECTOR, ".links li")) == 10


def test_the_pages_fit_a_phone(browser: Browser, server: LiveServer) -> None:
    # As long as a URL may be (2,048 characters): cut short in the list, whole on its page.
    long_url = "https://example.com/" + "a-very-long-path-segment/" * 8 + "?q="
    long_url += "x" * (2048 - len(long_url))
    for url in [*SAMPLE_URLS[:4], long_url]:
        assert server.post_json("/api/links", {"url": url})[0] == 201
    with browser.phone(375):
        browser.driver.get(server.url("/"))
        browser.check_page()
        assert browser.page_width() <= 375
        # One link per block: its code and clicks on a line, the target below them.
        first = browser.driver.find_element(By.CSS_SELECTOR, ".links li:first-child")
        code, target, clicks = (
            first.find_element(By.CSS_SELECTOR, css).rect for css in (".code", ".target", ".clicks")
        )
        assert clicks["y"] < target["y"]
        assert code["y"] < target["y"]
        assert clicks["x"] > code["x"] + code["width"]
        assert target["x"] >= 0 and target["x"] + target["width"] <= 375
        shown = first.find_element(By.CSS_SELECTOR, ".target")
        assert (shown.text, shown.get_attribute("title")) == (listed(long_url), long_url)
        assert target["height"] < 5 * code["height"]  # a few wrapped lines, not a wall
        browser.screenshot("home-mobile")
        follow_link(browser, ".links li:first-child a.code")
        browser.check_page()
        assert text(browser, "#target") == long_url
        assert browser.page_width() <= 375


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/no-such-link", "There is no short link 'no-such-link'."),
        ("/no-such-link+", "There is no short link 'no-such-link'."),
        ("/not/a/page", "The requested URL was not found on the server."),
    ],
    ids=["follow", "details", "unrouted"],
)
def test_a_missing_page_is_a_404_page(
    browser: Browser, server: LiveServer, path: str, message: str
) -> None:
    driver = browser.driver
    driver.get(server.url(path))
    browser.check_page(404)
    assert driver.title == "404 Not Found · microraab"
    assert text(browser, "h1") == "404 · Not Found"
    assert message in text(browser, ".error-page")
    if path == "/no-such-link":
        browser.screenshot("404")
    follow_link(browser, ".error-page a")
    browser.check_page()
    assert driver.current_url == server.url("/")


def test_the_page_check_catches_a_csp_violation(
    browser: Browser, server: LiveServer, target_site: str
) -> None:
    """The guard itself: a resource from another origin is blocked, and check_page says so."""
    driver = browser.driver
    driver.get(server.url("/"))
    driver.execute_script(
        "const img = document.createElement('img');"
        f"img.src = '{target_site}/tracker.png'; document.body.append(img);"
        "const script = document.createElement('script');"
        "script.textContent = 'window.injected = true'; document.body.append(script);"
    )
    wait(browser, lambda d: len(d.execute_script("return window.__cspViolations")) >= 2)
    assert driver.execute_script("return window.injected") is None
    with pytest.raises(AssertionError, match="CSP violations"):
        browser.check_page()


def test_the_page_check_catches_a_script_error(browser: Browser, server: LiveServer) -> None:
    """The guard itself: an uncaught error in the page is a SEVERE console entry."""
    driver = browser.driver
    driver.get(server.url("/"))
    driver.execute_async_script(
        "const done = arguments[0];"
        "setTimeout(() => { throw new Error('boom from the page'); });"
        "setTimeout(done, 100);"
    )
    with pytest.raises(AssertionError, match="boom from the page"):
        browser.check_page()


def test_the_toolbar_leads_to_the_requests_timeline(
    browser: Browser, dev_server: LiveServer
) -> None:
    for url in SAMPLE_URLS[:4]:
        assert dev_server.post_json("/api/links", {"url": url})[0] == 201
    status, _ = dev_server.post_json(
        "/api/links", {"url": "https://www.mongodb.com/docs/", "code": "traced"}
    )
    assert status == 201
    driver = browser.driver
    driver.get(dev_server.url("/"))
    browser.check_page()
    toolbar = text(browser, ".xray-toolbar")
    assert "1 template" in toolbar and " ms" in toolbar
    # The page's commands, from its trace: one find, and nothing from the POSTs before it.
    # A worker's first request also prepares the database (app.application's
    # prepare_database, once per process: two createIndexes, and two counts that find the
    # data seeded by the worker that served the first POST). Whether the other worker
    # served none of the POSTs is up to the kernel: CI saw it twice.
    trace_url = driver.find_element(By.CSS_SELECTOR, ".xray-toolbar a").get_attribute("href")
    status, trace = dev_server.get_json(urlsplit(trace_url or "").path + ".json")
    assert status == 200 and trace["path"] == "/"
    commands = [event["name"] for event in trace["events"] if event["kind"] == "mongodb"]
    assert f"mongodb {len(commands)} in" in toolbar
    prepared = sorted(name for name in commands if name in PREPARE_COMMANDS)
    assert prepared in ([], sorted(PREPARE_COMMANDS))
    assert [name for name in commands if name not in PREPARE_COMMANDS] == ["find"]
    browser.screenshot("xray-toolbar", around=".xray-toolbar")

    driver.get(dev_server.url("/traced+"))
    browser.check_page()
    follow_link(browser, ".xray-toolbar a")
    browser.check_page()
    assert driver.title == "GET /traced+ · X-ray · microraab"
    assert "/<code:code>+ -> pages.detail {'code': 'traced'}" in text(browser, "main")
    rows = driver.find_elements(By.CSS_SELECTOR, ".xray-timeline .xray-span")
    spans = [
        (row.find_element(By.CSS_SELECTOR, ".xray-kind").text.lower(), row.get_attribute("class"))
        for row in rows
    ]
    assert spans[0] == ("request", "xray-span xray-depth-0 xray-kind-request")
    # The command drawn inside the view, inside dispatch_request, inside the request.
    kinds = [kind for kind, _ in spans]
    assert kinds.index("stage") < kinds.index("view") < kinds.index("mongodb")
    assert "xray-depth-3 xray-kind-call" in spans[kinds.index("mongodb")][1]
    assert "xray-depth-3 xray-kind-template" in spans[kinds.index("template")][1]
    # Every bar is drawn, within the axis, and the request's spans the whole of it.
    axis = rows[0].find_element(By.CSS_SELECTOR, "svg").rect
    bars = [row.find_element(By.CSS_SELECTOR, "rect").rect for row in rows]
    assert bars[0]["width"] == pytest.approx(axis["width"], abs=1)
    left, right = axis["x"] - 1, axis["x"] + axis["width"] + 1
    for bar in bars:
        assert bar["width"] > 0 and bar["height"] > 0
        assert left <= bar["x"] and bar["x"] + bar["width"] <= right
    assert 'links {"code": "?"}' in text(browser, ".xray-timeline")
    browser.screenshot("xray")

    follow_link(browser, "a.xray-brand")
    browser.check_page()
    field = driver.find_element(By.ID, "xray-path")
    field.send_keys("traced")
    old_page = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.CSS_SELECTOR, ".xray-filter button").click()
    wait(browser, gone(old_page))
    browser.check_page()
    paths = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".xray-traces td.xray-path")]
    assert paths and set(paths) == {"/traced+"}


def test_the_xray_pages_fit_a_phone(browser: Browser, dev_server: LiveServer) -> None:
    long_url = "https://example.com/" + "a-very-long-path-segment/" * 8 + "?q=" + "x" * 80
    assert dev_server.post_json("/api/links", {"url": long_url, "code": "long-one"})[0] == 201
    driver = browser.driver
    with browser.phone(375):
        driver.get(dev_server.url("/long-one+"))
        browser.check_page()
        assert browser.page_width() <= 375
        toolbar = driver.find_element(By.CSS_SELECTOR, ".xray-toolbar").rect
        assert toolbar["x"] >= 0 and toolbar["x"] + toolbar["width"] <= 375
        follow_link(browser, ".xray-toolbar a")
        browser.check_page()
        assert browser.page_width() <= 375
        bars = [e.rect for e in driver.find_elements(By.CSS_SELECTOR, ".xray-span svg")]
        # One axis: every row's bar as wide as the others, most of the screen's width.
        assert bars[0]["width"] > 375 * 0.8
        assert {(bar["x"], bar["width"]) for bar in bars} == {(bars[0]["x"], bars[0]["width"])}
        browser.screenshot("xray-mobile")
        follow_link(browser, "a.xray-brand")
        browser.check_page()
        assert browser.page_width() <= 375
