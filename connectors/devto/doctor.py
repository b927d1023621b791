"""``diagnose()`` for dev.to (Forem): whose API key it is.

One read-only call: ``GET /api/users/me`` (the key's user: ``username``, ``name``).
A Forem key has no scopes: it may do all its user may, so a key the site still takes
can publish. A refused key (401) is a problem named here; Forem's rate limits send no
headers to read a headroom from.
"""

from __future__ import annotations

from connectors.devto.reading import DevtoReading
from connectors.diagnosis import Diagnosis
from connectors.http import Kind

__all__ = ["DevtoDoctor"]


class DevtoDoctor(DevtoReading):
    """``diagnose`` of :class:`connectors.devto.DevtoConnector`."""

    def diagnose(self) -> Diagnosis:
        """Who the API key belongs to, or that the site refuses it.

        Raises:
            RateLimited, Rejected, Transient.
        """
        site = self.settings.base_url
        response = self.http.request("GET", "/api/users/me", kind=Kind.READ, ok=(401,))
        if response.status_code == 401:
            return Diagnosis(
                identity=f"an API key for {site}",
                problems=(
                    f"{site} refuses the API key: make a new one under Settings → "
                    "Extensions → DEV Community API Keys",
                ),
            )
        user = self.http.json_object(response, Kind.READ)
        username = user.get("username")
        if not isinstance(username, str) or not username:
            raise self._unreadable("user")
        return Diagnosis(
            identity=f"@{username}",
            notes=("a Forem API key has no scopes: it may do whatever its user may",),
            details={"site": site},
        )
