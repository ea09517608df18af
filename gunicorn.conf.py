"""gunicorn settings for the links app, read automatically by ``gunicorn app:app``.

Kept free of pymongo: this file runs in the master, before gevent monkey-patches each
worker, and anything imported here would be imported unpatched. ``app.db`` imports only
the standard library at import; the hooks import ``app.local`` lazily, and it imports only
the standard library too. The worker class imports gevent and gunicorn's gevent worker
(and ssl with it), as ``-k gevent`` does in the master anyway.
"""

import os

# gevent workers: a greenlet per connection, so a request waiting on MongoDB does not
# hold a worker. microraab's (microraab/worker.py) is gunicorn's gevent worker plus
# deadlines for slow clients (408), a bound on requests in the app, fair turns under load
# and a prompt shutdown; each of its settings is also an environment variable
# (docs/deploying.md): HEADER_TIMEOUT (10 s), BODY_GRACE (5 s), BODY_MIN_RATE (1000 B/s),
# BODY_BUFFER_SIZE (64 KiB), SEND_TIMEOUT (10 s), ACCEPT_BATCH (32), APP_CONCURRENCY (below).
from app.db import max_pool_size
from microraab.worker import GeventWorker

# Two limits. Requests in the app at once: what the MongoDB pool serves
# (MONGODB_MAX_POOL_SIZE, default 100; one pooled connection per request in flight), so
# that no more requests than that wait for a pooled connection (waitQueueTimeoutMS, 2 s);
# the others wait their turn in the worker, in order.
worker_class = GeventWorker.configured(os.environ, app_concurrency=max_pool_size(os.environ))
# Sockets per worker: idle, trickling and waiting ones cost memory only (measured in
# docs/reliability.md), so thousands of them leave the app its places.
worker_connections = int(os.environ.get("WORKER_CONNECTIONS") or "4000")

# Rainbond always injects _PORT (PORT is not injected for Python); bind all interfaces so
# the platform's gateway reaches us (gunicorn's default, 127.0.0.1, would be unreachable).
bind = f"0.0.0.0:{os.environ.get('PORT') or os.environ.get('_PORT') or '8000'}"


def _cpus() -> int:
    """CPUs this process may use: the cgroup v2 quota (a container's limit) if there is
    one, else the CPUs it may be scheduled on. os.cpu_count() counts the host's CPUs,
    which in a one-CPU pod on a 64-core node would start 64 workers."""
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    try:
        with open("/sys/fs/cgroup/cpu.max") as file:
            quota, period = file.read().split()[:2]
    except (OSError, ValueError):
        return available
    if quota == "max":
        return available
    return max(1, min(available, -(-int(quota) // int(period))))


# One gevent worker per CPU (an async worker keeps its CPU busy alone), at most 8: each
# worker holds its own MongoDB pool, so the server may see workers x MONGODB_MAX_POOL_SIZE
# connections per pod. WEB_CONCURRENCY (the buildpack convention) overrides.
workers = int(os.environ.get("WEB_CONCURRENCY") or min(_cpus(), 8))

# Rainbond sends SIGKILL 10 s after SIGTERM: finish in-flight requests well before that
# (the worker cuts requests still arriving after BODY_GRACE, and exits when done).
graceful_timeout = 8
timeout = 30
keepalive = 5

# What gunicorn's parser accepts before the app sees a byte: gunicorn's own defaults,
# spelled out so a reader knows they are there. A longer request line is 414, more or
# larger header fields 431 (tests/app/test_gunicorn.py). The longest line the app needs
# is far shorter: a 2,048-character target URL travels in a body, never in the path.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

# The gateway's addresses or networks (Rainbond's: see docs/deploying.md): from those peers
# only, gunicorn takes the scheme from X-Forwarded-Proto, and the app (microraab.proxies)
# the client's address and the host from X-Forwarded-For and X-Forwarded-Host. gunicorn's
# own variable and default, spelled out; on_starting hands the value to the app.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Logs to stdout/stderr, which the platform collects.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")

# No preload: the app (and its MongoClient) must be created in each worker after the fork.
preload_app = False

# No ~/.gunicorn/gunicorn.ctl: several masters on one machine (tests, benchmarks, a local
# run beside them) would otherwise fight over it, and nothing here uses it.
control_socket_disable = True

_local_run = None


def serves_the_demo(server):  # type: ignore[no-untyped-def]
    """Whether gunicorn serves the demo app (``app:app``, ``app:create_app()``): gunicorn
    reads this file for any app started in this directory, and ``gunicorn hello:app`` here
    gets the settings above but not the demo's database or secret key."""
    app_uri = getattr(server.app, "app_uri", None) or ""
    return app_uri.partition(":")[0] == "app"


def on_starting(server):  # type: ignore[no-untyped-def]
    """In the master, once, before forking: export the trusted proxies for the workers
    (any app's); for the demo app only, with no MongoDB configured, start (or reuse) the
    local mongod and export MONGODB_URI for them; with one configured, check that a secret
    key is set."""
    global _local_run
    # The app trusts the proxies in FORWARDED_ALLOW_IPS for the client's address and host
    # (microraab.proxies), as gunicorn does for the scheme: export gunicorn's value, however
    # it was given (--forwarded-allow-ips, the environment, its default), to the workers.
    os.environ["FORWARDED_ALLOW_IPS"] = ",".join(server.cfg.forwarded_allow_ips)

    if not serves_the_demo(server):
        app_uri = getattr(server.app, "app_uri", None)
        server.log.info("%s is not the demo app: no local MongoDB for it", app_uri)
        return
    from app.local import prepare_local_run

    _local_run = prepare_local_run()
    if _local_run is not None:
        server.log.info(
            "MongoDB: local mongod at %s, data in %s (MONGODB_URI or MONGODB_HOST: use another)",
            _local_run.uri,
            _local_run.data_dir,
        )


def on_exit(server):  # type: ignore[no-untyped-def]
    """In the master, at shutdown: stop the local mongod if on_starting started it."""
    if _local_run is not None:
        _local_run.stop()


def worker_exit(server, worker):  # type: ignore[no-untyped-def]
    """In each worker, at exit: close its MongoDB client."""
    app = getattr(worker, "wsgi", None)
    mongo = getattr(app, "extensions", {}).get("mongo")
    if mongo is not None:
        mongo.close()
