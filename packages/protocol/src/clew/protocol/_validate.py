"""Shape checks for message fields, shared by both subprotocols' messages and codecs.

Each check raises `LocalProtocolError` (an invalid message cannot be built); `parse()` turns that
into a `RemoteProtocolError` at the wire boundary, as h11 does at `next_event()`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

from ._codec import describe
from ._errors import LocalProtocolError
from ._types import FormattedError, JSONObject, JSONValue, SubscribePayload

__all__ = [
    "check_errors",
    "check_id",
    "check_message_type",
    "check_object",
    "check_optional_object",
    "check_optional_payload",
    "check_subscribe_payload",
]


def check_id(value: object, message_type: str) -> str:
    """An operation id: a non-empty string (graphql-ws `validateMessage`)."""
    if not isinstance(value, str):
        raise LocalProtocolError(
            f"\"{message_type}\" message expects the 'id' property to be a string, "
            f"but got {describe(value)}"
        )
    if not value:
        raise LocalProtocolError(f"\"{message_type}\" message requires a non-empty 'id' property")
    return value


def check_optional_object(
    value: object, message_type: str, name: str = "payload"
) -> JSONObject | None:
    """An optional object field: absent and null both mean "not given"."""
    if value is None:
        return None
    return check_object(value, message_type, name)


def check_object(value: object, message_type: str, name: str = "payload") -> JSONObject:
    """A required JSON object field."""
    if not isinstance(value, dict):
        raise LocalProtocolError(
            f"\"{message_type}\" message expects the '{name}' property to be an object, "
            f"but got {describe(value)}"
        )
    return cast(JSONObject, value)


def check_subscribe_payload(value: object, message_type: str) -> SubscribePayload:
    """An operation request: `query` string; `operationName`, `variables`, `extensions` optional.

    `query` may be left out when ``extensions.persistedQuery`` names the document by hash
    (Apollo's automatic persisted queries); the server resolves or refuses the hash.
    """
    payload = check_object(value, message_type)
    query = payload.get("query")
    extensions = payload.get("extensions")
    # A hash-only request is checked where the hash is looked up.
    hash_only = (
        query is None and isinstance(extensions, dict) and bool(extensions.get("persistedQuery"))
    )
    if not hash_only and not isinstance(query, str):
        raise LocalProtocolError(
            f"\"{message_type}\" message payload expects the 'query' property to be a string, "
            f"but got {describe(query)}"
        )
    operation_name = payload.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise LocalProtocolError(
            f"\"{message_type}\" message payload expects the 'operationName' property to be a "
            f"string or null, but got {describe(operation_name)}"
        )
    for key in ("variables", "extensions"):
        check_optional_object(payload.get(key), message_type, f"payload.{key}")
    return cast(SubscribePayload, payload)


def check_errors(value: object, message_type: str) -> list[FormattedError]:
    """A non-empty array of GraphQL errors, each an object with a string `message`."""
    if not isinstance(value, list) or not value:
        raise LocalProtocolError(
            f"\"{message_type}\" message expects the 'payload' property to be a non-empty array "
            f"of GraphQL errors, but got {describe(value)}"
        )
    for index, error in enumerate(cast(list[JSONValue], value)):
        if not isinstance(error, Mapping) or not isinstance(error.get("message"), str):
            raise LocalProtocolError(
                f'"{message_type}" message expects payload[{index}] to be a GraphQL error '
                "object with a string 'message'"
            )
    return cast(list[FormattedError], value)


def check_message_type(raw: JSONObject) -> str:
    """The `type` of a decoded message: a non-empty string (graphql-ws `validateMessage`)."""
    kind = raw.get("type")
    if not kind:
        raise LocalProtocolError("Message is missing the 'type' property")
    if not isinstance(kind, str):
        raise LocalProtocolError(
            f"Message expects the 'type' property to be a string, but got {describe(kind)}"
        )
    return kind


def check_optional_payload(payload: JSONValue, kind: str) -> JSONObject | None:
    """A decoded `payload` that may be absent or null, else must be an object."""
    if payload is not None and not isinstance(payload, dict):
        raise LocalProtocolError(
            f"\"{kind}\" message expects the 'payload' property to be an object or null, "
            f"but got {describe(payload)}"
        )
    return payload
