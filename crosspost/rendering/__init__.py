"""Rendering content for a platform: Markdown, Jinja templates, counting and cutting text."""
