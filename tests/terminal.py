"""Start servers as a terminal would, so that the tests' SIGINT is a Ctrl-C.

A command that a non-interactive shell starts in the background (``pytest &`` in a
script, as a CI runner may start the suite) inherits SIGINT *ignored*, and Python then
installs no KeyboardInterrupt handler: a development server sent SIGINT never stops
(a fresh-clone run started that way hung in test_cli's teardown until its deadline).
gunicorn sets its own handlers and is not affected.
"""

from __future__ import annotations

import signal


def sigint_as_ctrl_c() -> None:
    """``preexec_fn``: SIGINT back to its default, which Python makes KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
