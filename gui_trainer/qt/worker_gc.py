"""Python's garbage collector paused while a worker thread runs.

A collection runs on whichever thread happens to allocate. Run on a worker, it freed Qt
objects the GUI had dropped (pyqtgraph's parentless menus, say): their destructors took
Qt's locks and then waited for the interpreter lock the GUI thread held while waiting for
those Qt locks — a deadlock (seen in the test suite during a file load). While any worker
runs, collections wait; the GUI thread collects when the last one ends.
"""

from __future__ import annotations

import gc

_holds = 0


def hold() -> None:
    """A worker starts: no collections until :func:`release`."""
    global _holds
    if _holds == 0 and gc.isenabled():
        gc.disable()
        _holds = 1
    elif _holds:
        _holds += 1


def release() -> None:
    """A worker ended (call on the GUI thread): the last one collects here."""
    global _holds
    if _holds == 0:
        return
    _holds -= 1
    if _holds == 0:
        gc.enable()
        gc.collect()
