"""The apps ``benchmarks/techempower.py`` serves with gunicorn, one module per framework.

Each module exposes ``app``, a WSGI callable answering TechEmpower's six tests at the same
paths (``/json``, ``/plaintext``, ``/db``, ``/queries``, ``/fortunes``, ``/updates``), with
MongoDB access through :mod:`app.worlds` and the client from :mod:`benchmarks.targets.shared`,
so that only the framework layer differs.
"""
