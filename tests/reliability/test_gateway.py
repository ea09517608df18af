"""Two instances of the app behind a real gateway: nginx terminating TLS in front of two
``gunicorn app:app`` masters on a three-member replica set, spoken to with real clients
(``http.client`` over TLS, wrk, slowhttptest).

nginx runs the configuration shown in docs/deploying.md ("The nginx config the tests
use"): the test reads it from there, puts in this run's ports and certificate, and starts
nginx on a free loopback port; nginx connects to the instances from 127.0.0.5
(``proxy_bind``), the one address the instances trust (``FORWARDED_ALLOW_IPS``). The
certificate is self-signed, made here with the ``openssl`` command. Everything is started
once for the module and stopped by its pid.
"""

from __future__ import annotations

import http.client
import json
import os
import pwd
import re
import shutil
import signal
import ssl
import subprocess
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from app.mongo_server import free_port, stop_process
from benchmarks import slowclients
from tests.gunicorn_app import ROOT, Reply, healthy, start_app
from tests.reliability.conftest import ACCESS_FORMAT, Gunicorn
from tests.reliability.replica_set import ReplicaSet, Writers, stored_links

pytestmark = pytest.mark.slow

DOC = ROOT / "docs" / "deploying.md"
GATEWAY_ADDRESS = "127.0.0.5"  # nginx's proxy_bind, and the instances' FORWARDED_ALLOW_IPS
CLIENT_ADDRESS = "127.0.0.9"  # where the test's clients connect from
PUBLIC_NAME = "links.test"
SECRET_KEY = "gateway-test-key"
# The client's address first in each access-log line, then the answering worker's pid.
GATEWAY_ACCESS_FORMAT = "%(h)s " + ACCESS_FORMAT
# In the doc's config, the values a run replaces with its own (each appears once).
DOC_PORTS = {"instance_1": "127.0.0.1:8001", "instance_2": "127.0.0.1:8002"}
DOC_LISTEN = "127.0.0.1:8443"
DOC_CERTIFICATE = "/etc/ssl/links.crt"
DOC_KEY = "/etc/ssl/private/links.key"

LOAD_SECONDS = 10
WRK_CONNECTIONS = 8
WRITERS = 4
STEP_DOWN_AT = 3.0  # s into the load
KILL_AT = 6.0
STEP_DOWN_SECONDS = 60  # longer than the module: the old primary stays a secondary
WAIT = 30.0  # a deadline on waiting for something to happen, not an expectation


def nginx_config_from_the_doc() -> str:
    """The ```nginx block under "The nginx config the tests use" in docs/deploying.md."""
    text = DOC.read_text()
    section = text.partition("### The nginx config the tests use")[2]
    match = re.search(r"```nginx\n(.*?)```", section, re.S)
    assert match, "docs/deploying.md has no nginx block under its heading"
    return match.group(1)


@dataclass
class Nginx:
    """nginx on 127.0.0.1:``port`` with TLS; ``request`` speaks to it as a browser would."""

    port: int
    process: subprocess.Popen[bytes]
    directory: Path
    certificate: Path
    context: ssl.SSLContext = field(init=False)

    def __post_init__(self) -> None:
        self.context = ssl.create_default_context(cafile=str(self.certificate))

    @property
    def host(self) -> str:
        """The public host, as the client names it."""
        return f"{PUBLIC_NAME}:{self.port}"

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        source: str = CLIENT_ADDRESS,
        timeout: float = 10.0,
    ) -> Reply:
        """One request over TLS on a new connection from ``source``, certificate checked."""
        started = time.monotonic()
        connection = http.client.HTTPSConnection(
            "127.0.0.1", self.port, context=self.context, timeout=timeout,
            source_address=(source, 0),
        )  # fmt: skip
        try:
            all_headers = {"Host": self.host, **(headers or {})}
            connection.request(method, path, body=body, headers=all_headers)
            response = connection.getresponse()
            data = response.read()
            seconds = time.monotonic() - started
            return Reply(response.status, data, dict(response.getheaders()), seconds)
        finally:
            connection.close()

    def post(self, path: str, body: Any, timeout: float = 10.0) -> Reply:
        """POST ``body`` as JSON (what :class:`Writers` sends)."""
        headers = {"Content-Type": "application/json"}
        return self.request("POST", path, json.dumps(body).encode(), headers, timeout=timeout)

    def log(self) -> str:
        return (self.directory / "error.log").read_text(errors="replace")

    def stop(self) -> None:
        stop_process(self.process, 10)


