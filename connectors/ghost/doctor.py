"""``diagnose()`` for Ghost: which site the Admin API key opens.

One read-only call, with a fresh Admin API token: ``GET /ghost/api/admin/site/``
(the site's ``title``, ``url`` and ``version``). A key the site takes belongs to a
custom integration, which may publish; a key the site knows but does not let in
(403) is a problem named here. Ghost sends no rate-limit headers.
"""

from __future__ import annotations

from connectors.diagnosis import Diagnosis
from connectors.ghost.reading import GhostReading
from connectors.http import Kind

__all__ = ["GhostDoctor"]


class GhostDoctor(GhostReading):
    """``diagnose`` of :class:`connectors.ghost.GhostConnector`."""

    def diagnose(self) -> Diagnosis:
        """The site the key opens, or why it may not act there.

        Raises:
            AuthError: the site does not know the key (401).
            RateLimited, Rejected, Transient.
        """
        response = self._call("GET", "/site/", Kind.READ, ok=(403,))
        if response.status_code == 403:
            return Diagnosis(
                identity=f"an Admin API key for {self.settings.url}",
                problems=(
                    "Ghost does not let this key act on the site (403): use the Admin API "
                    "key of a custom integration (Settings → Integrations)",
                ),
            )
        site = self.http.json_object(response, Kind.READ).get("site")
        title = site.get("title") if isinstance(site, dict) else None
        if not isinstance(site, dict) or not isinstance(title, str):
            raise self._unreadable("site")
        version = site.get("version")
        details = {"site": str(site.get("url") or self.settings.url)}
        if isinstance(version, str):
            details["version"] = version
        return Diagnosis(identity=title, details=details)
