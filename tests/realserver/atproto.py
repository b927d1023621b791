"""Plain XRPC calls a test makes as another Bluesky user (likes, replies, follows…).

Deliberately independent of ``connectors/bluesky/``: these are the members and the
reference reads the connector's results are compared with.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests

TIMEOUT = (5, 30)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def xrpc(base: str, method: str, nsid: str, token: str | None = None, **kwargs: Any) -> Any:
    """One XRPC call; the decoded answer, or an AssertionError naming the refusal."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = requests.request(
        method, f"{base}/xrpc/{nsid}", headers=headers, timeout=TIMEOUT, **kwargs
    )
    assert response.ok, f"{nsid}: HTTP {response.status_code} {response.text[:300]}"
    return response.json() if response.content else None


@dataclass
class User:
    """An account on the test PDS, signed in with its main password."""

    pds: str
    handle: str
    did: str
    token: str
    app_password: str = ""

    @classmethod
    def sign_up(cls, pds: str, name: str) -> User:
        """A new account ``<name>.test`` with an app password for crosspost."""
        handle = f"{name}.test"
        body = {"handle": handle, "email": f"{name}@example.com", "password": f"{name}-pass"}
        made = xrpc(pds, "POST", "com.atproto.server.createAccount", json=body)
        user = cls(pds, handle, made["did"], made["accessJwt"])
        app = user.call("POST", "com.atproto.server.createAppPassword", json={"name": "crosspost"})
        user.app_password = app["password"]
        return user

    def call(self, method: str, nsid: str, **kwargs: Any) -> Any:
        return xrpc(self.pds, method, nsid, self.token, **kwargs)

    def put(self, collection: str, record: dict[str, Any]) -> dict[str, str]:
        """A record in this user's repo; its ``uri`` and ``cid``."""
        body = {"repo": self.did, "collection": collection, "record": record}
        made = self.call("POST", "com.atproto.repo.createRecord", json=body)
        return {"uri": made["uri"], "cid": made["cid"]}

    def like(self, subject: dict[str, str]) -> dict[str, str]:
        record = {"subject": subject, "createdAt": now()}
        return self.put("app.bsky.feed.like", record)

    def repost(self, subject: dict[str, str]) -> dict[str, str]:
        record = {"subject": subject, "createdAt": now()}
        return self.put("app.bsky.feed.repost", record)

    def post(self, text: str, **fields: Any) -> dict[str, str]:
        record = {"$type": "app.bsky.feed.post", "text": text, "createdAt": now(), **fields}
        return self.put("app.bsky.feed.post", record)

    def reply(self, text: str, root: dict[str, str], parent: dict[str, str]) -> dict[str, str]:
        return self.post(text, reply={"root": root, "parent": parent})

    def quote(self, text: str, subject: dict[str, str]) -> dict[str, str]:
        return self.post(text, embed={"$type": "app.bsky.embed.record", "record": subject})

    def mention(self, text: str, handle: str, did: str) -> dict[str, str]:
        """A post whose text contains ``@handle``, with the mention facet an app would add."""
        start = text.encode().index(f"@{handle}".encode())
        index = {"byteStart": start, "byteEnd": start + len(f"@{handle}".encode())}
        feature = {"$type": "app.bsky.richtext.facet#mention", "did": did}
        return self.post(text, facets=[{"index": index, "features": [feature]}])

    def follow(self, did: str) -> dict[str, str]:
        return self.put("app.bsky.graph.follow", {"subject": did, "createdAt": now()})

    def unfollow(self, follow: dict[str, str]) -> None:
        rkey = follow["uri"].rsplit("/", 1)[1]
        body = {"repo": self.did, "collection": "app.bsky.graph.follow", "rkey": rkey}
        self.call("POST", "com.atproto.repo.deleteRecord", json=body)
