"""``diagnose()`` for LinkedIn: the token works, and what it may read back.

LinkedIn gives an app no way to list a token's scopes without the app's client
secret (token introspection), so the posting scopes (``w_member_social``,
``w_organization_social``) show only when a post is made. What can be read is tried:

- ``GET /rest/posts?q=author`` (one post): the token is valid (a 401 is not), and it may
  read the author's posts (``r_member_social`` / ``r_organization_social``), which
  crosspost needs to find a post after an uncertain publish;
- for a page, ``GET /rest/networkSizes`` (its follower count).

LinkedIn sends no rate-limit headers; its limits are daily, per app and member.
"""

from __future__ import annotations

from urllib.parse import quote

from connectors.diagnosis import Diagnosis, missing
from connectors.http import HttpConnector, Kind
from connectors.linkedin.settings import LinkedInSettings

__all__ = ["LinkedInDoctor"]


class LinkedInDoctor(HttpConnector[LinkedInSettings]):
    """``diagnose`` of :class:`connectors.linkedin.LinkedInConnector`."""

    def diagnose(self) -> Diagnosis:
        """Whether the token is accepted and what it lacks to read the author's posts.

        Raises:
            AuthError: the token is refused (expired: they last 60 days).
            RateLimited, Rejected, Transient.
        """
        author = self.settings.author
        page = author.startswith("urn:li:organization:")
        read_scope = "r_organization_social" if page else "r_member_social"
        params = {"q": "author", "author": author, "count": "1"}
        headers = {"X-RestLi-Method": "FINDER"}
        found = self.http.request(
            "GET", "posts", kind=Kind.READ, params=params, headers=headers, ok=(403,)
        )
        problems: list[str] = []
        notes: list[str] = []
        if found.status_code == 403:
            lacking = missing((), {read_scope: "find a post after an uncertain publish"})
            # members rarely get r_member_social (LinkedIn grants it to approved apps)
            (problems if page else notes).extend(lacking)
        if page:
            problems += self._page_followers(author)
        notes.append(
            "LinkedIn does not show a token's posting scope (w_member_social or "
            "w_organization_social) without the app's secret; a post will show it"
        )
        return Diagnosis(
            identity=author,
            problems=tuple(problems),
            notes=tuple(notes),
            details={"LinkedIn-Version": self.settings.version},
        )

    def _page_followers(self, author: str) -> list[str]:
        """A problem when the token may not read the page's follower count."""
        sizes = self.http.request(
            "GET",
            f"networkSizes/{quote(author, safe='')}",
            kind=Kind.READ,
            params={"edgeType": "COMPANY_FOLLOWED_BY_MEMBER"},
            ok=(403,),
        )
        if sizes.status_code != 403:
            return []
        return [
            "the token may not read the page's follower count (networkSizes: 403); "
            "grant r_organization_social or rw_organization_admin"
        ]
