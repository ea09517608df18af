"""Trusted proxies: forwarded headers believed from FORWARDED_ALLOW_IPS only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from microraab import App, Request
from microraab.config import ConfigError, load_config
from microraab.proxies import ORIGINAL_KEY, TrustedProxies
from microraab.xray import environ_brief

FORWARDED = {
    "X-Forwarded-For": "203.0.113.9",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "links.example",
}


@pytest.fixture
def seen(make_app: Callable[..., App]) -> Callable[..., dict[str, Any]]:
    """``seen(peer, headers, **config)``: what a view saw of a request from ``peer``."""

    def see(peer: str | None, headers: dict[str, str], **config: Any) -> dict[str, Any]:
        app = make_app(**config)

        @app.route("/links/<code>")
        def link(request: Request, code: str) -> dict[str, Any]:
            return {
                "remote_addr": request.remote_addr,
                "scheme": request.scheme,
                "host": request.host,
                "external": request.url_for("link", code=code, _external=True),
                "original": request.environ.get(ORIGINAL_KEY),
            }

        client = app.test_client()
        if peer is None:  # the test client's default peer is 127.0.0.1, as Flask's
            del client.environ_base["REMOTE_ADDR"]
        environ = {} if peer is None else {"REMOTE_ADDR": peer}
        response = client.get("/links/abc", headers=headers, environ_base=environ)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()  # type: ignore[no-any-return]

    return see


def test_a_trusted_proxy_sets_the_client_address_scheme_and_host(seen: Any) -> None:
    view = seen("127.0.0.1", FORWARDED)  # gunicorn's default: 127.0.0.1,::1
    assert view["remote_addr"] == "203.0.113.9"
    assert view["scheme"] == "https"
    assert view["host"] == "links.example"
    assert view["external"] == "https://links.example/links/abc"
    assert view["original"] == {
        "REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "http", "HTTP_HOST": "localhost",
    }  # fmt: skip


def test_forwarded_headers_from_an_untrusted_peer_change_nothing(seen: Any) -> None:
    view = seen("198.51.100.7", FORWARDED)
    assert view["remote_addr"] == "198.51.100.7"
    assert view["scheme"] == "http"
    assert view["host"] == "localhost"
    assert view["external"] == "http://localhost/links/abc"
    assert view["original"] is None


def test_the_trusted_list_is_gunicorns_forwarded_allow_ips_with_networks(seen: Any) -> None:
    allowed = "127.0.0.5, 10.0.0.0/8"
    assert seen("10.20.30.40", FORWARDED, FORWARDED_ALLOW_IPS=allowed)["scheme"] == "https"
    assert seen("127.0.0.5", FORWARDED, FORWARDED_ALLOW_IPS=allowed)["scheme"] == "https"
    assert seen("127.0.0.1", FORWARDED, FORWARDED_ALLOW_IPS=allowed)["scheme"] == "http"
    as_list = seen("::1", FORWARDED, FORWARDED_ALLOW_IPS=["::1"])
    assert as_list["remote_addr"] == "203.0.113.9"


def test_a_star_trusts_every_peer(seen: Any) -> None:
    assert seen("198.51.100.7", FORWARDED, FORWARDED_ALLOW_IPS="*")["host"] == "links.example"


def test_a_peer_without_an_ip_address_is_trusted_as_gunicorn_trusts_a_unix_socket(
    seen: Any,
) -> None:
    assert seen("", FORWARDED, FORWARDED_ALLOW_IPS="127.0.0.5")["remote_addr"] == "203.0.113.9"
    assert seen(None, FORWARDED, FORWARDED_ALLOW_IPS="127.0.0.5")["scheme"] == "https"


@pytest.mark.parametrize(
    ("forwarded_for", "client"),
    [
        # The client forged the first entry; the gateway appended the address it saw.
        pytest.param("1.1.1.1, 203.0.113.9", "203.0.113.9", id="forged-left-of-the-client"),
        # Two trusted hops (a CDN in 10/8, then the gateway): the first untrusted from the right.
        pytest.param("1.1.1.1, 203.0.113.9, 10.1.2.3", "203.0.113.9", id="through-two-proxies"),
        pytest.param("10.9.9.9, 10.1.2.3", "10.9.9.9", id="every-hop-trusted-the-leftmost"),
        pytest.param("<script>, 203.0.113.9", "203.0.113.9", id="garbage-left-of-the-client"),
        pytest.param("203.0.113.9, not-an-ip", "127.0.0.5", id="garbage-as-the-last-hop"),
        pytest.param("2001:db8::7", "2001:db8::7", id="ipv6"),
        pytest.param("", "127.0.0.5", id="empty"),
    ],
)
def test_the_client_is_the_rightmost_untrusted_address_in_x_forwarded_for(
    seen: Any, forwarded_for: str, client: str
) -> None:
    headers = {"X-Forwarded-For": forwarded_for}
    view = seen("127.0.0.5", headers, FORWARDED_ALLOW_IPS="127.0.0.5,10.0.0.0/8")
    assert view["remote_addr"] == client


@pytest.mark.parametrize(
    ("headers", "scheme", "host"),
    [
        pytest.param({"X-Forwarded-Proto": "ftp"}, "http", "localhost", id="unknown-scheme"),
        pytest.param({"X-Forwarded-Proto": "HTTPS"}, "https", "localhost", id="scheme-any-case"),
        pytest.param(
            {"X-Forwarded-Proto": "http, https"}, "https", "localhost", id="the-nearest-proxys"
        ),
        pytest.param({"X-Forwarded-Host": "a b/c"}, "http", "localhost", id="not-a-host"),
        pytest.param(
            {"X-Forwarded-Host": "evil.example, links.example:8443"}, "http",
            "links.example:8443", id="host-the-nearest-proxys",
        ),
        pytest.param({"X-Forwarded-Host": "[::1]:8443"}, "http", "[::1]:8443", id="ipv6-host"),
        pytest.param({"X-Forwarded-Host": "localhost"}, "http", "localhost", id="same-host"),
    ],
)  # fmt: skip
def test_scheme_and_host_take_the_nearest_proxys_well_formed_value(
    seen: Any, headers: dict[str, str], scheme: str, host: str
) -> None:
    view = seen("127.0.0.1", headers)
    assert (view["scheme"], view["host"]) == (scheme, host)


def test_a_forwarded_host_is_still_checked_against_trusted_hosts(
    make_app: Callable[..., App],
) -> None:
    app = make_app(TRUSTED_HOSTS=["links.example"])
    app.add_url_rule("/", "index", lambda request: request.host)
    client = app.test_client()
    trusted = {"REMOTE_ADDR": "127.0.0.1"}
    assert client.get("/", headers=FORWARDED, environ_base=trusted).data == b"links.example"
    forged = {"X-Forwarded-Host": "evil.example"}
    assert client.get("/", headers=forged, environ_base=trusted).status_code == 400


def test_the_x_ray_shows_the_client_and_the_proxy() -> None:
    environ = {"REMOTE_ADDR": "127.0.0.5", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}
    TrustedProxies("127.0.0.5").apply(environ)
    brief = environ_brief(environ)
    assert (brief["client"], brief["via proxy"]) == ("203.0.113.9", "127.0.0.5")
    direct = environ_brief({"REMOTE_ADDR": "198.51.100.7"})
    assert (direct["client"], direct["via proxy"]) == ("198.51.100.7", "-")


def test_the_default_is_the_forwarded_allow_ips_environment_variable() -> None:
    assert load_config(environ={})["FORWARDED_ALLOW_IPS"] == "127.0.0.1,::1"
    environ = {"FORWARDED_ALLOW_IPS": "127.0.0.5"}
    assert load_config(environ=environ)["FORWARDED_ALLOW_IPS"] == "127.0.0.5"
    given = load_config({"FORWARDED_ALLOW_IPS": "10.0.0.0/8"}, environ=environ)
    assert given["FORWARDED_ALLOW_IPS"] == "10.0.0.0/8"


def test_a_bad_entry_is_a_config_error_naming_it(make_app: Callable[..., App]) -> None:
    with pytest.raises(ConfigError, match=r"FORWARDED_ALLOW_IPS: .*'gateway'"):
        make_app(FORWARDED_ALLOW_IPS="127.0.0.5,gateway")


def test_verdicts_stay_right_past_the_remembered_peers() -> None:
    proxies = TrustedProxies("10.0.0.0/24")
    for n in range(600):
        address = f"10.0.{n // 256}.{n % 256}"
        assert proxies.trusts_peer(address) is (n < 256)
    assert proxies.trusts_peer("10.0.0.1") and not proxies.trusts("not-an-ip")
