"""The folder connector: one file per publication, in Markdown, text or JSON."""

from __future__ import annotations

import errno
import io
import json
import re
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from ruamel.yaml import YAML

from connectors import folder as folder_module
from connectors.base import (
    AuthError,
    Connector,
    MediaItem,
    Rejected,
    RenderedPost,
    Transient,
)
from connectors.feed import entry_id
from connectors.folder import PART_SEPARATOR, FolderConnector
from crosspost.loading import registry

KEY = "crosspost-entry-2026-11-26T10:00-test"
SHORT = entry_id(KEY).rsplit(":", 1)[1][:8]
START = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
NAME = re.compile(r"\d{8}T\d{6}Z-.+-[0-9a-f]{8}\.(md|txt|json)")


class Ticking:
    """A clock that moves one minute forward at every reading."""

    def __init__(self) -> None:
        self.now = START
        self.lock = threading.Lock()

    def __call__(self) -> datetime:
        with self.lock:
            current = self.now
            self.now += timedelta(minutes=1)
            return current


def make(tmp_path: Path, **values: Any) -> FolderConnector:
    settings = FolderConnector.Settings.model_validate({"path": tmp_path / "posts", **values})
    return FolderConnector("archive", settings, clock=Ticking())


def post(*parts: str, **kw: Any) -> RenderedPost:
    kw.setdefault("content_id", "hello")
    return RenderedPost(parts=parts or ("Hello from crosspost!",), **kw)


def posts_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if NAME.fullmatch(p.name))


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    assert text.startswith("---\n")
    head, body = text[4:].split("\n---\n", 1)
    loaded = YAML(typ="safe").load(io.StringIO(head))
    assert isinstance(loaded, dict)
    return loaded, body


@pytest.fixture
def connector(tmp_path: Path) -> FolderConnector:
    return make(tmp_path)


@pytest.fixture
def image(tmp_path: Path) -> MediaItem:
    path = tmp_path / "team photo.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0 team")
    return MediaItem(path=path, alt='The team, saying "cheese"', mime_type="image/jpeg")


# --------------------------------------------------------------------------- settings

VALID: list[tuple[dict[str, Any], str]] = [
    ({"path": "out"}, "markdown"),
    ({"path": "out", "format": "markdown"}, "markdown"),
    ({"path": "out", "format": "text"}, "text"),
    ({"path": "out", "format": "json"}, "json"),
]
INVALID: list[tuple[dict[str, Any], str]] = [
    ({}, "path"),
    ({"path": "out", "format": "html"}, "format"),
    ({"path": "out", "folder": "x"}, "folder"),
]


@pytest.mark.parametrize(("values", "format_"), VALID)
def test_valid_settings(values: dict[str, Any], format_: str) -> None:
    assert FolderConnector.Settings.model_validate(values).format == format_


