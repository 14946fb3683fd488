"""``python -m loginhelp.cli``: the same as the ``loginhelp`` console script."""
from __future__ import annotations

import sys

from . import main

sys.exit(main())
