"""`python -m gui_trainer` runs the same entry point as the `gui-trainer` command."""

import sys

from gui_trainer.app import main

sys.exit(main())