@pytest.mark.parametrize(("values", "field"), INVALID)
def test_invalid_settings(values: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        FolderConnector.Settings.model_validate(values)
    assert field in str(caught.value)


def test_relative_path_starts_at_base_dir(tmp_path: Path) -> None:
    settings = FolderConnector.Settings(path=Path("out/posts"), base_dir=tmp_path)
    assert FolderConnector("a", settings).folder == tmp_path / "out" / "posts"


def test_constructing_touches_nothing(tmp_path: Path) -> None:
    make(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_registered_and_follows_the_protocol(connector: FolderConnector) -> None:
    loaded: object = registry.load("folder")
    assert loaded is FolderConnector
    assert isinstance(connector, Connector)


# --------------------------------------------------------------------------- formats


def test_markdown_has_front_matter_and_parts(connector: FolderConnector) -> None:
    thread = post(
        "First part.", "Second part.", title="Launch", link="https://example.org/l", language="en"
    )
    published = connector.publish(thread, KEY)
    path = connector.folder / f"20261126T100000Z-hello-{SHORT}.md"
    assert published.remote_id == path.name
    assert published.url == path.as_uri()
    assert published.published_at == START
    meta, body = split_front_matter(path.read_text(encoding="utf-8"))
    assert meta == {
        "id": entry_id(KEY),
        "content_id": "hello",
        "title": "Launch",
        "link": "https://example.org/l",
        "published_at": "2026-11-26T10:00:00Z",
        "parts": 2,
        "language": "en",
        "content_warning": None,
        "media": [],
    }
    assert body == "\nFirst part.\n\n---\n\nSecond part.\n"


def test_front_matter_survives_awkward_titles(connector: FolderConnector) -> None:
    title = 'Yes: "quotes", #hash, - dash\\ and ünïcödé 🎉'
    connector.publish(post("body", title=title), KEY)
    (path,) = posts_in(connector.folder)
    meta, _ = split_front_matter(path.read_text(encoding="utf-8"))
    assert meta["title"] == title


def test_text_format_is_just_the_text(tmp_path: Path) -> None:
    connector = make(tmp_path, format="text")
    connector.publish(post("One.", "Two."), KEY)
    (path,) = posts_in(connector.folder)
    assert path.suffix == ".txt"
    assert path.read_text(encoding="utf-8") == "One." + PART_SEPARATOR + "Two.\n"


def test_json_format_keeps_every_field(tmp_path: Path) -> None:
    connector = make(tmp_path, format="json")
    connector.publish(post("Un.", "Deux.", content_warning="cw"), KEY)
    (path,) = posts_in(connector.folder)
    assert path.suffix == ".json"
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["text"] == ["Un.", "Deux."]
    assert document["id"] == entry_id(KEY)
    assert document["title"] == "Un."
    assert document["content_warning"] == "cw"
    assert document["parts"] == 2


def test_unsafe_content_ids_make_safe_file_names(connector: FolderConnector) -> None:
    published = connector.publish(post(content_id="../news/2026 launch!"), KEY)
    assert published.remote_id == f"20261126T100000Z-news-2026-launch-{SHORT}.md"
    assert (connector.folder / published.remote_id).is_file()


# --------------------------------------------------------------------------- idempotency


def test_same_key_twice_gives_one_file(connector: FolderConnector) -> None:
    first = connector.publish(post(), KEY)
    again = connector.publish(post("changed"), KEY)
    assert again == first
    assert [p.name for p in posts_in(connector.folder)] == [first.remote_id]


def test_same_key_is_found_after_a_format_change(tmp_path: Path) -> None:
    first = make(tmp_path).publish(post(), KEY)
    again = make(tmp_path, format="json").publish(post(), KEY)
    assert again.remote_id == first.remote_id


def test_find_recent(connector: FolderConnector) -> None:
    assert connector.find_recent(KEY, "") is None
    published = connector.publish(post(), KEY)
    assert connector.find_recent(KEY, "") == published
    assert connector.find_recent("other", "") is None


def test_concurrent_publishes(tmp_path: Path) -> None:
    def run(key: str) -> None:
        make(tmp_path).publish(post(), key)

    threads = [threading.Thread(target=run, args=(f"k{n % 10}",)) for n in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    found = {p.name.rsplit("-", 1)[1][:8] for p in posts_in(tmp_path / "posts")}
    assert len(posts_in(tmp_path / "posts")) == 10
    assert found == {entry_id(f"k{n}").rsplit(":", 1)[1][:8] for n in range(10)}


# --------------------------------------------------------------------------- media


def test_media_are_copied_beside_the_post(connector: FolderConnector, image: MediaItem) -> None:
    published = connector.publish(post(media=(image, image)), KEY)
    stem = published.remote_id.removesuffix(".md")
    media_dir = connector.folder / f"{stem}.media"
    copies = sorted(p.name for p in media_dir.iterdir())
    assert copies == ["01-team-photo.jpg", "02-team-photo.jpg"]
    assert (media_dir / copies[0]).read_bytes() == image.path.read_bytes()
    meta, _ = split_front_matter((connector.folder / published.remote_id).read_text("utf-8"))
    assert meta["media"][0] == {
        "file": f"{stem}.media/01-team-photo.jpg",
        "alt": 'The team, saying "cheese"',
        "type": "image/jpeg",
    }


def test_missing_media_is_rejected_before_writing(
    connector: FolderConnector, tmp_path: Path
) -> None:
    with pytest.raises(Rejected, match="not found"):
        connector.publish(post(media=(MediaItem(tmp_path / "nope.png", "x", "image/png"),)), KEY)
    assert not connector.folder.exists()


def test_failed_write_leaves_no_media_behind(
    connector: FolderConnector, image: MediaItem, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(path: Path, data: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(folder_module, "atomic_write", full)
    with pytest.raises(Transient, match="No space left"):
        connector.publish(post(media=(image,)), KEY)
    assert [p.name for p in connector.folder.iterdir()] == [".crosspost.lock"]


def test_permission_problem_is_an_auth_error(
    connector: FolderConnector, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(path: Path, data: bytes) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(folder_module, "atomic_write", refuse)
    with pytest.raises(AuthError, match="Permission denied"):
        connector.publish(post(), KEY)


# --------------------------------------------------------------------------- reading back


def test_delete_removes_file_and_media(connector: FolderConnector, image: MediaItem) -> None:
    keep = connector.publish(post(), "keep")
    gone = connector.publish(post(media=(image,)), "gone")
    connector.delete(gone.remote_id)
    assert [p.name for p in posts_in(connector.folder)] == [keep.remote_id]
    assert not any(p.name.endswith(".media") for p in connector.folder.iterdir())
    connector.delete(gone.remote_id)  # already gone: nothing to do


@pytest.mark.parametrize(
    "remote_id",
    [
        "../secret.md",
        "notes.md",
        "",
        "a/20261126T100000Z-x-0a1b2c3d.md",
        "20261126T100000Z-/../../x-0a1b2c3d.md",
    ],
)
def test_delete_refuses_foreign_names(connector: FolderConnector, remote_id: str) -> None:
    with pytest.raises(Rejected):
        connector.delete(remote_id)


def test_account_metrics_count_post_files_only(connector: FolderConnector) -> None:
    assert connector.account_metrics().posts == 0
    connector.publish(post(), "a")
    connector.publish(post(), "b")
    (connector.folder / "README.md").write_text("not a post", encoding="utf-8")
    assert connector.account_metrics().posts == 2


def test_no_reaction_metrics(connector: FolderConnector) -> None:
    published = connector.publish(post(), KEY)
    assert connector.fetch_metrics([published.remote_id]) == {}


def test_too_long_is_rejected(connector: FolderConnector) -> None:
    with pytest.raises(Rejected, match="graphemes"):
        connector.publish(post("é" * 100_001), KEY)
    assert not connector.folder.exists()


def test_a_suffix_collision_is_not_taken_for_the_same_key(connector: FolderConnector) -> None:
    connector.publish(post(), KEY)
    (path,) = posts_in(connector.folder)
    impostor = path.with_name(path.name.replace("hello", "other"))
    impostor.write_text(path.read_text("utf-8").replace(entry_id(KEY), "urn:crosspost:x"), "utf-8")
    path.unlink()
    published = connector.publish(post(), KEY)
    assert published.remote_id != impostor.name
    assert len(posts_in(connector.folder)) == 2
