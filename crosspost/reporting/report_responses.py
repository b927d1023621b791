"""Response figures of ``crosspost report``: how the accounts answer their members.

Per account, for the items members wrote in the period: how many were answered
before its end, the median time to the first answer, and the questions still
waiting more than a day (the "relations with members" measure). An item is a
question when its connector marked it so, or when its text ends in ``?`` once the
mentions, links, hashtags and whitespace at its end are set aside.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from crosspost.report_rows import ReceivedItem, ReportSource

__all__ = ["QUESTION_WAIT", "ResponseFigures", "is_question", "response_figures"]

#: A question unanswered for longer than this counts as waiting.
QUESTION_WAIT = timedelta(days=1)
#: Words at the end of a text that say nothing about its mood: a mention (``@ada``,
#: ``@ada@host``, Discord's ``<@123>``), a link (bare or Slack's ``<https://…>``), a hashtag.
_TAIL_NOISE = re.compile(
    r"(?:@[\w.-]+(?:@[\w.-]+)?[,:]?|<[@#][!&]?\w+>|<?https?://\S+|#[\w-]+)", re.IGNORECASE
)
#: A question mark (also full-width, and the interrobang), maybe followed by more of
#: them, exclamation marks or a closing quote or bracket.
_ASKS = re.compile(r"[?？‽][?？‽!！\"'”’»)\]]*$")


@dataclass(frozen=True)
class ResponseFigures:
    """How one account answered what its members wrote in the period."""

    account: str
    platform: str
    received: int
    answered: int
    answer_rate: float | None
    median_response_hours: float | None
    questions: int
    unanswered_questions: int


def is_question(text: str, flagged: bool = False) -> bool:
    """Whether an item asks something: ``flagged`` by its connector, or ends in ``?``."""
    if flagged:
        return True
    words = text.split()
    while words and _TAIL_NOISE.fullmatch(words[-1]):
        words.pop()
    return bool(words) and _ASKS.search(words[-1]) is not None


def _figures(
    account: str, platform: str, items: Sequence[ReceivedItem], until: datetime
) -> ResponseFigures:
    delays = [
        (item.first_answer - item.created_at).total_seconds() / 3600
        for item in items
        if item.first_answer is not None and item.first_answer < until
    ]
    questions = [item for item in items if is_question(item.text, item.flagged_question)]
    waiting = [
        item
        for item in questions
        if (item.first_answer is None or item.first_answer >= until)
        and until - item.created_at > QUESTION_WAIT
    ]
    return ResponseFigures(
        account=account,
        platform=platform,
        received=len(items),
        answered=len(delays),
        answer_rate=len(delays) / len(items) if items else None,
        median_response_hours=statistics.median(max(d, 0.0) for d in delays) if delays else None,
        questions=len(questions),
        unanswered_questions=len(waiting),
    )


def _by_account(items: Iterable[ReceivedItem]) -> dict[str, list[ReceivedItem]]:
    grouped: dict[str, list[ReceivedItem]] = {}
    for item in items:
        grouped.setdefault(item.account, []).append(item)
    return grouped


def response_figures(
    source: ReportSource, accounts: Mapping[str, str], since: datetime, until: datetime
) -> list[ResponseFigures]:
    """One row per account (alias → platform) for the items received in ``[since, until)``.

    An answer counts when it came before ``until``; a question waits when it is older
    than :data:`QUESTION_WAIT` at ``until`` and had no answer by then.
    """
    names = sorted(accounts)
    grouped = _by_account(source.received_items(names, since, until))
    return [_figures(name, accounts[name], grouped.get(name, []), until) for name in names]
