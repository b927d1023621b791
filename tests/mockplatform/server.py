"""A local Mastodon stand-in that records requests and misbehaves on demand.

Speaks the part of the Mastodon API that crosspost's connector uses (see
:mod:`tests.mockplatform.handler` for the endpoints and the API pages they follow)
over ``http.server.ThreadingHTTPServer`` bound to 127.0.0.1.

Run ``python -m tests.mockplatform.server --port N`` for benchmarks; the control
API under ``/_mock/`` is described in ``tests/mockplatform/README.md``.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from types import FrameType, TracebackType
from typing import Any

from tests.mockplatform.faults import Fault, FaultBook, FaultRule
from tests.mockplatform.handler import MockServer, Reply
from tests.mockplatform.state import ApiError, MastodonState, RecordedRequest

__all__ = ["DEFAULT_TOKEN", "MockMastodon", "main"]

DEFAULT_TOKEN = "mock-token"
#: Longest the server waits for its threads when it stops.
STOP_TIMEOUT = 5.0


# --------------------------------------------------------------------------- control API


class MockMastodon:
    """The mock server: start it, point a connector at ``url`` with ``token``.

    Args:
        tokens: valid bearer tokens; each belongs to its own account. The first is ``token``.
        port: TCP port on 127.0.0.1; 0 picks a free one.
        seed: seed of the RNG used by probabilistic fault rules.
        max_characters: the instance's ``configuration.statuses.max_characters``.
    """

    def __init__(
        self,
        tokens: Iterable[str] = (DEFAULT_TOKEN,),
        *,
        port: int = 0,
        seed: int = 0,
        max_characters: int = 500,
    ) -> None:
        self.tokens = tuple(tokens)
        if not self.tokens:
            raise ValueError("the mock server needs at least one valid token")
        self.stopping = threading.Event()
        #: Seconds between the heartbeats of a notification stream (Mastodon: 15).
        self.stream_heartbeat = 15.0
        self.faults = FaultBook(seed)
        self._httpd = MockServer(self, port)
        self.port = int(self._httpd.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.state = MastodonState(self.tokens, self.url, max_characters)
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"MockMastodon({self.url!r})"

    @property
    def token(self) -> str:
        """The first valid token."""
        return self.tokens[0]

    @property
    def statuses(self) -> list[dict[str, Any]]:
        """Every stored status, oldest first, with the ``idempotency_key`` it was made with."""
        return self.state.all_statuses()

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every API request so far (control calls excluded), in arrival order."""
        return self.state.requests()

    @property
    def media(self) -> list[dict[str, Any]]:
        """Every stored upload."""
        return self.state.all_media()

    # -- lifecycle ------------------------------------------------------------

    def start(self) -> MockMastodon:
        """Serve in a background thread; returns ``self``."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="mockmastodon-serve",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, cut open connections and wait (bounded) for every thread."""
        deadline = time.monotonic() + STOP_TIMEOUT
        self.stopping.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(max(0.0, deadline - time.monotonic()))
            self._thread = None
        self._httpd.end_connections(deadline)
        self._httpd.server_close()

    def __enter__(self) -> MockMastodon:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- faults ---------------------------------------------------------------

    def add_rule(self, rule: FaultRule) -> int:
        """Add a fault rule; returns its id."""
        return self.faults.add(rule)

    def fail_next(self, method: str, path: str, fault: Fault, times: int | None = 1) -> int:
        """Inject ``fault`` into the next ``times`` requests matching ``method`` and ``path``
        (``None``: every one)."""
        return self.add_rule(FaultRule(method, path, fault, times=times))

    def fail_nth(self, method: str, path: str, fault: Fault, n: int) -> int:
        """Inject ``fault`` into the ``n``-th matching request from now (1 = the next)."""
        return self.add_rule(FaultRule(method, path, fault, times=1, nth=n))

    def fail_randomly(
        self, method: str, path: str, fault: Fault, probability: float, times: int | None = None
    ) -> int:
        """Inject ``fault`` into matching requests with ``probability`` (seeded RNG)."""
        return self.add_rule(FaultRule(method, path, fault, times=times, probability=probability))

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self.faults.clear()

    # -- state ----------------------------------------------------------------

    def reset(self) -> None:
        """Forget statuses, media, idempotency keys, requests and fault rules."""
        self.faults.clear()
        self.state.reset()

    def acct(self, token: str) -> str:
        """The ``acct`` of ``token``'s account (how a status mentions it: ``@acct``)."""
        account = self.state.account_for(token)
        if account is None:
            raise KeyError(f"no account has the token {token!r}")
        return account.username

    def post_as(self, token: str, text: str) -> dict[str, Any]:
        """Post ``text`` as ``token``'s account, as ``POST /api/v1/statuses`` would: an
        account named in it (``@acct``) gets a mention notification, streamed too."""
        account = self.state.account_for(token)
        if account is None:
            raise KeyError(f"no account has the token {token!r}")
        body, _created = self.state.post_status(account, {"status": text}, None)
        return body

    def set_counts(self, status_id: str, **counts: int) -> None:
        """Set ``favourites``/``reblogs``/``replies``/``quotes`` counts of a status."""
        self.state.set_counts(status_id, **counts)

    def set_followers(
        self, followers: int, following: int | None = None, token: str | None = None
    ) -> None:
        """Set the counts ``verify_credentials`` reports for ``token``'s account."""
        self.state.set_followers(token or self.token, followers, following)

    def control(self, method: str, path: str, form: dict[str, Any]) -> Reply:
        """Answer a ``/_mock/…`` request (no token needed; never recorded or faulted)."""
        try:
            return self._control(method, path.rstrip("/"), form)
        except ApiError as exc:
            return exc.status, {"error": exc.message}, {}

    def _control(self, method: str, path: str, form: dict[str, Any]) -> Reply:
        if (method, path) == ("POST", "/_mock/faults"):
            try:
                rule_id = self.add_rule(FaultRule.from_json(form))
            except (TypeError, ValueError) as exc:
                raise ApiError(422, f"bad fault rule: {exc}") from None
            return 201, {"id": rule_id}, {}
        if (method, path) == ("GET", "/_mock/faults"):
            return 200, self.faults.rules(), {}
        if (method, path) == ("DELETE", "/_mock/faults"):
            self.clear_faults()
            return 200, {}, {}
        if (method, path) == ("GET", "/_mock/requests"):
            return 200, [r.to_json() for r in self.requests], {}
        if (method, path) == ("GET", "/_mock/statuses"):
            return 200, self.statuses, {}
        if (method, path) == ("POST", "/_mock/reset"):
            self.reset()
            return 200, {}, {}
        raise ApiError(404, f"no control endpoint {method} {path}")


# --------------------------------------------------------------------------- command line


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.mockplatform.server",
        description="Local Mastodon mock for crosspost benchmarks and fault tests.",
    )
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free)")
    parser.add_argument("--token", action="append", help="valid bearer token (repeatable)")
    parser.add_argument("--seed", type=int, default=0, help="seed for probabilistic faults")
    parser.add_argument("--max-characters", type=int, default=500)
    parser.add_argument(
        "--lifetime",
        type=float,
        default=3600.0,
        help="stop by itself after this many seconds (default 3600)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until SIGTERM/SIGINT or ``--lifetime`` runs out; prints the URL first."""
    args = _arguments(argv)
    done = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    mock = MockMastodon(
        args.token or (DEFAULT_TOKEN,),
        port=args.port,
        seed=args.seed,
        max_characters=args.max_characters,
    )
    with mock:
        # The parent process reads this line to learn the port when it passed --port 0.
        sys.stdout.write(f"listening on {mock.url}\n")
        sys.stdout.flush()
        done.wait(args.lifetime)
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    sys.exit(main())
