"""Unit tests for the bounds of issue 16: the file reader, durations, dates, YAML, sync, CLI."""

from __future__ import annotations

import os
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from crosspost.cli import cli
from crosspost.errors import ConfigError, CrosspostError
from crosspost.loading.durations import parse_duration
from crosspost.loading.inputfile import MAX_FILE_BYTES, read_text
from crosspost.loading.project import load_project
from crosspost.loading.yamlfile import parse_yaml
from crosspost.planning import sync as sync_module
from crosspost.store import Store
from crosspost.store.db import make_engine, migrate
from tests.fakes import FakePlatform, install, write_project


def _problem(exc: pytest.ExceptionInfo[ConfigError]) -> str:
    return str(exc.value.problems[0])


def test_a_latin1_byte_is_placed_by_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_bytes(b"a: 1\nb: caf\xe9\n")
    with pytest.raises(ConfigError) as exc:
        read_text(path)
    assert ":2:7: byte 0xe9 is not valid UTF-8" in _problem(exc)


def test_utf16_is_named(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_bytes("a: 1\n".encode("utf-16"))
    with pytest.raises(ConfigError, match="UTF-16; expected UTF-8"):
        read_text(path)


def test_a_fifo_is_refused_without_opening_it(tmp_path: Path) -> None:
    path = tmp_path / "fifo.md"
    os.mkfifo(path)
    with pytest.raises(ConfigError, match="FIFO"):
        read_text(path)


def test_a_link_to_dev_zero_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "z.md"
    path.symlink_to("/dev/zero")
    with pytest.raises(ConfigError, match="character device"):
        read_text(path)


def test_a_file_over_the_limit_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * (MAX_FILE_BYTES + 1))
    with pytest.raises(ConfigError, match="larger than 1024 KiB"):
        read_text(path)


def test_permission_denied_is_an_error_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "secret.md"
    path.write_text("x", encoding="utf-8")

    def refuse(*_args: object, **_kwargs: object) -> int:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(ConfigError, match="permission denied"):
        read_text(path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads mode 000 files")
def test_mode_000_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "secret.md"
    path.write_text("x", encoding="utf-8")
    path.chmod(0)
    with pytest.raises(ConfigError, match="permission denied"):
        read_text(path)


@pytest.mark.parametrize(
    "value", [float("inf"), 1e400, "99999999999w", "1000000000d", "999999999d", "36501d"]
)
def test_durations_over_a_hundred_years_are_refused(value: object) -> None:
    with pytest.raises(ValueError, match="longer than the limit"):
        parse_duration(value)


def test_a_hundred_years_is_still_a_duration() -> None:
    assert parse_duration("36500d") == timedelta(days=36_500)


def test_an_alias_bomb_is_refused_where_the_alias_is() -> None:
    text_ = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
    previous = "a"
    for name in "bcdefghi":
        text_ += f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]\n"
        previous = name
    with pytest.raises(ConfigError) as exc:
        parse_yaml(text_, "s.yaml")
    assert _problem(exc).startswith("s.yaml:") and "aliases expand to more than" in _problem(exc)


