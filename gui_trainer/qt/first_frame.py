"""What waits until the window's first frame is on screen.

Cold start is what a learner waits for: the window should appear about as soon as torch,
PySide6 and pyqtgraph are imported. Two things used to stand in the way:

- **PyTorch's compiler.** The first ``torch.optim`` optimizer a process builds imports
  ``torch._dynamo`` (as long as importing torch itself, ~2 s here), because
  ``Optimizer.add_param_group``, ``zero_grad``, ``state_dict`` and ``load_state_dict`` are
  wrapped in ``torch._disable_dynamo``, which imports it on the first call to put each under
  ``torch._dynamo.disable``. That only matters while ``torch.compile`` traces the code, which
  this app never does. So until the first frame is painted those four run unwrapped
  (:func:`defer_compiler_import`); then a background thread imports ``torch._dynamo`` while
  the learner looks at the window, and puts PyTorch's own wrapping back
  (:func:`import_compiler_in_background`). ``Optimizer.step`` imports ``torch._dynamo`` on
  every call: a Step clicked before the thread is done waits for it (Python's import lock),
  nothing runs without it.
- **Work nobody sees yet.** :class:`AfterFirstFrame` runs the window's deferred work (menus
  whose entries need every scenario's data, for instance) once the first frame is painted.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget

#: The attribute ``torch._disable_dynamo`` caches its wrapped function under.
_CACHE = "__dynamo_disable"
#: Optimizer methods that import ``torch._dynamo`` on their first call.
_WRAPPED = ("add_param_group", "zero_grad", "state_dict", "load_state_dict")

_deferred: list[Callable[..., object]] = []
_lock = threading.Lock()
_importer: threading.Thread | None = None


def defer_compiler_import() -> bool:
    """Let optimizers be built and used without importing ``torch._dynamo`` yet.

    Each method's plain function stands in for its ``torch._dynamo.disable`` wrapping in the
    cache PyTorch itself checks. Does nothing (and says False) when ``torch._dynamo`` is
    imported already, or when PyTorch's wrapping is not the one this was written against
    (then the first optimizer imports it, as before).
    """
    from torch.optim import Optimizer

    with _lock:
        if "torch._dynamo" in sys.modules or _deferred:
            return bool(_deferred)
        for name in _WRAPPED:
            wrapper = getattr(Optimizer, name, None)
            function = getattr(wrapper, "__wrapped__", None)
            code = getattr(wrapper, "__code__", None)
            if (function is None or code is None or _CACHE not in code.co_consts
                    or getattr(function, _CACHE, None) is not None):
                continue
            setattr(function, _CACHE, function)
            _deferred.append(function)
        return bool(_deferred)


def restore_compiler_wrapping() -> None:
    """PyTorch's own behaviour again: the next call of each method wraps it as it would."""
    with _lock:
        for function in _deferred:
            if getattr(function, _CACHE, None) is function:
                delattr(function, _CACHE)
        _deferred.clear()


def _import_compiler() -> None:
    try:
        import torch._dynamo  # noqa: F401 - the import is the work
    finally:
        restore_compiler_wrapping()


def import_compiler_in_background() -> threading.Thread | None:
    """Import ``torch._dynamo`` on a thread of its own, if :func:`defer_compiler_import`
    put it off; the thread (not a daemon: the app's exit waits for an import under way)."""
    global _importer
    with _lock:
        if not _deferred or _importer is not None:
            return None
        _importer = threading.Thread(target=_import_compiler, name="import torch._dynamo")
    _importer.start()
    return _importer


class AfterFirstFrame(QObject):
    """Runs ``tasks`` once, just after ``window``'s first paint (or when asked to, earlier).

    The window itself is painted first (its background), then its children, in one pass:
    the tasks run from a zero timer set at the window's first paint event, so after the
    whole frame.
    """

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.tasks: list[Callable[[], object]] = []
        self.done = False
        self._window = window
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self._window.removeEventFilter(self)
            QTimer.singleShot(0, self, self.run)
        return False

    def run(self) -> None:
        """Do the deferred work now (at once, if something needs it before the window is
        shown); only the first call does anything."""
        if self.done:
            return
        self._window.removeEventFilter(self)
        self.done = True
        tasks, self.tasks = self.tasks, []
        failed: BaseException | None = None
        for task in tasks:
            # Each task runs whatever another raised: the last one resumes Python's garbage
            # collector, which must not stay off for the whole session.
            try:
                task()
            except Exception as exc:
                failed = failed or exc
        if failed is not None:
            raise failed  # to the error hook, once every task has run