@dataclass
class Deployment:
    replica_set: ReplicaSet
    instances: list[Gunicorn]
    gateway: Nginx
    database: str
    directory: Path


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for links.test and 127.0.0.1, and its key (openssl)."""
    certificate, key = directory / "links.crt", directory / "links.key"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "1", "-subj", f"/CN={PUBLIC_NAME}",
            "-addext", f"subjectAltName=DNS:{PUBLIC_NAME},IP:127.0.0.1",
            "-keyout", str(key), "-out", str(certificate),
        ],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    return certificate, key


def start_nginx(directory: Path, instances: list[Gunicorn]) -> Nginx:
    """nginx with the doc's config for this run, in ``directory``; ready once it answers."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    certificate, key = make_certificate(directory)
    port = free_port()
    config = nginx_config_from_the_doc()
    replacements = {
        DOC_LISTEN: f"127.0.0.1:{port}",
        DOC_CERTIFICATE: str(certificate),
        DOC_KEY: str(key),
        **{
            doc: f"127.0.0.1:{server.port}"
            for doc, server in zip(DOC_PORTS.values(), instances, strict=True)
        },
    }
    for doc_value, value in replacements.items():
        assert config.count(doc_value) == 1, f"{doc_value} is not once in the doc's config"
        config = config.replace(doc_value, value)
    (directory / "links.conf").write_text(config)
    # Around the doc's http-level part: this run's files, and nothing of /etc/nginx.
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
    temp = " ".join(
        f"{kind}_temp_path {directory / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (directory / "nginx.conf").write_text(
        f"{user}\ndaemon off;\nworker_processes 1;\npid {directory / 'nginx.pid'};\n"
        f"error_log {directory / 'error.log'} warn;\n"
        "events { worker_connections 2048; }\n"
        f"http {{\n  access_log {directory / 'access.log'};\n  {temp}\n"
        f"  include {directory / 'links.conf'};\n}}\n"
    )
    command = [binary, "-p", str(directory), "-c", str(directory / "nginx.conf"),
               "-e", str(directory / "error.log")]  # fmt: skip
    with (directory / "console.log").open("wb") as console:
        process = subprocess.Popen(command, stdout=console, stderr=subprocess.STDOUT)
    gateway = Nginx(port, process, directory, certificate)
    deadline = time.monotonic() + WAIT
    while True:
        try:
            if gateway.request("GET", "/healthz", timeout=2).status == 200:
                return gateway
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            gateway.stop()
            console_text = (directory / "console.log").read_text()
            pytest.fail(f"nginx did not start:\n{console_text}\n{gateway.log()}")
        time.sleep(0.1)


def start_instance(
    replica_set: ReplicaSet, database: str, log: Path, secret_key: str = SECRET_KEY
) -> Gunicorn:
    """One ``gunicorn app:app`` master with one worker, trusting only the gateway."""
    args = ["--access-logformat", GATEWAY_ACCESS_FORMAT]
    env = {"FORWARDED_ALLOW_IPS": GATEWAY_ADDRESS, "MICRORAAB_SECRET_KEY": secret_key}
    port, process = start_app(replica_set.uri, database, log, workers=1, args=args, env=env)
    server = Gunicorn(port, process, log, 1)
    server.started = sorted(server.wait_for_workers(1))
    return server


