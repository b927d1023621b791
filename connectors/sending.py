"""One request through a ``requests.Session``, its settings merged without ``Session.request``.

``Session.request`` merges the session's headers, parameters, proxies and auth into
each request with ``merge_setting``, which checks every value against the runtime
typing protocols of ``requests`` (``SupportsItems``, ``SupportsRead``): Python walks a
protocol's members at each such ``isinstance``, eight times per request, about a
tenth of the CPU of a small post. :func:`send` builds the same ``PreparedRequest`` as
``Session.request`` does for a session that does not trust the environment (the
client reads the environment once per origin, :mod:`connectors.client`), merging
with plain dictionaries, and sends it with ``Session.send``: adapters, hooks,
redirects and cookies are the session's, as before. A session that trusts the
environment, or has parameters of its own, goes through ``Session.request``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import requests
from requests.cookies import RequestsCookieJar, merge_cookies
from requests.hooks import default_hooks
from requests.sessions import merge_hooks, merge_setting
from requests.structures import CaseInsensitiveDict

if TYPE_CHECKING:
    from connectors.client import RequestOptions

__all__ = ["send"]


def send(
    session: requests.Session, method: str, url: str, options: RequestOptions
) -> requests.Response:
    """``session.request(method, url, **options)``, with less work per request."""
    if session.trust_env or session.params:
        return session.request(method, url, **options)
    prepared = requests.PreparedRequest()
    prepared.prepare(
        method=method.upper(),
        url=url,
        files=options.get("files"),
        data=options.get("data") or {},
        json=options.get("json"),
        headers=_headers(options.get("headers") or {}, session.headers),
        params=options.get("params") or None,  # none: the URL as it is, as with {}
        auth=_auth(options.get("auth"), session.auth),
        cookies=merge_cookies(RequestsCookieJar(), session.cookies),  # type: ignore[no-untyped-call]
        hooks=merge_hooks(default_hooks(), session.hooks),  # type: ignore[no-untyped-call]
    )
    return session.send(
        prepared,
        timeout=options.get("timeout"),
        allow_redirects=options.get("allow_redirects", True),
        proxies=_proxies(options.get("proxies"), session.proxies),
        stream=options.get("stream", session.stream),
        verify=session.verify,
        cert=session.cert,
    )


def _headers(given: Mapping[str, str], own: Mapping[str, str | bytes]) -> Any:
    """The session's headers with the request's over them; a None value removes one."""
    if not isinstance(given, Mapping):
        return merge_setting(given, own, dict_class=CaseInsensitiveDict)
    merged: CaseInsensitiveDict[Any] = CaseInsensitiveDict(own)
    merged.update(given)
    for name in [name for name, value in merged.items() if value is None]:
        del merged[name]
    return merged


def _auth(given: object, own: object) -> Any:
    return own if given is None else given


def _proxies(given: Mapping[str, str] | None, own: Mapping[str, str]) -> dict[str, str]:
    merged = {**own, **(given or {})}
    return {scheme: proxy for scheme, proxy in merged.items() if proxy is not None}
