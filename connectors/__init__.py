"""Built-in platform connectors; each registers through the ``crosspost.connectors`` entry points."""
