"""The bundle's entry script: the same main() as the gui-trainer command."""

import sys

from gui_trainer.app import main

if __name__ == "__main__":
    sys.exit(main())
