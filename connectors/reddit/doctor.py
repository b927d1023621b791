"""``diagnose()`` for Reddit: whose account, whether it may post in the subreddit, the budget.

Read-only calls, after a sign-in (a harmless write) when no fresh token is saved:

- ``GET /api/v1/me``: the signed-in user (``name``, ``is_suspended``).
- ``GET /r/{subreddit}/about``: the subreddit exists and can be read; ``user_is_banned``,
  ``submission_type`` (``any``, ``self``, ``link``) against the account's ``kind``, and
  ``subreddit_type`` (``restricted`` and ``private`` take posts from approved users only).
  Its ``X-Ratelimit-*`` headers give the request budget left.
- The scopes are what the token answer said at sign-in (``*`` for a script app).
"""

from __future__ import annotations

from urllib.parse import quote

import requests

from connectors.diagnosis import Diagnosis, missing, rate_headroom
from connectors.http import Kind
from connectors.reddit.reading import RedditReading

__all__ = ["NEEDED_SCOPES", "RedditDoctor"]

#: OAuth scope → what crosspost uses it for (a script app's token has ``*``: all of them).
NEEDED_SCOPES = {
    "identity": "read the user's followers and karma",
    "submit": "publish posts and comments",
    "edit": "retract posts",
    "read": "collect scores and comments",
    "history": "find a post after an uncertain publish",
    "privatemessages": "read replies and mentions into the inbox",
}
#: ``subreddit_type`` values whose subreddit takes posts only from approved users.
_CLOSED = frozenset({"restricted", "private", "gold_restricted", "employees_only"})


class RedditDoctor(RedditReading):
    """``diagnose`` of :class:`connectors.reddit.RedditConnector`."""

    def diagnose(self) -> Diagnosis:
        """The user, what stops it posting in the subreddit, the scopes, the request budget.

        Raises:
            AuthError: Reddit refused the app or the user.
            RateLimited, Rejected, Transient.
        """
        me = self._api_json("GET", "/api/v1/me", Kind.READ)
        name = str(me.get("name") or self.settings.username)
        problems: list[str] = []
        if name.lower() != self.settings.username.lower():
            problems.append(f"the password signed in u/{name}, not u/{self.settings.username}")
        if me.get("is_suspended") is True:
            problems.append(f"u/{name} is suspended: Reddit refuses its posts")
        granted = str(self.state.load().get("scope") or "").split()
        scopes = tuple(sorted(granted)) if granted else None
        if scopes and "*" not in scopes:
            problems += missing(scopes, NEEDED_SCOPES)
        response = self._api(
            "GET", f"/r/{quote(self.settings.subreddit)}/about", Kind.READ, ok=(403, 404)
        )
        found, details = self._subreddit(response, name)
        notes = ["flair a subreddit requires and what its AutoModerator removes show when posting"]
        if scopes is None:
            notes.append("Reddit did not say the token's scopes at sign-in")
        return Diagnosis(
            identity=f"u/{name}",
            problems=(*problems, *found),
            scopes=scopes,
            notes=tuple(notes),
            rate=rate_headroom(response.headers, self.http.clock()),
            details=details,
        )

    def _subreddit(
        self, response: requests.Response, user: str
    ) -> tuple[list[str], dict[str, str]]:
        """What stops ``user`` posting in the subreddit ``/about`` described, and its facts."""
        sr = f"r/{self.settings.subreddit}"
        try:
            body = response.json()
        except ValueError:
            body = None
        data = body.get("data") if isinstance(body, dict) else None
        if response.status_code in (403, 404) or not isinstance(body, dict):
            reason = body.get("reason") if isinstance(body, dict) else None
            said = (
                f"{reason}, HTTP {response.status_code}"
                if reason
                else f"HTTP {response.status_code}"
            )
            return [f"{sr} cannot be read ({said}): it does not exist, is private or banned"], {}
        if body.get("kind") != "t5" or not isinstance(data, dict):
            return [f"{sr} does not exist (Reddit answered with no subreddit)"], {}
        problems = []
        if data.get("user_is_banned") is True:
            problems.append(f"u/{user} is banned from {sr}")
        allowed = str(data.get("submission_type") or "any")
        if allowed in ("self", "link") and allowed != self.settings.kind:
            takes = "text posts" if allowed == "self" else "links"
            problems.append(
                f"{sr} takes only {takes}, but the account's kind is {self.settings.kind}"
            )
        kind = str(data.get("subreddit_type") or "public")
        approved = data.get("user_is_contributor") is True or data.get("user_is_moderator") is True
        if kind in _CLOSED and not approved:
            problems.append(
                f"{sr} is {kind}: only approved users may post "
                f"(ask its moderators to approve u/{user})"
            )
        details = {"subreddit type": kind, "submission type": allowed}
        if isinstance(data.get("subscribers"), int):
            details["subscribers"] = str(data["subscribers"])
        return problems, details
