"""corridor: an agent-based simulator of the migration corridor to the US southwest border."""
__version__ = "0.1.0"
