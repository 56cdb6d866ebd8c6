"""The discrete-event engine: clock, event heap, run loop, and the run tables it records."""
