"""Planning: when posts fall due, written down as planned publications; what check and plan show."""
