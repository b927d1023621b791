"""The posts section of ``crosspost report``: reactions, conversions and the ranking.

Each published post gets its latest reactions, its engagement rate against the
followers the account had when it was published, its velocity over the first day and
the conversions its campaign (UTM) tags collected; :func:`rank_posts` picks the top and
bottom ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from crosspost.report_rows import ConversionRow, PostReactions, PostRow, ReactionSnapshot
from crosspost.reporting.report_audience import FollowerSeries
from crosspost.reporting.report_figures import PostFigures, RankedPost, ReportQuery

__all__ = ["ConversionTotals", "conversion_totals", "post_figures", "rank_posts"]


def _reactions(snapshot: ReactionSnapshot) -> int:
    return (
        (snapshot.likes or 0)
        + (snapshot.reposts or 0)
        + (snapshot.replies or 0)
        + (snapshot.quotes or 0)
    )


def _velocity(post: PostRow, early: ReactionSnapshot | None) -> float | None:
    if early is None:
        return None
    hours = (early.collected_at - post.published_at).total_seconds() / 3600
    return _reactions(early) / hours


#: (campaign, content, source) → (conversions, clicks, value), see :func:`conversion_totals`.
ConversionTotals = dict[tuple[str, str, str], tuple[int, int | None, float | None]]


def conversion_totals(rows: Iterable[ConversionRow]) -> ConversionTotals:
    """Conversions, clicks and value per (campaign, content, source), over every day."""
    totals: ConversionTotals = {}
    for row in rows:
        key = (row.campaign, row.content, row.source)
        conversions, clicks, value = totals.get(key, (0, None, None))
        totals[key] = (
            conversions + row.conversions,
            None if row.clicks is None and clicks is None else (clicks or 0) + (row.clicks or 0),
            None if row.value is None and value is None else (value or 0) + (row.value or 0),
        )
    return totals


def _conversions_of(
    post: PostRow, platform: str, totals: ConversionTotals
) -> tuple[int, int | None, float | None]:
    """Conversions tagged with the post's campaign and content, for its platform or none."""
    own = totals.get((post.entry, post.content_id, platform), (0, None, None))
    untagged = totals.get((post.entry, post.content_id, ""), (0, None, None))
    clicks = None if own[1] is None and untagged[1] is None else (own[1] or 0) + (untagged[1] or 0)
    value = None if own[2] is None and untagged[2] is None else (own[2] or 0) + (untagged[2] or 0)
    return own[0] + untagged[0], clicks, value


def post_figures(
    query: ReportQuery,
    post: PostRow,
    measured: PostReactions | None,
    followers: FollowerSeries,
    totals: ConversionTotals,
) -> PostFigures:
    """One post's latest reactions, its engagement against the followers it was published
    to, its early velocity and the conversions tagged with it."""
    platform = query.accounts[post.account]
    latest = measured.latest if measured else None
    reactions = _reactions(latest) if latest else None
    audience = followers.at(post.published_at)
    rate = reactions / audience if reactions is not None and audience else None
    conversions, clicks, value = _conversions_of(post, platform, totals)
    return PostFigures(
        publication_id=post.id,
        account=post.account,
        platform=platform,
        entry=post.entry,
        content=post.content_id,
        published_at=post.published_at,
        url=post.url,
        likes=latest.likes if latest else None,
        reposts=latest.reposts if latest else None,
        replies=latest.replies if latest else None,
        quotes=latest.quotes if latest else None,
        views=latest.views if latest else None,
        bookmarks=latest.bookmarks if latest else None,
        reactions=reactions,
        followers_at_publish=audience,
        engagement_rate=rate,
        velocity_24h=_velocity(post, measured.early if measured else None),
        conversions=conversions,
        clicks=clicks,
        conversion_value=value,
        title=query.titles.get(post.content_id) or post.content_id,
    )


def rank_posts(posts: Sequence[PostFigures], top: int) -> tuple[list[RankedPost], list[RankedPost]]:
    """Top posts by reactions, and the bottom ones among the rest (lowest first)."""
    measured = [p for p in posts if p.reactions is not None]
    best = sorted(measured, key=lambda p: (-(p.reactions or 0), p.published_at))[:top]
    chosen = {p.publication_id for p in best}
    rest = [p for p in measured if p.publication_id not in chosen]
    worst = sorted(rest, key=lambda p: (p.reactions or 0, p.published_at))[:top]
    return (
        [RankedPost(i, p) for i, p in enumerate(best, 1)],
        [RankedPost(i, p) for i, p in enumerate(worst, 1)],
    )
