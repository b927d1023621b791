"""The e-mail connector's ``diagnose()``: a login and the recipient list, no message sent."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.base import AuthError, Diagnosable
from tests.connectors.test_email import make
from tests.fakesmtp import FakeServer


def test_a_login_and_a_good_list_pass_and_nothing_is_sent(tmp_path: Path) -> None:
    server = FakeServer()
    connector = make(tmp_path, server)
    assert isinstance(connector, Diagnosable)

    diagnosis = connector.diagnose()

    assert diagnosis.ok and diagnosis.identity == "news@example.org via smtp.example.org:587"
    assert diagnosis.details["recipients"] == "3"
    assert server.logins == [("news@example.org", "s3cret-pass")]
    assert "MAIL" not in server.commands and server.delivered == []


def test_a_bad_line_of_the_list_is_a_problem_at_its_line(tmp_path: Path) -> None:
    connector = make(tmp_path, FakeServer(), listing="email\nann@example.org\nnot-an-address\n")
    (problem,) = connector.diagnose().problems
    assert problem.startswith("list.csv:3:")


def test_a_refused_login_raises_for_the_core_to_report(tmp_path: Path) -> None:
    server = FakeServer(credentials=("news@example.org", "another-password"))
    with pytest.raises(AuthError):
        make(tmp_path, server).diagnose()
