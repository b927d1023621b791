"""The Atom feed connector: a valid RFC 4287 document, kept consistent under concurrency."""

from __future__ import annotations

import errno
import hashlib
import os
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from connectors import feed as feed_module
from connectors.base import (
    AuthError,
    Capability,
    Connector,
    MediaItem,
    Rejected,
    RenderedPost,
    Transient,
)
from connectors.feed import ATOM_NS, FeedConnector, entry_id
from crosspost.loading import registry

A = f"{{{ATOM_NS}}}"
KEY = "crosspost-entry-2026-11-26T10:00-test"
START = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)

#: The extensive example of RFC 4287 §1.1, trimmed, as a hand-kept feed would look.
RFC_EXAMPLE = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title type="text">dive into mark</title>
  <updated>2005-07-31T12:29:29Z</updated>
  <id>tag:example.org,2003:3</id>
  <entry>
    <title>Atom draft-07 snapshot</title>
    <link rel="alternate" type="text/html" href="http://example.org/2005/04/02/atom"/>
    <id>tag:example.org,2003:3.2397</id>
    <updated>2005-07-31T12:29:29Z</updated>
    <published>2003-12-13T08:29:29-04:00</published>
    <author><name>Mark Pilgrim</name></author>
    <content type="text">Update: the Atom draft is finished.</content>
  </entry>
</feed>
"""


class Ticking:
    """A clock that moves one minute forward at every reading."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start
        self.lock = threading.Lock()

    def __call__(self) -> datetime:
        with self.lock:
            current = self.now
            self.now += timedelta(minutes=1)
            return current


def make(
    tmp_path: Path, clock: Callable[[], datetime] | None = None, **values: Any
) -> FeedConnector:
    settings = FeedConnector.Settings.model_validate({"path": tmp_path / "feed.xml", **values})
    return FeedConnector("news", settings, clock=clock or Ticking())


def post(text: str = "Hello from crosspost! https://example.org/launch", **kw: Any) -> RenderedPost:
    return RenderedPost(parts=(text,), content_id="hello", **kw)


def parse(path: Path) -> ET.Element:
    return ET.parse(path).getroot()


def entries(path: Path) -> list[ET.Element]:
    return parse(path).findall(f"{A}entry")


@pytest.fixture
def connector(tmp_path: Path) -> FeedConnector:
    return make(tmp_path)


@pytest.fixture
def image(tmp_path: Path) -> MediaItem:
    path = tmp_path / "cat.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n cat")
    return MediaItem(path=path, alt="A cat asleep on a keyboard", mime_type="image/png")


# --------------------------------------------------------------------------- settings

VALID: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({"path": "feed.xml"}, {"title": "crosspost", "author": "crosspost", "max_entries": 50}),
    ({"path": "f.xml", "title": "News", "max_entries": 5}, {"title": "News", "max_entries": 5}),
    ({"path": "f.xml", "id": "tag:example.org,2026:feed"}, {"id": "tag:example.org,2026:feed"}),
    ({"path": "f.xml", "link": "https://example.org/"}, {"link": "https://example.org/"}),
    ({"path": "f.xml", "self_url": "https://example.org/feed.xml"}, {"link": None}),
]
INVALID: list[tuple[dict[str, Any], str]] = [
    ({}, "path"),
    ({"path": "f.xml", "max_entries": 0}, "max_entries"),
    ({"path": "f.xml", "title": ""}, "title"),
    ({"path": "f.xml", "token": "x"}, "token"),
    ({"path": "f.xml", "max_entry": 3}, "max_entry"),
]


@pytest.mark.parametrize(("values", "expected"), VALID)
def test_valid_settings(values: dict[str, Any], expected: dict[str, Any]) -> None:
    settings = FeedConnector.Settings.model_validate(values)
    for name, value in expected.items():
        assert getattr(settings, name) == value


