"""Trusted proxies: the client's address, scheme and host, when a gateway forwarded the request.

A gateway in front (nginx, a platform's router) terminates TLS and connects from its own
address; it passes on what it saw in ``X-Forwarded-For``, ``X-Forwarded-Proto`` and
``X-Forwarded-Host``. Anyone can send those headers, so they are believed only from the
peers in ``FORWARDED_ALLOW_IPS`` (addresses or networks, ``*`` for any): gunicorn's own
setting, so the server and the app trust the same peers. gunicorn takes the scheme from a
trusted peer itself but leaves ``REMOTE_ADDR`` and ``Host`` alone; :class:`TrustedProxies`
rewrites all three in the environ, where ``request.remote_addr``, ``url_for``, the X-ray
and gunicorn's access log (which reads the same environ after the app) all find them.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from typing import TYPE_CHECKING

from microraab.config import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    from _typeshed.wsgi import WSGIEnvironment

# The environ values the forwarded headers replaced, as ProxyFix keeps them.
ORIGINAL_KEY = "microraab.proxy.original"
# A host, with an optional port: what a Host header may hold (no spaces, commas, slashes).
_HOST = re.compile(r"(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")
_FAMILIES = {4: socket.AF_INET, 6: socket.AF_INET6}
_REMEMBERED_PEERS = 256  # a gateway's few addresses; a bound, should the peers be many


class TrustedProxies:
    """Which peers may say where a request came from, and what they said.

    ``allowed`` is gunicorn's ``forwarded_allow_ips``: a comma-separated string or a list
    of addresses and networks (``10.0.0.0/8``), or ``*``. A peer with no IP address (a
    Unix socket) is trusted, as gunicorn trusts it. Raises ConfigError for a bad entry.
    """

    __slots__ = ("_peers", "_ranges", "networks", "trust_all")

    def __init__(self, allowed: str | Iterable[str]) -> None:
        entries = allowed.split(",") if isinstance(allowed, str) else allowed
        names = [entry.strip() for entry in entries if entry.strip()]
        self.trust_all = "*" in names
        try:
            self.networks = tuple(ipaddress.ip_network(name) for name in names if name != "*")
        except ValueError as error:
            raise ConfigError(
                f"FORWARDED_ALLOW_IPS: {error} (give addresses or networks, comma-separated)"
            ) from None
        # PERF: each network as (family, first, last) integers, and addresses read with
        # socket.inet_pton: 0.6-1.0 µs an address where ipaddress.ip_address took 4-6 in
        # the same timeit runs (a loaded machine: a gateway's every request reads one).
        self._ranges = tuple(
            (_FAMILIES[network.version], int(network[0]), int(network[-1]))
            for network in self.networks
        )
        self._peers: dict[str, bool] = {}

    def trusts(self, address: str) -> bool:
        """Whether ``address`` (an IP address as text) is one of the trusted proxies."""
        if self.trust_all:
            return True
        parsed = _parse(address)
        return parsed is not None and self._trusts_parsed(parsed)

    def _trusts_parsed(self, parsed: tuple[int, int]) -> bool:
        if self.trust_all:
            return True
        family, number = parsed
        for range_family, first, last in self._ranges:  # PERF: a loop, not any(): half the time
            if family == range_family and first <= number <= last:
                return True
        return False

    def trusts_peer(self, peer: str | None) -> bool:
        """Whether the peer that sent the request (``REMOTE_ADDR``) is a trusted proxy."""
        if not peer:
            return True  # a Unix socket: only this machine can connect, as gunicorn reasons
        # PERF: the peers are the gateway's few addresses; a verdict remembered costs one
        # dict lookup instead of parsing the address (~1 µs).
        known = self._peers.get(peer)
        if known is None:
            if len(self._peers) >= _REMEMBERED_PEERS:
                self._peers.clear()
            known = self._peers[peer] = self.trusts(peer)
        return known

    def client_address(self, peer: str, forwarded_for: str) -> str:
        """The client's address: walking ``X-Forwarded-For`` from the right (the hop the
        peer added), the first address that is not a trusted proxy. Entries left of it
        were written by the client and are never believed; an entry that is not an IP
        address stops the walk at the last good one."""
        client = peer
        for hop in reversed(forwarded_for.split(",")):
            hop = hop.strip()
            parsed = _parse(hop)
            if parsed is None:
                break
            client = hop
            if not self._trusts_parsed(parsed):
                break
        return client

    def apply(self, environ: WSGIEnvironment) -> None:
        """From a trusted peer, set ``REMOTE_ADDR``, ``wsgi.url_scheme`` and ``HTTP_HOST``
        from the forwarded headers, in place, and keep the values replaced under
        ``environ["microraab.proxy.original"]``. From any other peer, change nothing."""
        peer = environ.get("REMOTE_ADDR")
        if not self.trusts_peer(peer):
            return
        original: dict[str, str | None] = {}
        forwarded_for = environ.get("HTTP_X_FORWARDED_FOR")
        if forwarded_for:
            client = self.client_address(peer or "", forwarded_for)
            if client and client != peer:
                original["REMOTE_ADDR"] = peer
                environ["REMOTE_ADDR"] = client
        # The nearest proxy's value (the last): one that appends rather than replaces
        # leaves the client's own claim before it.
        scheme = _last(environ.get("HTTP_X_FORWARDED_PROTO")).lower()
        if scheme in ("http", "https") and scheme != environ.get("wsgi.url_scheme"):
            original["wsgi.url_scheme"] = environ.get("wsgi.url_scheme")
            environ["wsgi.url_scheme"] = scheme
        host = _last(environ.get("HTTP_X_FORWARDED_HOST"))
        if host and _HOST.fullmatch(host) and host != environ.get("HTTP_HOST"):
            original["HTTP_HOST"] = environ.get("HTTP_HOST")
            environ["HTTP_HOST"] = host
        if original:
            environ[ORIGINAL_KEY] = original


def _parse(address: str) -> tuple[int, int] | None:
    """(address family, the address as an integer), or None if it is no IP address."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    try:
        return family, int.from_bytes(socket.inet_pton(family, address), "big")
    except OSError:
        return None


def _last(header: str | None) -> str:
    """The last of a header's comma-separated values, stripped ('' for none)."""
    return header.rpartition(",")[2].strip() if header else ""
