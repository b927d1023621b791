"""Typed JSON: the values platforms send and the models their answers are read into.

A platform's answer is read into a :class:`Payload` model rather than poked at
with ``isinstance``. The models are lenient where the connector always was: an
optional field of the wrong type reads as missing (:data:`Maybe`), and a list
keeps the items that fit its model (:data:`Items`). A required field that is
missing or of the wrong type makes the whole answer unreadable.
"""

from __future__ import annotations

from typing import Annotated, TypeAlias, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    StringConstraints,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)
from pydantic.alias_generators import to_camel

__all__ = [
    "CamelPayload",
    "Fitting",
    "Id",
    "Items",
    "JSONObject",
    "Maybe",
    "Payload",
    "Text",
    "read_model",
    "what_is_wrong",
]

#: A JSON object, as ``json.loads`` gives it back (its values are pydantic's ``JsonValue``).
JSONObject: TypeAlias = dict[str, JsonValue]

_T = TypeVar("_T")
_M = TypeVar("_M", bound="Payload")


def _or_none(value: object, handler: ValidatorFunctionWrapHandler) -> object:
    try:
        return handler(value)
    except ValidationError:
        return None


def _fitting_items(value: object, handler: ValidatorFunctionWrapHandler) -> object:
    if not isinstance(value, list):
        return []
    kept: list[object] = []
    for item in value:
        try:
            kept.extend(handler([item]))
        except ValidationError:
            continue
    return kept


#: An optional field: ``None`` when it is missing, null or not of its type.
Maybe = Annotated[_T | None, WrapValidator(_or_none), Field(default=None)]
#: A list of which only the items that fit are kept; empty when it is not a list.
Fitting = Annotated[list[_T], WrapValidator(_fitting_items)]
#: A :data:`Fitting` field, empty when missing.
Items = Annotated[Fitting[_T], Field(default_factory=list)]
#: A string that is not empty.
Text = Annotated[str, StringConstraints(min_length=1)]


def _number_as_text(value: object) -> object:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


#: An id, which some servers send as a number: read as a string that is not empty.
Id = Annotated[str, BeforeValidator(_number_as_text), StringConstraints(min_length=1)]


class Payload(BaseModel):
    """Base of the models a platform's JSON is read into.

    Types are checked strictly (a number in a string is not a number, as
    ``isinstance`` would say), and keys the model does not name are ignored.
    """

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)

    @classmethod
    def empty(cls: type[_M]) -> _M:
        """The model of an empty object: every optional field missing."""
        return cls.model_validate({})


class CamelPayload(Payload):
    """A payload whose keys are camelCase: ``likeCount`` is read into ``like_count``."""

    model_config = ConfigDict(alias_generator=to_camel)


def what_is_wrong(error: ValidationError) -> str:
    """What the first problem of ``error`` is, without repeating the value (it may be big).

    ``has no 'id'``, ``has an unreadable 'configuration.polls.max_options'``.
    """
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"])
    if not field:
        return "is not what the connector expects"
    if first["type"] == "missing":
        return f"has no {field!r}"
    return f"has an unreadable {field!r}"


def read_model(model: type[_M], value: object) -> _M | None:
    """``value`` read as ``model``, or None when it does not fit."""
    try:
        return model.model_validate(value)
    except ValidationError:
        return None
