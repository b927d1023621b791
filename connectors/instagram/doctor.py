"""``diagnose()`` for Instagram: the professional account, and its publishing quota.

Read-only calls
(https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user,
https://developers.facebook.com/docs/instagram-platform/content-publishing/#rate-limit):

- ``GET /{ig-user}?fields=id,username`` (``instagram_basic``, or ``instagram_business_basic``
  with Instagram Login): that the token reaches the account.
- ``GET /{ig-user}/content_publishing_limit?fields=quota_usage,config`` (the content publish
  permission as well): posts of the last 24 hours against the 50 allowed.
"""

from __future__ import annotations

from connectors.diagnosis import Diagnosis
from connectors.graph import ContainerConnector
from connectors.graph.doctor import GraphDoctor, Probe, quota_problem
from connectors.instagram.settings import InstagramSettings

__all__ = ["InstagramDoctor"]


class InstagramDoctor(ContainerConnector[InstagramSettings], GraphDoctor[InstagramSettings]):
    """``diagnose`` of :class:`connectors.instagram.InstagramConnector`."""

    def _permission(self, name: str) -> str:
        """``instagram_<name>``, or ``instagram_business_<name>`` with Instagram Login."""
        return (
            f"instagram_business_{name}"
            if self.settings.login == "instagram"
            else (f"instagram_{name}")
        )

    def diagnose(self) -> Diagnosis:
        """The account's handle, and whether the token may publish and has quota left.

        Raises:
            AuthError: the token is refused (expired or revoked).
            RateLimited, Rejected, Transient.
        """
        probe = Probe()
        account = self._probe(
            probe,
            self._owner(),
            {"fields": "id,username"},
            self._permission("basic"),
            "read the account",
        )
        username = (account or {}).get("username")
        identity = f"@{username}" if username else f"Instagram account {self._owner()}"
        limit = self._probe(
            probe,
            f"{self._owner()}/content_publishing_limit",
            {"fields": "quota_usage,config"},
            self._permission("content_publish"),
            "publish posts",
        )
        found, details = quota_problem(limit or {}, "posts")
        probe.problems.extend(found)
        insights = self._permission("manage_insights")
        return Diagnosis(
            identity=identity,
            problems=tuple(probe.problems),
            notes=(f"{insights} (for counts) shows only when counts are collected",),
            rate=probe.rate,
            details={"login": self.settings.login, **details},
        )
