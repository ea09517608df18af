"""``python -m microraab``: see :mod:`microraab.cli`."""

import sys

from microraab.cli import main

sys.exit(main())
