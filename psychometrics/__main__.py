"""``python -m psychometrics ...`` runs the command line (same as the ``psychometrics`` script)."""
import sys

from .cli import main

sys.exit(main())
