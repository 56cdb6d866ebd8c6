"""Capacity planning: what to sign and where to run what, as a MILP over the monthly model (HiGHS)."""
