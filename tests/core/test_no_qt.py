"""The core must import and run without Qt: a teacher's notebook needs only torch."""

import subprocess
import sys


def test_core_imports_without_qt() -> None:
    code = (
        "import sys; import gui_trainer.core as c; c.TrainingSession().run_epoch();"
        "bad = [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph'))];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
