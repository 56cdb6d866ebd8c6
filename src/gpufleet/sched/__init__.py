"""Scheduling policies as plain functions over a fleet snapshot: placement, backfill, preemption, provider choice."""
