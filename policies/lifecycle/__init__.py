"""Lifecycle: legacy replicas that end on a date, and data that must not be deleted by accident."""
