"""gunicorn settings for the links app, read automatically by ``gunicorn app:app``.

Kept free of pymongo and ssl imports: this file runs in the master, before gevent
monkey-patches each worker, and anything imported here would be imported unpatched.
"""

import multiprocessing
import os

# gevent workers: a greenlet per connection, so a request waiting on MongoDB does not
# hold a worker. Needs the gevent extra (gunicorn[gevent]).
worker_class = "gevent"

# Bound the greenlets per worker to what the MongoDB pool can serve (MONGODB_MAX_POOL_SIZE,
# default 100): past it, connections wait in the kernel's accept queue instead of piling
# up as greenlets that each wait seconds for a pooled connection.
worker_connections = int(os.environ.get("WORKER_CONNECTIONS", "100"))

# Rainbond always injects _PORT (not PORT) for Python; bind all interfaces so the
# platform's gateway reaches us (gunicorn's default, 127.0.0.1, would be unreachable).
bind = f"0.0.0.0:{os.environ.get('PORT') or os.environ.get('_PORT') or '8000'}"

# One gevent worker per core uses the machine; WEB_CONCURRENCY is the buildpack convention.
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count())

# Rainbond sends SIGKILL 10 s after SIGTERM: finish in-flight requests well before that.
graceful_timeout = 8
timeout = 30
keepalive = 5

# Logs to stdout/stderr, which the platform collects.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")

# No preload: the app (and its MongoClient) must be created in each worker after the fork.
preload_app = False

_local_run = None


def on_starting(server):  # type: ignore[no-untyped-def]
    """In the master, once: start the local MongoDB if none is configured."""
    global _local_run
    from app.local import prepare_local_run

    _local_run = prepare_local_run()
    if _local_run is not None:
        server.log.info(
            "MongoDB: local mongod at %s, data in %s (MONGODB_URI or MONGODB_HOST to use another)",
            _local_run.uri,
            _local_run.data_dir,
        )


def on_exit(server):  # type: ignore[no-untyped-def]
    """In the master, at shutdown: stop the local MongoDB we started."""
    if _local_run is not None:
        _local_run.stop()


def worker_exit(server, worker):  # type: ignore[no-untyped-def]
    """In each worker, at exit: close its MongoDB client."""
    app = getattr(worker, "wsgi", None)
    mongo = getattr(app, "extensions", {}).get("mongo")
    if mongo is not None:
        mongo.close()
