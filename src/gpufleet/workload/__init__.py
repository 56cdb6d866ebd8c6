"""Demand models: training runs, inference demand, job streams (trace readers and synthetic generators)."""
