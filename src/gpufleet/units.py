"""The constants every layer shares: seconds per hour and day, hours per day, priority class indexes."""

from __future__ import annotations

SECONDS_PER_HOUR = 3600.0
SECONDS_PER_DAY = 86400.0
HOURS_PER_DAY = 24.0

# priority classes, highest first; the index is the class's number in the engine's arrays
INFERENCE, TRAINING, RESEARCH, BEST_EFFORT = 0, 1, 2, 3
NCLASS = 4
