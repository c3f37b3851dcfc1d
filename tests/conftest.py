"""Test-wide set-up: Qt offscreen, no real settings touched, uncaught slot errors fail tests."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
