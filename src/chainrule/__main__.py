"""``python -m chainrule``: the ``chainrule`` command."""

import sys

from .cli import main

sys.exit(main())
