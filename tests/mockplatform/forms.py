"""Request bodies as Mastodon accepts them: form-encoded, JSON or multipart.

https://docs.joinmastodon.org/client/intro/#parameters (form data, JSON, ``name[]`` arrays)
"""

from __future__ import annotations

import json
from email import policy
from email.message import Message
from email.parser import BytesParser
from typing import Any
from urllib.parse import parse_qsl

from tests.mockplatform.state import ApiError

__all__ = ["parse_body"]


def parse_body(content_type: str, body: bytes) -> dict[str, Any]:
    """Decode a request body into fields.

    Form fields named ``x[]`` become lists; repeated plain fields keep the last
    value. Multipart file parts become ``{"filename", "content_type", "size"}``.

    Raises:
        ApiError: 400 when the body cannot be decoded as its content type says.
    """
    if not body:
        return {}
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "application/json":
        return _json(body)
    if kind == "multipart/form-data":
        return _multipart(content_type, body)
    return _urlencoded(body)


def _json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError:
        raise ApiError(400, "Error occurred while parsing request parameters") from None
    if not isinstance(data, dict):
        raise ApiError(400, "Error occurred while parsing request parameters")
    return data


def _urlencoded(body: bytes) -> dict[str, Any]:
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise ApiError(400, "Invalid request body encoding") from None
    fields: dict[str, Any] = {}
    for name, value in pairs:
        _put(fields, name, value)
    return fields


def _put(fields: dict[str, Any], name: str, value: Any) -> None:
    if name.endswith("[]"):
        fields.setdefault(name, []).append(value)
    else:
        fields[name] = value


def _multipart(content_type: str, body: bytes) -> dict[str, Any]:
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise ApiError(400, "Malformed multipart body")
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        _put(fields, name, _part_value(part))
    return fields


def _part_value(part: Message) -> Any:
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    filename = part.get_filename()
    if filename is None:
        return data.decode("utf-8", errors="replace")
    return {"filename": filename, "content_type": part.get_content_type(), "size": len(data)}
