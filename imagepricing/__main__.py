"""`python -m imagepricing` runs the command line."""

import sys

from imagepricing.cli import main

sys.exit(main())
