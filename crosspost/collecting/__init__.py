"""Collecting: reactions, audience and replies read back after a post."""
