"""``diagnose()`` for Facebook Pages: the Page, and the permissions its token carries.

Read-only calls:

- ``GET /{page}?fields=id,name,followers_count``
  (https://developers.facebook.com/docs/graph-api/reference/page/): the token reaches the
  Page; ``followers_count`` needs ``pages_read_engagement``.
- ``GET /me/permissions`` (https://developers.facebook.com/docs/graph-api/reference/user/permissions/):
  ``{"data": [{"permission", "status": "granted" | "declined" | "expired"}]}``, naming what
  is missing without ``debug_token`` (which wants an app token).
- When the token does not list its permissions (a Page node has no ``permissions`` edge),
  ``GET /{page}/published_posts`` with one comment shows ``pages_read_user_content``;
  ``pages_manage_posts`` then shows only when publishing, and the diagnosis says so.
"""

from __future__ import annotations

from collections.abc import Mapping

from connectors.diagnosis import Diagnosis
from connectors.facebook.reading import FacebookReading
from connectors.facebook.settings import FacebookSettings
from connectors.graph import graph_error, items
from connectors.graph.doctor import GraphDoctor, Probe
from connectors.http import Kind

__all__ = ["NEEDED_PERMISSIONS", "FacebookDoctor"]

#: Permission → what crosspost uses it for; without one of these crosspost fails.
NEEDED_PERMISSIONS = {
    "pages_manage_posts": "publish and retract Page posts",
    "pages_read_engagement": "read the Page's followers and its posts' counts",
    "pages_read_user_content": "read members' comments into the inbox",
}
#: Permissions crosspost does without: what it then leaves out.
OPTIONAL_PERMISSIONS = {
    "read_insights": "views are left out of the counts",
    "pages_manage_engagement": "comments cannot be answered (crosspost reply)",
}


class FacebookDoctor(FacebookReading, GraphDoctor[FacebookSettings]):
    """``diagnose`` of :class:`connectors.facebook.FacebookConnector`."""

    def diagnose(self) -> Diagnosis:
        """The Page's name, the permissions it lacks, and the usage headers' headroom.

        Raises:
            AuthError: the token is refused (expired or revoked).
            RateLimited, Rejected, Transient.
        """
        probe = Probe()
        page = self._probe(
            probe,
            self.settings.page_id,
            {"fields": "id,name,followers_count"},
            "pages_read_engagement",
            NEEDED_PERMISSIONS["pages_read_engagement"],
        )
        if page is None:  # followers_count was refused: is the Page itself readable?
            page = self._object("GET", self.settings.page_id, Kind.READ, params={"fields": "name"})
        name = page.get("name")
        identity = f"Page {name}" if isinstance(name, str) and name else self.settings.page_id
        granted = self._granted(probe)
        notes = self._permission_problems(probe, granted)
        details = {"page id": self.settings.page_id, "graph version": self.settings.version}
        followers = page.get("followers_count")
        if isinstance(followers, int):
            details["followers"] = str(followers)
        return Diagnosis(
            identity=identity,
            problems=tuple(probe.problems),
            scopes=tuple(sorted(granted)) if granted is not None else None,
            notes=tuple(notes),
            rate=probe.rate,
            details=details,
        )

    def _permission_problems(self, probe: Probe, granted: set[str] | None) -> list[str]:
        """Add the needed permissions the token lacks to ``probe``; return notes on the
        optional ones. A token that does not list its permissions is probed instead."""
        if granted is None:
            self._probe(
                probe,
                f"{self.settings.page_id}/published_posts",
                {"fields": "id,comments.limit(1){id}", "limit": "1"},
                "pages_read_user_content",
                NEEDED_PERMISSIONS["pages_read_user_content"],
            )
            return [
                "the token does not list its permissions: pages_manage_posts, read_insights "
                "and pages_manage_engagement show only when used"
            ]
        said = " ".join(probe.problems)
        probe.problems += [
            f"the token lacks the {permission} permission (needed to {purpose})"
            for permission, purpose in NEEDED_PERMISSIONS.items()
            if permission not in granted and permission not in said
        ]
        return [
            f"without {permission}, {effect}"
            for permission, effect in OPTIONAL_PERMISSIONS.items()
            if permission not in granted
        ]

    def _granted(self, probe: Probe) -> set[str] | None:
        """The permissions ``/me/permissions`` lists as granted; None when it lists none."""
        response = self._call("GET", "me/permissions", Kind.READ, ok=(400, 403))
        probe.headers.append(response.headers)
        if not response.ok:
            error = graph_error(response) or {}
            if error.get("code") in (190, 102):
                raise self.http.failure(response, Kind.READ)
            return None
        body = self.http.json_object(response, Kind.READ)
        listed = items(body)
        if not listed:
            return None
        return {_name(entry) for entry in listed if entry.get("status") == "granted"} - {""}


def _name(entry: Mapping[str, object]) -> str:
    permission = entry.get("permission")
    return permission if isinstance(permission, str) else ""
