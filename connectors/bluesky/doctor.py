"""``diagnose()`` for Bluesky: the session's account, whether it may post, the headroom.

- ``com.atproto.server.getSession`` (read; a login with the app password first when no
  session is saved, a harmless write): handle, DID, and ``active``/``status`` (a
  ``takendown``, ``suspended`` or ``deactivated`` account cannot post). Its
  ``RateLimit-*`` headers give the headroom where the PDS sends them.
- ``app.bsky.actor.getProfile`` through the AppView when one is set: reads of counts work.

An app password may always create posts, and Bluesky lists no scopes for it.
"""

from __future__ import annotations

from connectors.bluesky.reading import BlueskyReading
from connectors.diagnosis import Diagnosis, rate_headroom
from connectors.http import Kind

__all__ = ["BlueskyDoctor"]


class BlueskyDoctor(BlueskyReading):
    """``diagnose`` of :class:`connectors.bluesky.BlueskyConnector`."""

    def diagnose(self) -> Diagnosis:
        """The session's handle and DID, whether the account is active, the rate headroom.

        Raises:
            AuthError: the app password (or the saved session) is refused.
            RateLimited, Rejected, Transient.
        """
        response = self._xrpc("GET", "com.atproto.server.getSession", kind=Kind.READ)
        session = self._object(response)
        problems: list[str] = []
        if session.get("active") is False:
            status = session.get("status") or "inactive"
            problems.append(f"the account is {status}: it cannot post until the PDS restores it")
        handle = str(session.get("handle") or self.settings.handle)
        did = str(session.get("did") or "")
        details = {"PDS": self.settings.service, "DID": did}
        if self.settings.appview:
            profile = self._object(self._read("app.bsky.actor.getProfile", params={"actor": did}))
            details["AppView"] = self.settings.appview
            details["followers"] = str(profile.get("followersCount", "?"))
        return Diagnosis(
            identity=f"@{handle}",
            problems=tuple(problems),
            notes=("an app password may always post; Bluesky lists no scopes for it",),
            rate=rate_headroom(response.headers),
            details=details,
        )
