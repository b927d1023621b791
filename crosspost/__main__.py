"""``python -m crosspost``: the same as the ``crosspost`` command."""

from crosspost.cli import main

main()
