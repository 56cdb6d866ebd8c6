"""The monthly model: capacity, demand, billing and cash for a given allocation (no jobs, no events)."""
