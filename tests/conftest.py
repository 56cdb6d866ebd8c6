"""Pytest set-up: make tests/helpers importable; a fixed hypothesis profile when CI=true."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from hypothesis import HealthCheck, settings

sys.path.insert(0, str(Path(__file__).resolve().parent))

# CI runs every property test the same way each time: a fixed set of examples (derandomized), bounded
# in number, and no per-example deadline (a loaded CI machine is slow, not wrong).
settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=60,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
if os.environ.get("CI", "").lower() == "true":
    settings.load_profile("ci")
