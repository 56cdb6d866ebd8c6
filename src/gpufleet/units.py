"""The constants every layer shares: seconds per hour and day, hours per day, priority class indexes."""

from __future__ import annotations

from typing import Final

# Final: the compiled engine reads them as constants (a plain module name is a dictionary lookup)
SECONDS_PER_HOUR: Final = 3600.0
SECONDS_PER_DAY: Final = 86400.0
HOURS_PER_DAY: Final = 24.0

# priority classes, highest first; the index is the class's number in the engine's arrays
INFERENCE: Final = 0
TRAINING: Final = 1
RESEARCH: Final = 2
BEST_EFFORT: Final = 3
NCLASS: Final = 4
