"""What the core looks for on a connector beyond the contract, by ``isinstance``.

Kept apart from :mod:`connectors.records` (which re-exports :class:`KeepsRecords`, as
docs/writing-a-connector.md promises) so that probing a connector for them, as
``crosspost check`` does, does not import the records' types.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from connectors.records import AccountRecords

__all__ = ["ExclusiveResource", "KeepsRecords"]


@runtime_checkable
class KeepsRecords(Protocol):
    """A connector that keeps records in the core's store; the core calls this once it has one."""

    def use_records(self, records: AccountRecords) -> None:
        """Keep records in ``records`` from now on."""
        ...


@runtime_checkable
class ExclusiveResource(Protocol):
    """A connector whose account uses something that only one account can use at a time.

    ``crosspost check`` warns when two accounts name the same resource.
    """

    def exclusive_resource(self) -> str | None:
        """What only this account may use, in words (``the getUpdates offset of …``), or None."""
        ...
