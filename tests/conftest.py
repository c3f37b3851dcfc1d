"""Test-wide set-up: Qt draws offscreen, so the suite needs no display.

Everything else that touches Qt lives in ``tests/qt/conftest.py``: settings isolation and the
check for leaked windows and timers. pytest-qt fails a test on an exception raised inside a
Qt slot (its exception capture, on by default) and on a Qt warning or critical message
(``qt_log_level_fail`` in pyproject.toml).
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from hypothesis import HealthCheck, settings

# `make test`: a few hundred random sequences, quick enough for every run. Before a release,
# `make test-thorough` (``--hypothesis-profile=thorough``) runs thousands.
settings.register_profile(
    "default", max_examples=200, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough", max_examples=3000, stateful_step_count=60, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("default")
