"""What the Meta connectors' ``diagnose()`` share: permission probes, usage headers, quotas.

Meta lets a token prove a permission only by using it, so each connector makes
a few reads that need the permissions it depends on (read-only: nothing is
created). A read refused with a permission code (10, 200–299) becomes a problem
naming the permission; an expired or revoked token (190) still raises, for the
core to report.

Rate headroom: ``X-App-Usage``, ``X-Page-Usage`` and ``X-Business-Use-Case-Usage``
say how much of the hourly budget is used, in percent of ``call_count``,
``total_cputime`` and ``total_time``
(https://developers.facebook.com/docs/graph-api/overview/rate-limiting/). The
headroom is what the most used of them leaves, out of 100.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import requests

from connectors.diagnosis import RateHeadroom
from connectors.graph.base import GraphConnector, GraphSettingsT
from connectors.graph.errors import PERMISSION_CODES, USAGE_HEADERS, graph_error, usage_entries
from connectors.graph.payloads import items, number
from connectors.http import Kind
from connectors.payload import JSONObject

__all__ = ["GraphDoctor", "Probe", "quota_problem", "usage_headroom"]

#: The percentages each usage entry carries.
_SHARES = ("call_count", "total_cputime", "total_time")


def usage_headroom(headers: Iterable[Mapping[str, str]]) -> RateHeadroom | None:
    """Percent of the budget left after the most used share in any usage header; None if none."""
    used: list[float] = []
    for one in headers:
        lowered = {name.lower(): value for name, value in one.items()}
        for name in USAGE_HEADERS:
            for entry in usage_entries(lowered.get(name.lower(), "")):
                used += [
                    float(value)
                    for share in _SHARES
                    if isinstance(value := entry.get(share), int | float)
                    and not isinstance(value, bool)
                ]
    if not used:
        return None
    return RateHeadroom(limit=100, remaining=max(0, 100 - round(max(used))), percent=True)


def quota_problem(body: Mapping[str, object], what: str) -> tuple[list[str], dict[str, str]]:
    """A full publishing quota as a problem, and the quota as a detail."""
    for entry in items(body):
        config = entry.get("config")
        used = number(entry.get("quota_usage"))
        total = number(config.get("quota_total")) if isinstance(config, dict) else None
        if used is None or total is None:
            continue
        details = {"published in the last 24 hours": f"{used} of {total} {what}"}
        if used >= total:
            return [f"the account has published {used} of its {total} {what} a day"], details
        return [], details
    return [], {}


@dataclass
class Probe:
    """What the check's reads found: problems, and the headers the rate is read from."""

    problems: list[str] = field(default_factory=list)
    headers: list[Mapping[str, str]] = field(default_factory=list)

    @property
    def rate(self) -> RateHeadroom | None:
        """The headroom the least generous usage header of any read left."""
        return usage_headroom(self.headers)


class GraphDoctor(GraphConnector[GraphSettingsT]):
    """Read-only probes of a Meta account, for the connectors' ``diagnose``."""

    def _probe(
        self,
        probe: Probe,
        path: str,
        params: Mapping[str, str],
        permission: str,
        purpose: str,
    ) -> JSONObject | None:
        """``GET path``; None and a problem naming ``permission`` when Meta refuses it.

        Raises:
            AuthError: the token itself is refused (expired, revoked).
            RateLimited, Rejected, Transient: any other failure.
        """
        response = self._call("GET", path, Kind.READ, params=params, ok=(400, 403))
        probe.headers.append(response.headers)
        if response.ok:
            return self.http.json_object(response, Kind.READ)
        refusal = _permission_refusal(response)
        if refusal is None:
            raise self.http.failure(response, Kind.READ)
        probe.problems.append(
            f"the token lacks the {permission} permission (needed to {purpose}): {refusal}"
        )
        return None


def _permission_refusal(response: requests.Response) -> str | None:
    """Meta's message when ``response`` refuses for a missing permission, else None."""
    error = graph_error(response)
    if error is None or error.get("code") not in PERMISSION_CODES:
        return None
    return str(error.get("message") or f"code {error.get('code')}")
