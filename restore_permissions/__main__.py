"""``python -m restore_permissions``: the same as the ``restore-permissions`` command."""

import sys

from .cli import main

sys.exit(main())