@pytest.mark.parametrize("tag", ["!foo", "!!python/object/apply:os.system"])
def test_unknown_tags_are_refused_at_their_line(tag: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_yaml(f"a: 1\nb: {tag} [x]\n", "s.yaml")
    assert _problem(exc).startswith("s.yaml:2:4: YAML syntax: unknown tag")


@pytest.mark.parametrize(
    ("post", "message"),
    [
        ("every: 1m\n  until: 2020-01-01 00:00\n  start: 2021-01-01 00:00", "not after start"),
        ("at: 2026-05-01 10:00\n  until: 2026-04-01 00:00", "not after at"),
        ('cron: "0 0 31 2 *"', "never fires"),
        ("every: 0.1s", "minimum interval"),
        ("at: 9999-01-01 10:00", "outside the years"),
        ("at: 0001-01-01 00:00", "outside the years"),
        ("every: 1m\n  grace: 999999999d", "longer than the limit"),
    ],
)
def test_entries_that_would_never_run_or_overflow_are_errors(
    tmp_path: Path, platform: FakePlatform, post: str, message: str
) -> None:
    path = write_project(tmp_path, f"- id: p\n  content: hello\n  to: alpha\n  {post}\n")
    with pytest.raises(ConfigError, match=message) as exc:
        load_project(path)
    assert exc.value.problems[0].line > 1


@pytest.fixture
def platform(monkeypatch: pytest.MonkeyPatch) -> FakePlatform:
    return install(monkeypatch)


def test_one_entry_that_cannot_be_planned_stops_only_itself(
    tmp_path: Path, platform: FakePlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    posts = "- id: bad\n  content: hello\n  to: alpha\n  every: 1h\n"
    posts += "- id: good\n  content: other\n  to: alpha\n  every: 1h\n"
    project = load_project(write_project(tmp_path, posts))
    real = sync_module.occurrences

    def failing(post, *args, **kwargs):  # type: ignore[no-untyped-def]
        if post.id == "bad":
            raise OverflowError("date value out of range")
        return real(post, *args, **kwargs)

    monkeypatch.setattr(sync_module, "occurrences", failing)
    store = Store(f"sqlite:///{tmp_path}/x.db")
    sync_module.sync_plan(project, store, datetime(2026, 3, 1, tzinfo=UTC))
    entries = {p.entry for p in store.publications()}
    store.close()
    assert entries == {"good"}


def test_a_token_with_a_line_break_is_an_error(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text('TITLE="a\nb"\n', encoding="utf-8")
    (tmp_path / "schedule.yaml").write_text(
        "accounts:\n  feed:\n    connector: feed\n    path: f.xml\n    title: ${TITLE}\n"
        "    link: https://x.example\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="line break") as exc:
        load_project(tmp_path / "schedule.yaml")
    assert exc.value.problems[0].line == 5


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["resolve", "99999999999999999999", "--skip"], 2, "PUBLICATION_ID"),
        (["plan", "--limit", "-1"], 2, "--limit"),
        (["plan", "--until", "99999999999w"], 2, "longer than the limit"),
        (["report", "--since", "99999999999d"], 2, "--since"),
        (["--database", "not a url", "status"], 2, "--database"),
        (["--database", "mysql://u@127.0.0.1/db", "status"], 2, "--database"),
        (["--database", "sqlite:///schedule.yaml/x.db", "status"], 1, "cannot open the database"),
    ],
)
def test_bad_invocations_are_one_line_errors(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    platform: FakePlatform,
    args: list[str],
    code: int,
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    write_project(tmp_path, "[]\n", ("alpha",))
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == code, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_an_environment_failure_mid_command_is_one_line_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    def full(*_args: object, **_kwargs: object) -> None:
        raise OperationalError("INSERT", {}, Exception("database or disk is full"))

    monkeypatch.setattr(Store, "__init__", full)
    (tmp_path / "x.db").touch()  # status opens the store only when there is a database
    result = CliRunner().invoke(cli, ["--database", f"sqlite:///{tmp_path}/x.db", "status"])
    assert result.exit_code == 1
    assert "database or disk is full" in result.output


def test_a_database_from_a_newer_crosspost_names_its_revision(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/x.db"
    Store(url).close()
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'r999'"))
    with pytest.raises(CrosspostError, match="newer crosspost.*r999"):
        migrate(engine)
    engine.dispose()


@pytest.mark.postgres
def test_two_fresh_starts_on_postgres_migrate_one_after_the_other() -> None:
    schema = f"t{uuid.uuid4().hex[:12]}"
    admin = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/test")
    try:
        with admin.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"no PostgreSQL on 127.0.0.1:5432: {exc}")
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
    errors: list[BaseException] = []

    def start() -> None:
        engine = make_engine(url)
        try:
            migrate(engine)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            engine.dispose()

    try:
        threads = [threading.Thread(target=start) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
