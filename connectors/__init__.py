"""Built-in platform connectors, registered through the ``crosspost.connectors`` entry points."""
