"""Errors a user can act on: one line naming the file, the field, the bad value and what is valid."""
from __future__ import annotations


class InputError(Exception):
    """Bad user input (scenario, override, observed file). The CLI prints it and exits with status 2."""


class ConservationError(RuntimeError):
    """The books do not balance: some agents are missing from every status. The run stops."""
