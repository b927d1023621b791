"""Reporting: the figures of crosspost report, in tables, CSV, JSON and HTML."""
