"""`python -m causalbench.cli ...` is the `causalbench` command."""

import sys

from . import main

sys.exit(main())
