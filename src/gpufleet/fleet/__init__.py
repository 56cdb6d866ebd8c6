"""The fleet: topology and capacity over time, built from a scenario as compact arrays."""
