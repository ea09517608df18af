"""Seed TechEmpower's ``world`` and ``fortune`` collections: ``python -m app.seed [--force]``.

The database is the app's: ``MONGODB_URI`` (or ``MONGODB_HOST``/``MONGODB_PORT``) and
``MONGODB_DATABASE``. With nothing configured, the local ``mongod`` the app itself would
use is started (or reused) for the seeding, then stopped again if this command started it.
Collections that already hold data are left alone unless ``--force``.
"""

from __future__ import annotations

import argparse
import os
import sys
from urllib.parse import urlsplit

from app.db import MongoSettings, connect
from app.worlds import seed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.seed", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--force", action="store_true", help="replace the collections' contents if they exist"
    )
    args = parser.parse_args(argv)
    local_run = None
    if not MongoSettings.from_env(os.environ).uri:
        from app.local import prepare_local_run

        local_run = prepare_local_run(os.environ)
    settings = MongoSettings.from_env(os.environ)
    client = connect(settings)
    try:
        written = seed(client[settings.database], force=args.force)
    finally:
        client.close()
        if local_run is not None:
            local_run.stop()
    # Only the host: a URI may carry a password.
    where = f"database {settings.database!r} on {urlsplit(settings.uri).netloc.rpartition('@')[2]}"
    for collection, count in written.items():
        if count:
            print(f"{collection}: wrote {count} documents to {where}")
        else:
            print(f"{collection}: already seeded in {where}; left alone (--force replaces it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
