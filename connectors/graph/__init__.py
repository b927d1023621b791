"""Meta's Graph APIs (Facebook Pages, Instagram, Threads): what their connectors share.

Not a connector itself: :class:`GraphConnector` is the base of ``facebook``,
``instagram`` and ``threads``, with the one reading of Meta's error envelope
(:func:`graph_verdict`) and of its usage headers (:func:`usage_wait`).
"""

from connectors.graph.base import GraphConnector, GraphSettingsT, comparable
from connectors.graph.containers import ContainerConnector
from connectors.graph.errors import DEFAULT_WAIT, GraphError, graph_error, graph_verdict, usage_wait
from connectors.graph.payloads import (
    Insight,
    count,
    insight_values,
    items,
    media_url,
    media_url_problems,
    number,
    parse_time,
)
from connectors.graph.settings import GRAPH_VERSION, GraphSettings, MediaByUrl

__all__ = [
    "ContainerConnector",
    "DEFAULT_WAIT",
    "GRAPH_VERSION",
    "GraphConnector",
    "GraphError",
    "GraphSettings",
    "GraphSettingsT",
    "MediaByUrl",
    "Insight",
    "comparable",
    "count",
    "graph_error",
    "graph_verdict",
    "insight_values",
    "items",
    "media_url",
    "media_url_problems",
    "number",
    "parse_time",
    "usage_wait",
]
