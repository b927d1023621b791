"""The base class of the Meta connectors: one client, one envelope, containers, lists.

Facebook Pages, Instagram and Threads are all Graph APIs: the token goes as the
``access_token`` parameter, failures come in one envelope (:mod:`.errors`), and
Instagram and Threads publish in two steps through a *media container* that is
created, polled until ``FINISHED`` and then published.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

import requests

from connectors.base import (
    AuthError,
    Published,
)
from connectors.graph.errors import graph_error, graph_verdict
from connectors.graph.payloads import InsightValue, insight_values, items, number, parse_time
from connectors.graph.settings import GraphSettings
from connectors.http import HttpClient, HttpConnector, Kind, Verdict
from connectors.payload import JSONObject

__all__ = ["GraphConnector", "GraphSettingsT", "comparable"]

#: The settings model of a Meta connector.
GraphSettingsT = TypeVar("GraphSettingsT", bound=GraphSettings)

#: Form fields and query parameters of a Graph request.
Params = Mapping[str, str]
#: "Object does not exist / no permission to read it" (code 100, subcode 33).
_MISSING = (100, 33)


def comparable(text: str) -> str:
    """``text`` with line ends and runs of white space made alike, for matching."""
    return " ".join(text.replace("\r\n", "\n").split())


class GraphConnector(HttpConnector[GraphSettingsT]):
    """What the Facebook, Instagram and Threads connectors share.

    Subclasses name their API root and, when the token rotates, override
    ``_access_token``; every request goes through :meth:`_call`.
    """

    # -- the client -----------------------------------------------------------

    def _api_root(self) -> str:
        """``https://<host>/<version>`` of this account's API."""
        raise NotImplementedError

    def _access_token(self) -> str:
        """The token sent with the next request: the configured one unless it rotates."""
        return self.settings.access_token.get_secret_value()

    def _make_client(self) -> HttpClient:
        return HttpClient(
            self.name,
            self.account,
            base_url=self._api_root(),
            secrets=[self.settings.access_token.get_secret_value()],
            classify=self.classify,
        )

    def classify(self, response: requests.Response) -> Verdict | None:
        """Meta's error envelope (see :mod:`connectors.graph.errors`)."""
        return graph_verdict(response, self.http.clock())

    def _call(
        self,
        method: str,
        path: str,
        kind: Kind,
        *,
        params: Params | None = None,
        needs: str = "",
        ok: Iterable[int] = (),
        **kwargs: Any,
    ) -> requests.Response:
        """One Graph request with the token; ``needs`` names the permission it takes.

        Raises:
            AuthError: with the permission named when ``needs`` is given.
            RateLimited, Rejected, Transient, Unknown: as the request's ``kind`` says.
        """
        token = self._access_token()
        self.http.add_secret(token)
        query = {**(params or {}), "access_token": token}
        try:
            return self.http.request(method, path, kind=kind, ok=ok, params=query, **kwargs)
        except AuthError as error:
            if not needs:
                raise
            message = f"{error.message} (this needs {needs})"
            raise self.error(AuthError, message, error.status) from None

    def _object(
        self,
        method: str,
        path: str,
        kind: Kind,
        *,
        params: Params | None = None,
        needs: str = "",
        **kwargs: Any,
    ) -> JSONObject:
        """The JSON object a request answers with."""
        response = self._call(method, path, kind, params=params, needs=needs, **kwargs)
        return self.http.json_object(response, kind)

    def _id(self, body: Mapping[str, object], kind: Kind, what: str, key: str = "id") -> str:
        """The ``id`` of a created object; an answer without one is unreadable."""
        value = body.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value:
            raise self.http.unreadable(f"Meta created the {what} but sent no {key}", kind)
        return value

    def _call_or_missing(
        self, method: str, path: str, kind: Kind, *, params: Params | None = None, needs: str = ""
    ) -> requests.Response | None:
        """A request whose object may be gone: None for a 404 or "does not exist" (100/33)."""
        response = self._call(method, path, kind, params=params, needs=needs, ok=(400, 404))
        if response.status_code == 404:
            return None
        if response.status_code == 400:
            error = graph_error(response) or {}
            if (error.get("code"), error.get("error_subcode")) == _MISSING:
                return None
            raise self.http.failure(response, kind)
        return response

    def _read_or_missing(self, path: str, params: Params, needs: str = "") -> JSONObject | None:
        """The object at ``path``, or None when it does not exist (any more)."""
        response = self._call_or_missing("GET", path, Kind.READ, params=params, needs=needs)
        return None if response is None else self.http.json_object(response, Kind.READ)

    def _insights(
        self, object_ids: Sequence[str], metrics: Sequence[str], needs: str
    ) -> dict[str, dict[str, InsightValue]]:
        """``/{id}/insights`` values of each object; those Meta no longer knows are left out."""
        found: dict[str, dict[str, InsightValue]] = {}
        for object_id in dict.fromkeys(object_ids):
            query = {"metric": ",".join(metrics)}
            body = self._read_or_missing(f"{object_id}/insights", query, needs=needs)
            if body is not None:
                found[object_id] = insight_values(body)
        return found

    def _quota(self, path: str) -> tuple[int, int] | None:
        """``(used, total)`` posts of the last 24 hours from a publishing limit endpoint."""
        body = self._object("GET", path, Kind.READ, params={"fields": "quota_usage,config"})
        for entry in items(body):
            config = entry.get("config")
            used = number(entry.get("quota_usage"))
            total = number(config.get("quota_total")) if isinstance(config, dict) else None
            if used is not None and total is not None:
                return used, total
        return None

    # -- reconciling ----------------------------------------------------------

    def _find_in_recent(
        self,
        path: str,
        text: str,
        fields: tuple[str, str, str],
        *,
        window: timedelta = timedelta(days=1),
        params: Params | None = None,
    ) -> Published | None:
        """The newest listed post whose text reads ``text``, published within ``window``.

        Args:
            path: the account's list of posts.
            text: what was sent.
            fields: the names of the text, time and URL fields in this list.
            window: how far back a post may be the one sent.
            params: more query parameters (``since``, ``limit``).
        """
        text_field, time_field, url_field = fields
        query = {"fields": f"id,{text_field},{time_field},{url_field}", **(params or {})}
        body = self._object("GET", path, Kind.READ, params=query)
        oldest = self.http.clock() - window
        wanted = comparable(text)
        for entry in items(body):
            when = parse_time(entry.get(time_field))
            written = entry.get(text_field)
            if when is None or when < oldest or not isinstance(written, str):
                continue
            if comparable(written) == wanted and isinstance(entry.get("id"), str):
                url = entry.get(url_field)
                return Published(
                    remote_id=str(entry["id"]),
                    url=url if isinstance(url, str) else None,
                    published_at=when,
                )
        return None

    def _since(self, window: timedelta) -> str:
        """A ``since`` parameter (Unix seconds) ``window`` ago."""
        moment: datetime = self.http.clock() - window
        return str(int(moment.timestamp()))
