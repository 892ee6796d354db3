"""`python -m causalbench ...` is the `causalbench` command."""

import sys

from .cli import main

sys.exit(main())
