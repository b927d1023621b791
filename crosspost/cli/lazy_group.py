"""A click group whose subcommands are imported only when one is run.

``crosspost --help`` lists every command from a summary given at registration, so
that listing them imports none of their modules (SQLAlchemy, Jinja, connectors).
"""

from __future__ import annotations

import importlib
from typing import Any

import click

__all__ = ["LazyGroup", "summary_of"]


def summary_of(command: click.Command) -> str:
    """The first paragraph of a command's help, on one line (what ``--help`` shortens)."""
    first = (command.help or "").strip().split("\n\n")[0]
    return " ".join(first.split())


class LazyGroup(click.Group):
    """A group with :meth:`add_lazy` commands next to the ordinary ones."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: name → ("module:attribute", summary)
        self.lazy: dict[str, tuple[str, str]] = {}

    def add_lazy(self, name: str, target: str, summary: str) -> None:
        """Register ``module:attribute`` as command ``name``, imported when first used."""
        self.lazy[name] = (target, summary)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            module, attribute = self.lazy[cmd_name][0].split(":")
            self.add_command(getattr(importlib.import_module(module), attribute), cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            command = self.commands.get(name)
            if command is None:
                stand_in = click.Command(name, help=self.lazy[name][1])
                rows.append((name, stand_in.get_short_help_str(limit)))
            elif not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)