@pytest.fixture(scope="module")
def deployment(
    replica_set: ReplicaSet, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    if shutil.which("nginx") is None and not os.access("/usr/sbin/nginx", os.X_OK):
        pytest.skip("nginx is not installed (Debian's nginx package; .ci/run installs it)")
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed (Debian's openssl package; .ci/run installs it)")
    directory = tmp_path_factory.mktemp("gateway")
    instances: list[Gunicorn] = []
    gateway = None
    try:
        for number in (1, 2):
            instances.append(
                start_instance(replica_set, "gateway", directory / f"instance-{number}.log")
            )
        gateway = start_nginx(directory, instances)
        yield Deployment(replica_set, instances, gateway, "gateway", directory)
    finally:
        if gateway is not None:
            gateway.stop()
        for server in instances:
            server.stop()


def access_lines(server: Gunicorn, marker: str) -> list[str]:
    """The lines of ``server``'s access log whose request line contains ``marker``."""
    return [line for line in server.log_text().splitlines() if marker in line and '"' in line]


def wait_for_access_line(deployment: Deployment, marker: str) -> tuple[int, str]:
    """Which instance (0 or 1) logged the request with ``marker``, and its line."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        for number, server in enumerate(deployment.instances):
            lines = access_lines(server, marker)
            if lines:
                return number, lines[0]
        time.sleep(0.05)
    raise AssertionError(f"no instance logged {marker}")


# -- scheme, host and address ---------------------------------------------------------------


def test_links_made_through_the_gateway_are_https_with_the_public_host(
    deployment: Deployment,
) -> None:
    gateway = deployment.gateway
    created = gateway.post("/api/links", {"url": "https://example.com/gw", "code": "gw-https"})
    assert created.status == 201, created.body
    public = f"https://{gateway.host}"
    assert created.headers["Location"] == f"{public}/api/links/gw-https"
    assert created.json()["short_url"] == f"{public}/gw-https"
    # The link's page: its short URL is url_for(..., _external=True).
    page = gateway.request("GET", "/gw-https+")
    assert page.status == 200
    assert f'<a id="short-url" href="{public}/gw-https">' in page.body.decode()


def test_the_clients_address_is_the_one_logged_not_the_gateways(deployment: Deployment) -> None:
    # The client forges an address of its own; nginx appends the one it saw.
    reply = deployment.gateway.request(
        "GET", "/healthz?logged-address", headers={"X-Forwarded-For": "198.51.100.66"}
    )
    assert reply.status == 200
    _, line = wait_for_access_line(deployment, "/healthz?logged-address")
    assert line.split()[0] == CLIENT_ADDRESS, line


def test_forged_forwarded_headers_sent_straight_to_an_instance_are_ignored(
    deployment: Deployment,
) -> None:
    instance = deployment.instances[0]
    forged = {
        "X-Forwarded-For": "203.0.113.66",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "evil.example",
        "Content-Type": "application/json",
    }
    body = json.dumps({"url": "https://example.com/forged", "code": "gw-forged"}).encode()
    connection = http.client.HTTPConnection(
        "127.0.0.1", instance.port, timeout=10, source_address=(CLIENT_ADDRESS, 0)
    )
    try:
        connection.request("POST", "/api/links?forged", body=body, headers=forged)
        response = connection.getresponse()
        reply = json.loads(response.read())
        location = response.getheader("Location")
    finally:
        connection.close()
    direct = f"http://127.0.0.1:{instance.port}"
    assert location == f"{direct}/api/links/gw-forged"
    assert reply["short_url"] == f"{direct}/gw-forged"
    lines = access_lines(instance, "/api/links?forged")
    deadline = time.monotonic() + WAIT
    while not lines and time.monotonic() < deadline:
        time.sleep(0.05)
        lines = access_lines(instance, "/api/links?forged")
    assert lines and lines[0].split()[0] == CLIENT_ADDRESS, lines


# -- one session, two instances ---------------------------------------------------------------


def form_post(gateway: Nginx, cookie: str, fields: dict[str, str], marker: str) -> Reply:
    body = urllib.parse.urlencode(fields).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    return gateway.request("POST", f"/?{marker}", body, headers)


def session_cookie(reply: Reply) -> str:
    """``session=...`` from the reply's Set-Cookie."""
    cookie = reply.headers["Set-Cookie"]
    assert "Secure" in cookie, cookie  # production mode over https
    return cookie.split(";", 1)[0]


def csrf_field(reply: Reply) -> str:
    match = re.search(rb'name="csrf_token" value="([^"]+)"', reply.body)
    assert match, reply.body[:500]
    return match.group(1).decode()


def test_a_session_flash_and_csrf_token_from_one_instance_work_on_the_other(
    deployment: Deployment,
) -> None:
    gateway = deployment.gateway
    form = gateway.request("GET", "/?session-form")
    assert form.status == 200
    cookie, token = session_cookie(form), csrf_field(form)
    made = form_post(
        gateway, cookie, {"csrf_token": token, "url": "https://example.com/rr", "code": "gw-rr"},
        "session-post",
    )  # fmt: skip
    assert made.status == 303, made.body[:500]
    assert made.headers["Location"] == "/gw-rr+"  # relative: the browser keeps https
    after = {"Cookie": session_cookie(made)}
    flashed = gateway.request("GET", "/gw-rr+?session-page", headers=after)
    assert flashed.status == 200
    assert b"Your short link is ready." in flashed.body
    # Round robin: the form and the post were served by different instances, and so were
    # the post and the page that showed its flash message.
    served = [wait_for_access_line(deployment, marker)[0]
              for marker in ("?session-form", "?session-post", "?session-page")]  # fmt: skip
    assert served[0] != served[1] and served[1] != served[2], served


def test_an_instance_with_another_secret_key_refuses_the_form_with_a_clear_403(
    deployment: Deployment,
) -> None:
    gateway = deployment.gateway
    form = gateway.request("GET", "/?other-key-form")
    cookie, token = session_cookie(form), csrf_field(form)
    other = start_instance(
        deployment.replica_set, deployment.database, deployment.directory / "other-key.log",
        secret_key="another-key",
    )  # fmt: skip
    try:
        # What nginx would send it: from the gateway's address, with its headers.
        body = urllib.parse.urlencode(
            {"csrf_token": token, "url": "https://example.com/other", "code": "gw-other"}
        ).encode()
        connection = http.client.HTTPConnection(
            "127.0.0.1", other.port, timeout=10, source_address=(GATEWAY_ADDRESS, 0)
        )
        try:
            connection.request("POST", "/", body=body, headers={
                "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie,
                "Host": gateway.host, "X-Forwarded-For": CLIENT_ADDRESS,
                "X-Forwarded-Proto": "https", "X-Forwarded-Host": gateway.host,
            })  # fmt: skip
            response = connection.getresponse()
            page = response.read().decode()
        finally:
            connection.close()
        assert response.status == 403
        assert response.getheader("Content-Type", "").startswith("text/html")
        assert "security token is missing or does not match" in page
        assert "Traceback" not in other.log_text()
    finally:
        other.stop()
    assert deployment.replica_set.primary() is not None


# -- faults under load ---------------------------------------------------------------------------


def run_wrk(gateway: Nginx, seconds: int) -> subprocess.Popen[str]:
    """wrk on ``GET /api/links?limit=5`` through the gateway for ``seconds``."""
    url = f"https://127.0.0.1:{gateway.port}/api/links?limit=5"
    command = ["wrk", "-t", "2", "-c", str(WRK_CONNECTIONS), "-d", f"{seconds}s",
               "--timeout", "10s", "-H", f"Host: {gateway.host}", url]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wrk_counts(output: str) -> dict[str, int]:
    """Requests, non-2xx/3xx answers and socket errors from wrk's report."""
    requests = re.search(r"(\d+) requests in", output)
    assert requests, output
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    socket_errors = sum(int(n) for n in errors.groups()) if errors else 0
    return {
        "requests": int(requests.group(1)),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": socket_errors,
    }


def test_kill_a_worker_and_step_down_the_primary_under_load(deployment: Deployment) -> None:
    gateway, replica_set = deployment.gateway, deployment.replica_set
    victim_instance = deployment.instances[0]
    # The first write makes the indexes; every instance is warm.
    assert gateway.post("/api/links", {"url": "https://example.com/warm"}).status == 201
    victim = victim_instance.started[0]
    first = replica_set.primary()
    assert first is not None

    began = time.monotonic()
    wrk = run_wrk(gateway, LOAD_SECONDS)
    writers = Writers(gateway, WRITERS).start()
    try:
        time.sleep(STEP_DOWN_AT)
        stepped_down_at = time.monotonic()
        replica_set.client(first).admin.command(
            "replSetStepDown", STEP_DOWN_SECONDS, secondaryCatchUpPeriodSecs=10
        )
        second = replica_set.wait_for_new_primary(first, WAIT)
        elected_after = time.monotonic() - stepped_down_at

        time.sleep(max(0.0, began + KILL_AT - time.monotonic()))
        killed_at = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        deadline = killed_at + WAIT
        while True:
            replacement = victim_instance.worker_pids() - {victim}
            if replacement and all(victim_instance.booted(pid) for pid in replacement):
                break
            assert time.monotonic() < deadline, victim_instance.log_text()[-3000:]
            time.sleep(0.02)
        while not healthy(victim_instance.port):
            assert time.monotonic() < deadline, "the new worker never answered"
            time.sleep(0.02)
        recovered_after = time.monotonic() - killed_at

        output, _ = wrk.communicate(timeout=LOAD_SECONDS + WAIT)
    finally:
        if wrk.poll() is None:
            wrk.kill()
            wrk.wait()
        outcomes = writers.stop()

    counts = wrk_counts(output)
    failed_reads = counts["non_2xx"] + counts["socket_errors"]
    succeeded = counts["requests"] - counts["non_2xx"]
    stored = stored_links(replica_set.uri, deployment.database)
    acknowledged = [o for o in outcomes if o.status == 201]
    failed_writes = [o for o in outcomes if o.status != 201]
    lost = sorted(o.code for o in acknowledged if o.code not in stored)
    write_failures = Counter(str(o.status or o.error) for o in failed_writes)
    ratio = succeeded / max(1, counts["requests"] + counts["socket_errors"])
    upstream_errors = Counter(
        match.group(1)
        for match in re.finditer(r"\[error\] [^*]*\*\d+ ([^(,]+?)(?: \(|,)", gateway.log())
    )
    print(
        f"\ngateway under load ({LOAD_SECONDS} s, wrk {WRK_CONNECTIONS} connections on GET "
        f"/api/links?limit=5 through nginx over TLS, {WRITERS} writers POSTing links): "
        f"reads {counts['requests']} answered, {succeeded} 2xx, {failed_reads} failed "
        f"({counts['non_2xx']} non-2xx, {counts['socket_errors']} socket errors), "
        f"{ratio:.2%} succeeded; writes {len(acknowledged)} acknowledged, "
        f"{len(failed_writes)} failed {dict(write_failures)}, {len(lost)} lost. stepDown at "
        f"{stepped_down_at - began:.2f} s: new primary after {elected_after:.2f} s. SIGKILL "
        f"to worker {victim} at {killed_at - began:.2f} s: replaced by {sorted(replacement)}, "
        f"answering /healthz after {recovered_after:.2f} s. nginx's errors: "
        f"{dict(upstream_errors)}\n{output}"
    )
    assert second is not first
    assert not lost, f"acknowledged writes missing after the step-down: {lost}"
    assert ratio >= 0.99, output
    # A POST on the killed worker is not retried (not idempotent): nginx answers 502, or,
    # if the worker had begun its answer, it can only cut it short (a 20-run loop beside
    # stress-ng saw one IncompleteRead, when gunicorn still wrote the headers and the body
    # in two sends; the worker now sends a small answer in one). A write that found no
    # primary in time is the app's 503. Nothing else, and a cut answer only for a write in
    # flight at the kill.
    killed = killed_at - writers.started
    cut = [o for o in failed_writes if o.error in ("IncompleteRead", "RemoteDisconnected")]
    assert all(o.started <= killed <= o.ended for o in cut), (killed, cut)
    allowed = {"502", "503", "IncompleteRead", "RemoteDisconnected"}
    if not set(write_failures) <= allowed:
        # An answer nothing explains (a 500 at the step-down, twice in 40 runs beside
        # stress-ng): the instances' logs say what the app met, the 2xx access lines left out.
        logs = "\n".join(
            line
            for instance in deployment.instances
            for line in instance.log_text().splitlines()
            if not re.search(r'" 2\d\d ', line)
        )
        pytest.fail(f"unexpected write failures {failed_writes}\n{logs[-20000:]}")
    assert "Traceback" not in victim_instance.log_text()
    assert deployment.instances[1].worker_pids() == set(deployment.instances[1].started)


def test_slow_bodies_through_the_gateway_leave_both_instances_answering(
    deployment: Deployment,
) -> None:
    if shutil.which("slowhttptest") is None:
        pytest.skip("slowhttptest is not installed (Debian's package; .ci/run installs it)")
    gateway = deployment.gateway
    attack_seconds = 8
    # The server-layer issue's slow-body attack (benchmarks/slowclients.py), through nginx.
    command = [
        "slowhttptest", *slowclients.MODES["B"], "-c", "300", "-r", str(slowclients.ATTACK_RATE),
        "-l", str(attack_seconds), "-p", "2",
        "-u", f"https://127.0.0.1:{gateway.port}{slowclients.MODE_PATHS['B']}",
    ]  # fmt: skip
    posts_before = [len(access_lines(s, '"POST /api/links')) for s in deployment.instances]
    attack = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        # Each instance's /healthz, straight to it, every 0.5 s with a 1 s timeout.
        pollers = [slowclients.Poller(server.port) for server in deployment.instances]
        output, _ = attack.communicate(timeout=attack_seconds + WAIT)
        polls = [poller.stop() for poller in pollers]
    finally:
        if attack.poll() is None:
            attack.kill()
            attack.wait()
    posts_after = [len(access_lines(s, '"POST /api/links')) for s in deployment.instances]
    reached = [a - b for a, b in zip(posts_after, posts_before, strict=True)]
    plain = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", output)  # its screen updates' colours
    most = max(map(int, re.findall(r"connected:\s+(\d+)", plain)), default=0)
    print(
        f"\nslow bodies through nginx: {' '.join(command[:-2])} (most connections open at "
        f"once: {most}); /healthz polls of the instances: {polls}; POSTs the instances "
        f"logged during the attack: {reached}"
    )
    assert most >= 100, plain[-2000:]  # the attack held its connections open
    for poll in polls:
        assert poll["polls"] and not poll["failures"], polls
    # nginx buffers each body whole before it picks an instance: none reached them.
    assert posts_after == posts_before
