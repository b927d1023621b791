"""``diagnose()`` for Threads: the token's profile, the publishing quota, insights access.

Read-only calls (https://developers.facebook.com/docs/threads/threads-profiles,
https://developers.facebook.com/docs/threads/overview#rate-limiting):

- ``GET /me?fields=id,username`` (``threads_basic``): whose token it is; a ``user_id``
  set to another profile is a problem.
- ``GET /{user}/threads_publishing_limit?fields=quota_usage,config``: posts of the last
  24 hours against the 250 allowed.
- ``GET /{user}/threads_insights?metric=followers_count`` (``threads_manage_insights``):
  the follower count ``collect`` reads.

``threads_content_publish``, ``threads_manage_replies`` and ``threads_delete`` can only be
proven by using them; the diagnosis says so in a note.
"""

from __future__ import annotations

from connectors.diagnosis import Diagnosis
from connectors.graph.doctor import GraphDoctor, Probe, quota_problem
from connectors.threads.settings import ThreadsSettings
from connectors.threads.token import ThreadsToken

__all__ = ["ThreadsDoctor"]


class ThreadsDoctor(ThreadsToken, GraphDoctor[ThreadsSettings]):
    """``diagnose`` of :class:`connectors.threads.ThreadsConnector`."""

    def diagnose(self) -> Diagnosis:
        """Who the token is, whether the quota and the insights permission let crosspost work.

        Raises:
            AuthError: the token is refused (expired or revoked).
            RateLimited, Rejected, Transient.
        """
        probe = Probe()
        me = self._probe(
            probe, "me", {"fields": "id,username"}, "threads_basic", "read the profile"
        )
        me = me or {}
        identity = f"@{me['username']}" if me.get("username") else f"Threads user {self._owner()}"
        user = self.settings.user_id
        if user != "me" and me.get("id") not in (None, user):
            probe.problems.append(
                f"the token belongs to Threads user {me.get('id')}, not user_id {user}"
            )
        limit = self._probe(
            probe,
            f"{self._owner()}/threads_publishing_limit",
            {"fields": "quota_usage,config"},
            "threads_basic",
            "read the publishing quota",
        )
        found, details = quota_problem(limit or {}, "posts")
        probe.problems.extend(found)
        self._probe(
            probe,
            f"{self._owner()}/threads_insights",
            {"metric": "followers_count"},
            "threads_manage_insights",
            "read follower counts",
        )
        return Diagnosis(
            identity=identity,
            problems=tuple(probe.problems),
            notes=(
                "threads_content_publish, threads_manage_replies and threads_delete show only "
                "when used: Threads does not list a token's permissions",
            ),
            rate=probe.rate,
            details={"host": self.settings.host, **details},
        )
