"""Observed data and how a run compares with it: the bundled series (observed) and error metrics (validate)."""
