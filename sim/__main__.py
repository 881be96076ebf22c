"""``python -m sim`` works like the ``adoptsim`` command."""

import sys

from sim.cli import main

sys.exit(main())
