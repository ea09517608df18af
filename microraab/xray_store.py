"""Where the X-ray keeps its traces: a bounded directory of small JSON files, one a request.

Every worker of a server writes to and reads from the same directory, so a trace made by
one worker is found by whichever worker serves its page. A file is written whole under a
temporary name and renamed into place (a reader never sees half of one); names start with
the time in nanoseconds, so sorting them sorts the traces oldest first; past ``keep``
files or ``max_bytes`` in all, the oldest are deleted by whoever wrote last.

The default directory is named for the user, the app and the parent process: gunicorn's
master for its workers, the reloader for ``python -m microraab run --reload``. So the
workers of one server share it and two servers do not; a directory whose parent process
has gone is removed when the next store is opened beside it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

SUFFIX = ".json"
# <time in ns, 20 digits>-<size in bytes>-<request id>.json
_NAME = re.compile(r"\d{20}-(\d+)-(.+)\.json")


def default_directory(app_name: str) -> Path:
    """``$TMPDIR/microraab-xray-<uid>/<app name>-<parent pid>``."""
    base = Path(tempfile.gettempdir()) / f"microraab-xray-{os.getuid()}"
    return base / f"{app_name}-{os.getppid()}"


def remove_orphans(base: Path) -> None:
    """Delete the store directories under ``base`` whose parent process no longer runs."""
    for entry in base.iterdir():
        pid = entry.name.rpartition("-")[2]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - another user's process: it runs
        return True
    return True


class TraceStore:
    """Traces as JSON documents in ``directory``, at most ``keep`` of them and ``max_bytes``.

    ``save`` and ``get`` are safe with other processes doing the same at the same time:
    a file another worker deleted is simply not there.
    """

    def __init__(self, directory: Path, keep: int = 50, max_bytes: int = 5_000_000) -> None:
        self.directory = directory
        self.keep = keep
        self.max_bytes = max_bytes
        # 0o700: traces show the environ and headers of a developer's requests.
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)

    def save(self, request_id: str, document: dict[str, Any]) -> None:
        """Write ``document`` atomically as the newest trace, then drop the oldest over bounds."""
        data = json.dumps(document, separators=(",", ":")).encode()
        # PERF: the size is in the name, so pruning lists the directory and stats nothing.
        name = f"{time.time_ns():020d}-{len(data)}-{request_id}{SUFFIX}"
        temporary = self.directory / f".{name}.{os.getpid()}.tmp"  # ignored by _names()
        try:
            with open(temporary, "xb") as file:
                file.write(data)
            os.replace(temporary, self.directory / name)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        self._prune()

    def _prune(self) -> None:
        total = 0
        for count, (name, size, _) in enumerate(self._names(), 1):
            total += size
            if count > self.keep or total > self.max_bytes:
                (self.directory / name).unlink(missing_ok=True)  # or another worker did

    def _names(self) -> list[tuple[str, int, str]]:
        """(file name, size, request id) of each trace, newest first."""
        traces = []
        with os.scandir(self.directory) as entries:
            for entry in entries:
                match = _NAME.fullmatch(entry.name)
                if match is not None:
                    traces.append((entry.name, int(match[1]), match[2]))
        traces.sort(reverse=True)
        return traces

    def newest(self) -> list[dict[str, Any]]:
        """Every trace kept, newest first."""
        documents = (self._read(name) for name, _, _ in self._names())
        return [document for document in documents if document is not None]

    def get(self, request_id: str) -> dict[str, Any] | None:
        """The newest trace of ``request_id`` (a client may send the same id twice), or None."""
        for name, _, traced_id in self._names():
            if traced_id == request_id:
                return self._read(name)
        return None

    def _read(self, name: str) -> dict[str, Any] | None:
        try:
            with open(self.directory / name, "rb") as file:
                document: dict[str, Any] = json.load(file)
        except FileNotFoundError:  # pruned by another worker since it was listed
            return None
        return document
