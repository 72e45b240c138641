"""``python -m minigan`` is the ``minigan`` command."""

import sys

from minigan.cli import main

sys.exit(main())
