"""Scheduling policies: plain functions over a fleet snapshot (placement, backfill, preemption, providers)."""
