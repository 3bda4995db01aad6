"""`python -m local.serve` (what `make serve` runs)."""

import sys

from local.serve.cli import main

sys.exit(main())
