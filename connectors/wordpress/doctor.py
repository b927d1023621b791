"""``diagnose()`` for WordPress: whose application password it is and what they may do.

One read-only call: ``GET /wp/v2/users/me?context=edit``, whose ``capabilities``
(https://developer.wordpress.org/rest-api/reference/users/#schema-capabilities)
show whether the user may publish posts and upload the cover. WordPress sends no
rate-limit headers.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from connectors.diagnosis import Diagnosis
from connectors.http import Kind
from connectors.wordpress.reading import WordPressReading

__all__ = ["NEEDED_CAPABILITIES", "WordPressDoctor"]

#: Capability → what crosspost uses it for.
NEEDED_CAPABILITIES = {
    "publish_posts": "publish posts",
    "upload_files": "upload a cover as the featured image",
}


class WordPressDoctor(WordPressReading):
    """``diagnose`` of :class:`connectors.wordpress.WordPressConnector`."""

    def diagnose(self) -> Diagnosis:
        """Who the password belongs to and which needed capabilities their role lacks.

        Raises:
            AuthError: the site refuses the username or application password.
            RateLimited, Rejected, Transient.
        """
        params = {"context": "edit", "_fields": "id,username,name,roles,capabilities"}
        user = self.http.json_object(self._get("/wp/v2/users/me", params), Kind.READ)
        username = user.get("username") or user.get("name")
        capabilities = user.get("capabilities")
        if not isinstance(username, str) or not isinstance(capabilities, dict):
            raise self._unreadable("user")
        granted = sorted(name for name, allowed in capabilities.items() if allowed is True)
        problems = tuple(
            f"the user lacks the {name} capability (needed to {purpose}): give them a role "
            "that has it, such as Author or Editor"
            for name, purpose in NEEDED_CAPABILITIES.items()
            if name not in granted
        )
        roles = user.get("roles")
        details = {"site": self.settings.url}
        if isinstance(roles, list):
            details["roles"] = ", ".join(str(role) for role in roles)
        host = urlsplit(self.settings.url).hostname or self.settings.url
        return Diagnosis(
            identity=f"{username} on {host}",
            problems=problems,
            scopes=tuple(name for name in granted if name in NEEDED_CAPABILITIES),
            details=details,
        )
