"""What the window puts off until its first frame is painted.

PyTorch's compiler (``torch._dynamo``) is imported on a thread of its own after the first
frame: training must work as if it had been there all along.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap


def test_pytorchs_compiler_is_imported_after_the_first_frame() -> None:
    """In a fresh process (this one imported torch._dynamo long ago): no torch._dynamo
    until the window is painted, then on a thread; a Step works before, during and after,
    and PyTorch's own wrapping of the optimizer's methods is back afterwards."""
    script = textwrap.dedent("""
        import sys
        from PySide6.QtWidgets import QApplication
        from gui_trainer.app import create_window
        from torch.optim import Optimizer

        app = QApplication(sys.argv[:1])
        window = create_window(remember=False)
        assert "torch._dynamo" not in sys.modules
        for stage in ("zero_grad", "forward", "loss", "backward"):
            window.controller.run_stage(stage)
        assert "torch._dynamo" not in sys.modules, "a stage before Step needed it"
        assert getattr(Optimizer.zero_grad.__wrapped__, "__dynamo_disable") is not None
        window.show()
        while not window.after_first_frame.done:
            app.processEvents()
        from gui_trainer.qt import first_frame
        first_frame._importer.join(120)
        assert "torch._dynamo" in sys.modules
        assert getattr(Optimizer.zero_grad.__wrapped__, "__dynamo_disable", None) is None
        window.controller.run_stage("step")
        assert window.controller.last_record.ok
        window.controller.run_stage("zero_grad")  # wrapped by PyTorch itself now
        assert window.controller.last_record.ok
        assert getattr(Optimizer.zero_grad.__wrapped__, "__dynamo_disable") is not (
            Optimizer.zero_grad.__wrapped__)
        print("ok")
    """)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         env=env, timeout=180)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.strip().endswith("ok")
