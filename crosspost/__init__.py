"""crosspost: schedule-as-code cross-posting for community managers."""

__all__ = ["__version__"]

__version__ = "0.1.0"
