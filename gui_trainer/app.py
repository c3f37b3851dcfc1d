"""Command line, QApplication set-up, the error hook, and ``main()``."""

from __future__ import annotations

import argparse
import gc
import logging
import multiprocessing
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from gui_trainer import __version__
from gui_trainer.build_info import version_text

if TYPE_CHECKING:  # Qt is imported late: --version and the no-display hint need none of it.
    from PySide6.QtWidgets import QApplication

    from gui_trainer.qt.main_window import MainWindow

log = logging.getLogger("gui_trainer")

NO_DISPLAY_HINT = (
    "gui-trainer: no display found. Run it on a virtual screen (xvfb-run gui-trainer) "
    "or without a window (QT_QPA_PLATFORM=offscreen gui-trainer --smoke)."
)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="gui-trainer",
        description="Click through the real PyTorch training loop, one stage at a time.",
        # Keeps --version's two lines as they are (argparse would refill them into one).
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=version_text())
    parser.add_argument("file", nargs="?", help="a saved session (.gtrain) to open")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="build the real window, train a few real epochs through the buttons' code, exit",
    )
    return parser.parse_args(argv)


def display_missing(environ: os._Environ[str] | dict[str, str] = os.environ) -> bool:
    """True on Linux when Qt would abort for want of a display."""
    if not sys.platform.startswith("linux") or environ.get("QT_QPA_PLATFORM"):
        return False
    return not (environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))


def create_window(*, remember: bool = True) -> MainWindow:
    """The main window, unshown, driving a fresh session (``window.session``); auto-train
    at full speed in a training process.

    With ``remember`` the learner's saved settings and layout are restored (QSettings) and
    saved again on close; a value that cannot be used is reported, not fatal.
    """
    from gui_trainer.core.session import TrainingSession
    from gui_trainer.qt import preferences
    from gui_trainer.qt.first_frame import defer_compiler_import
    from gui_trainer.qt.main_window import MainWindow
    from gui_trainer.qt.training_process import TrainingProcess

    defer_compiler_import()  # torch._dynamo is imported after the first frame
    if not remember:
        window = MainWindow()
        window.trainer.use_process(TrainingProcess(window))
        return window
    kwargs, problems = preferences.session_settings()
    window = MainWindow(TrainingSession(**kwargs))
    window.trainer.use_process(TrainingProcess(window))
    problems += preferences.restore_window(window)
    window.remember_settings = True
    if problems:
        window.statusBar().showMessage(
            "Some saved settings could not be used and were reset: " + ", ".join(problems) + ".")
    return window


def _application() -> QApplication:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(sys.argv[:1])
    configure_application(app)
    return app


def configure_application(app: QApplication) -> None:
    """Names, desktop file and icon: what the desktop and QSettings know the app by; and
    the style the window draws with."""
    app.setApplicationName("gui-trainer")
    app.setApplicationDisplayName("gui_trainer")
    app.setOrganizationName("gui_trainer")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("gui-trainer")
    from PySide6.QtGui import QIcon

    from gui_trainer.qt.theme import OutlinedIndicators
    from gui_trainer.resources import resource_path

    # The window's style, before there is a window: set later, it restyles every widget.
    if not isinstance(app.style(), OutlinedIndicators):
        app.setStyle(OutlinedIndicators())
    icon = QIcon(str(resource_path("icons", "gui-trainer.svg")))
    for size in (16, 32, 48, 64, 128, 256):
        icon.addFile(str(resource_path("icons", f"gui-trainer-{size}.png")))
    app.setWindowIcon(icon)


def install_error_hook() -> None:
    """Uncaught exceptions in slots: log them, show a dialog, keep the window alive."""

    def hook(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
        text = "".join(traceback.format_exception(kind, error, tb))
        log.error("Uncaught exception:\n%s", text)
        from PySide6.QtWidgets import QMessageBox

        box = QMessageBox(QMessageBox.Icon.Critical, "Something went wrong",
                          f"{kind.__name__}: {error}\n\nYour session is still open.")
        box.setDetailedText(text)
        box.exec()

    sys.excepthook = hook


def collect_garbage_again() -> None:
    """After start-up: what start-up made stays (modules, classes, the window) and is left out
    of later collections (``gc.freeze``), which then take well under a millisecond instead of
    a tenth of a second each; collecting resumes."""
    gc.freeze()
    gc.enable()


def start_window(args: argparse.Namespace) -> MainWindow:
    """The window, shown, with the session file named on the command line opened in it (a
    bad file is said in a dialog and the fresh session stays)."""
    window = create_window()
    window.after_first_frame.tasks.append(collect_garbage_again)
    window.show()
    # Laid out and drawn once before another session replaces the first: swapping a
    # network in before the first events crashed in pyqtgraph's layout now and then
    # (QGraphicsWidget::setGeometry on the plots being replaced).
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    QApplication.processEvents()
    # A window that is never painted (started minimized, say) still ends the start-up.
    QTimer.singleShot(10_000, window.after_first_frame.run)
    window.autosave.offer_recovery()
    if args.file:
        window.files.open(Path(args.file))
    return window


def main(argv: Sequence[str] | None = None) -> int:
    # In the bundle, the training process is this program started again: this makes it
    # the process instead of a second window (nothing, when not frozen).
    multiprocessing.freeze_support()
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if display_missing():
        print(NO_DISPLAY_HINT, file=sys.stderr)
        return 2
    # Start-up makes hundreds of thousands of long-lived objects and almost no garbage:
    # Python's collector would walk them all again and again (a tenth of the start-up time
    # here). It resumes after the first frame (collect_garbage_again).
    gc.disable()
    # torch before Qt: once PySide6 is imported, it reads the source of every module
    # imported after it (its __feature__ import hook), and torch's are many.
    import gui_trainer.core  # noqa: F401

    app = _application()
    if args.smoke:
        from gui_trainer.qt.smoke import run_smoke

        collect_garbage_again()
        return run_smoke(app, create_window)
    install_error_hook()  # before a file from the command line is opened
    window = start_window(args)  # noqa: F841 - the window lives while the app runs
    return app.exec()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
