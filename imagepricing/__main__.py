"""`python -m imagepricing` runs the command line."""

import sys

from imagepricing.cli._main import main

sys.exit(main())