@pytest.mark.parametrize(("values", "field"), INVALID)
def test_invalid_settings(values: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        FeedConnector.Settings.model_validate(values)
    assert field in str(caught.value)


def test_relative_path_starts_at_base_dir(tmp_path: Path) -> None:
    settings = FeedConnector.Settings(path=Path("public/feed.xml"), base_dir=tmp_path)
    assert FeedConnector("news", settings).path == tmp_path / "public" / "feed.xml"


def test_relative_path_without_base_dir_starts_at_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    connector = FeedConnector("news", FeedConnector.Settings(path=Path("feed.xml")))
    assert connector.path == tmp_path / "feed.xml"


def test_constructing_touches_nothing(tmp_path: Path) -> None:
    make(tmp_path / "not" / "yet")
    assert list(tmp_path.iterdir()) == []


def test_registered_and_follows_the_protocol(connector: FeedConnector) -> None:
    loaded: object = registry.load("feed")
    assert loaded is FeedConnector
    assert isinstance(connector, Connector)
    assert connector.capabilities >= {Capability.IDEMPOTENCY_KEY, Capability.RECONCILE}
    assert Capability.POLLS not in connector.capabilities


# --------------------------------------------------------------------------- the document


def test_first_publish_writes_a_valid_atom_feed(tmp_path: Path) -> None:
    connector = make(
        tmp_path,
        title="Club news",
        link="https://example.org/",
        author="The Club",
        self_url="https://example.org/feed.xml",
    )
    published = connector.publish(post(link="https://example.org/launch"), KEY)
    root = parse(tmp_path / "feed.xml")
    assert root.tag == f"{A}feed"
    assert root.findtext(f"{A}id") == "urn:crosspost:feed:news"
    assert root.findtext(f"{A}title") == "Club news"
    assert root.findtext(f"{A}updated") == "2026-11-26T10:00:00Z"
    assert root.findtext(f"{A}author/{A}name") == "The Club"
    links = {link.get("rel"): link.get("href") for link in root.findall(f"{A}link")}
    assert links == {"alternate": "https://example.org/", "self": "https://example.org/feed.xml"}
    (entry,) = root.findall(f"{A}entry")
    digest = hashlib.sha256(KEY.encode()).hexdigest()
    assert entry.findtext(f"{A}id") == f"urn:crosspost:{digest}" == published.remote_id
    assert entry.findtext(f"{A}title") == "Hello from crosspost! https://example.org/launch"
    assert (
        entry.findtext(f"{A}published") == entry.findtext(f"{A}updated") == "2026-11-26T10:00:00Z"
    )
    alternate = entry.find(f"{A}link[@rel='alternate']")
    assert alternate is not None and alternate.get("href") == "https://example.org/launch"
    content = entry.find(f"{A}content")
    assert content is not None and content.get("type") == "html"
    assert content.text == "Hello from crosspost! https://example.org/launch"


def test_html_content_is_kept_and_the_title_is_its_visible_text(tmp_path: Path) -> None:
    connector = make(tmp_path)
    html = '<h1>Big &amp; <i>new</i></h1>\n<p>See <a href="https://example.org/">this</a></p>'
    connector.publish(RenderedPost(parts=(html,), content_id="n"), KEY)
    (entry,) = entries(connector.path)
    content = entry.find(f"{A}content")
    assert content is not None and content.get("type") == "html" and content.text == html
    assert entry.findtext(f"{A}title") == "Big & new"


def test_published_points_at_the_entry_in_the_file(connector: FeedConnector) -> None:
    published = connector.publish(post(), KEY)
    assert published.url == f"{connector.path.as_uri()}#{entry_id(KEY)}"
    assert published.published_at == START
    assert published.thread_ids == (entry_id(KEY),)


def test_thread_parts_become_one_entry_joined_by_blank_lines(connector: FeedConnector) -> None:
    thread = RenderedPost(parts=("First part.", "Second part.", "Third."), content_id="t")
    connector.publish(thread, KEY)
    (entry,) = entries(connector.path)
    assert entry.findtext(f"{A}content") == "First part.\n\nSecond part.\n\nThird."


def test_title_is_post_title_or_first_line_cut_to_80_graphemes(tmp_path: Path) -> None:
    connector = make(tmp_path)
    connector.publish(post("Line one\nLine two", title="Launch day"), "a")
    family = "👨‍👩‍👧"
    connector.publish(post("\n" + family * 100 + "\nrest"), "b")
    connector.publish(post("Short first line\nand more"), "c")
    titles = [e.findtext(f"{A}title") for e in entries(connector.path)]
    assert titles[0] == "Short first line"
    assert titles[1] == family * 79 + "…"
    assert titles[2] == "Launch day"


def test_hashtags_become_categories_and_language_is_kept(connector: FeedConnector) -> None:
    connector.publish(post("Meetup #python and #Rust, #python again", language="fr"), KEY)
    (entry,) = entries(connector.path)
    assert [c.get("term") for c in entry.findall(f"{A}category")] == ["python", "Rust"]
    assert entry.get("{http://www.w3.org/XML/1998/namespace}lang") == "fr"


def test_content_warning_is_the_summary(connector: FeedConnector) -> None:
    connector.publish(post("Spoilers inside", content_warning="film plot"), KEY)
    (entry,) = entries(connector.path)
    assert entry.findtext(f"{A}summary") == "film plot"


def test_characters_xml_forbids_are_dropped(connector: FeedConnector) -> None:
    connector.publish(post("bell\x07 and nul\x00 and tab\tok"), KEY)
    (entry,) = entries(connector.path)
    assert entry.findtext(f"{A}content") == "bell and nul and tab\tok"


@pytest.mark.parametrize(
    "code",
    [0, 8, 9, 0xA, 0xB, 0xC, 0xD, 0xE, 0x1F, 0x20, 0xD7FF, 0xD800, 0xDFFF, 0xE000, 0xFFFD]
    + [0xFFFE, 0xFFFF, 0x10000, 0x10FFFF],
)
def test_the_characters_dropped_are_those_xml_forbids(code: int) -> None:
    """XML 1.0 ``Char``: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]."""
    allowed = code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD
    allowed = allowed or 0x10000 <= code <= 0x10FFFF
    assert (feed_module.atom._NOT_XML.fullmatch(chr(code)) is None) == allowed


def test_newest_first_and_capped(tmp_path: Path) -> None:
    connector = make(tmp_path, max_entries=3)
    for number in range(5):
        connector.publish(post(f"post {number}"), f"key-{number}")
    got = [e.findtext(f"{A}content") for e in entries(connector.path)]
    assert got == ["post 4", "post 3", "post 2"]
    stamps = [e.findtext(f"{A}published") or "" for e in entries(connector.path)]
    assert stamps == sorted(stamps, reverse=True)


def test_existing_entries_of_a_hand_kept_feed_are_preserved(tmp_path: Path) -> None:
    (tmp_path / "feed.xml").write_text(RFC_EXAMPLE, encoding="utf-8")
    connector = make(tmp_path, title="Club news")
    connector.publish(post("new"), KEY)
    root = parse(tmp_path / "feed.xml")
    assert root.findtext(f"{A}title") == "Club news"
    ids = [e.findtext(f"{A}id") for e in root.findall(f"{A}entry")]
    assert ids == [entry_id(KEY), "tag:example.org,2003:3.2397"]
    old = root.findall(f"{A}entry")[1]
    assert old.findtext(f"{A}author/{A}name") == "Mark Pilgrim"
    assert old.findtext(f"{A}content") == "Update: the Atom draft is finished."


# --------------------------------------------------------------------------- idempotency


def test_same_key_twice_gives_one_entry_and_the_same_publication(tmp_path: Path) -> None:
    connector = make(tmp_path)
    first = connector.publish(post(), KEY)
    again = connector.publish(post("edited text"), KEY)
    assert again == first
    assert len(entries(connector.path)) == 1
    assert entries(connector.path)[0].findtext(f"{A}content") != "edited text"


def test_find_recent_finds_by_key(connector: FeedConnector) -> None:
    assert connector.find_recent(KEY, "anything") is None
    published = connector.publish(post(), KEY)
    assert connector.find_recent(KEY, "") == published
    assert connector.find_recent("another-key", post().text) is None


def test_concurrent_publishes_lose_nothing(tmp_path: Path) -> None:
    clock = Ticking()
    errors: list[BaseException] = []

    def publish(number: int) -> None:
        try:  # one connector per thread, as separate processes would have
            make(tmp_path, clock, max_entries=100).publish(post(f"n{number}"), f"k{number}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=publish, args=(n,)) for n in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    ids = {e.findtext(f"{A}id") for e in entries(tmp_path / "feed.xml")}
    assert ids == {entry_id(f"k{n}") for n in range(24)}


def test_concurrent_publishes_of_one_key_add_one_entry(tmp_path: Path) -> None:
    results: list[str] = []
    threads = [
        threading.Thread(
            target=lambda: results.append(make(tmp_path).publish(post(), KEY).remote_id)
        )
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [entry_id(KEY)] * 8
    assert len(entries(tmp_path / "feed.xml")) == 1


# --------------------------------------------------------------------------- media


def test_media_become_enclosures_with_alt_text(connector: FeedConnector, image: MediaItem) -> None:
    connector.publish(post(media=(image,)), KEY)
    (entry,) = entries(connector.path)
    (link,) = entry.findall(f"{A}link[@rel='enclosure']")
    assert link.attrib == {
        "rel": "enclosure",
        "href": image.path.resolve().as_uri(),
        "type": "image/png",
        "length": str(image.path.stat().st_size),
        "title": "A cat asleep on a keyboard",
    }


def test_non_image_media_is_rejected_before_writing(
    connector: FeedConnector, tmp_path: Path
) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"....")
    with pytest.raises(Rejected, match="image"):
        connector.publish(post(media=(MediaItem(clip, "a clip", "video/mp4"),)), KEY)
    assert not connector.path.exists()


def test_more_than_ten_media_are_rejected(connector: FeedConnector, image: MediaItem) -> None:
    assert connector.check(post(media=(image,) * 10)) == []
    with pytest.raises(Rejected, match="11 media"):
        connector.publish(post(media=(image,) * 11), KEY)


# --------------------------------------------------------------------------- limits


def test_measure_counts_graphemes_and_limit_is_enforced(connector: FeedConnector) -> None:
    assert connector.measure("👨‍👩‍👧é") == 2
    assert connector.limits.unit == "graphemes"
    with pytest.raises(Rejected, match="100001 graphemes"):
        connector.publish(post("x" * 100_001), KEY)
    assert not connector.path.exists()


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "content",
    [
        b"<feed xmlns='http://www.w3.org/2005/Atom'><entry>",
        b"not xml at all",
        b"<?xml version='1.0'?><rss version='2.0'><channel/></rss>",
        b"<feed><id>no namespace</id></feed>",
    ],
)
def test_corrupt_file_is_rejected_and_kept(connector: FeedConnector, content: bytes) -> None:
    connector.path.write_bytes(content)
    with pytest.raises(Rejected) as caught:
        connector.publish(post(), KEY)
    assert str(connector.path) in caught.value.reason
    assert "never overwrites" in caught.value.reason
    assert connector.path.read_bytes() == content
    with pytest.raises(Rejected):
        connector.account_metrics()


def test_permission_problem_is_an_auth_error(
    connector: FeedConnector, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(path: Path, data: bytes) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(feed_module, "atomic_write", refuse)
    with pytest.raises(AuthError, match="Permission denied"):
        connector.publish(post(), KEY)


def test_full_disk_is_transient_and_leaves_the_old_file(
    connector: FeedConnector, monkeypatch: pytest.MonkeyPatch
) -> None:
    connector.publish(post(), "first")
    before = connector.path.read_bytes()
    real_fdopen = os.fdopen

    def full(fd: int, mode: str) -> Any:
        real_fdopen(fd, mode).close()
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fdopen", full)
    with pytest.raises(Transient, match="No space left"):
        connector.publish(post(), KEY)
    assert connector.path.read_bytes() == before
    leftovers = [p.name for p in connector.path.parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


# --------------------------------------------------------------------------- reading back


def test_delete_removes_only_that_entry(connector: FeedConnector) -> None:
    keep = connector.publish(post("keep"), "keep")
    gone = connector.publish(post("gone"), "gone")
    connector.delete(gone.remote_id)
    assert [e.findtext(f"{A}id") for e in entries(connector.path)] == [keep.remote_id]
    connector.delete(gone.remote_id)  # already gone: nothing to do
    assert connector.find_recent("gone", "") is None


def test_account_metrics_count_entries(connector: FeedConnector) -> None:
    assert connector.account_metrics().posts == 0
    for number in range(3):
        connector.publish(post(str(number)), f"k{number}")
    metrics = connector.account_metrics()
    assert metrics.posts == 3
    assert metrics.followers is None


def test_no_reaction_metrics(connector: FeedConnector) -> None:
    published = connector.publish(post(), KEY)
    assert connector.fetch_metrics([published.remote_id]) == {}


@pytest.fixture
def no_tmp_leftovers(tmp_path: Path) -> Iterator[None]:
    yield
    assert not [p for p in tmp_path.rglob("*.tmp")]


def test_no_temporary_files_are_left(connector: FeedConnector, no_tmp_leftovers: None) -> None:
    for number in range(3):
        connector.publish(post(str(number)), f"k{number}")
    names = sorted(p.name for p in connector.path.parent.iterdir())
    assert names == ["feed.xml", "feed.xml.lock"]


WORKER = """
import sys
from pathlib import Path
from connectors.base import RenderedPost
from connectors.feed import FeedConnector

path, worker = Path(sys.argv[1]), sys.argv[2]
settings = FeedConnector.Settings(path=path, max_entries=100)
connector = FeedConnector("news", settings)
for number in range(10):
    connector.publish(RenderedPost(parts=(f"{worker}-{number}",)), f"{worker}-{number}")
"""


def test_concurrent_processes_lose_nothing(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    path = tmp_path / "feed.xml"
    workers = [
        subprocess.Popen([sys.executable, "-c", WORKER, str(path), f"w{n}"], env=env)
        for n in range(3)
    ]
    assert [worker.wait(timeout=60) for worker in workers] == [0, 0, 0]
    ids = {e.findtext(f"{A}id") for e in entries(path)}
    assert ids == {entry_id(f"w{w}-{n}") for w in range(3) for n in range(10)}


def test_hand_written_entries_are_found_with_aware_times(tmp_path: Path) -> None:
    (tmp_path / "feed.xml").write_text(RFC_EXAMPLE, encoding="utf-8")
    connector = make(tmp_path)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(feed_module, "entry_id", lambda key: "tag:example.org,2003:3.2397")
        found = connector.find_recent("any", "")
    assert found is not None
    assert found.published_at == datetime(2003, 12, 13, 12, 29, 29, tzinfo=UTC)
