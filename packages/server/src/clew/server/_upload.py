"""The `Upload` scalar: how a file from a multipart request reaches a resolver."""

from __future__ import annotations

from graphql import GraphQLError, GraphQLScalarType, GraphQLSchema, ValueNode
from starlette.datastructures import UploadFile

__all__ = ["Upload", "bind_upload_scalar"]


def _serialize(_value: object) -> object:
    raise GraphQLError("'Upload' is an input-only scalar and cannot be returned")


def _parse_value(value: object) -> UploadFile:
    if isinstance(value, UploadFile):
        return value
    raise GraphQLError("'Upload' values must be files sent in a multipart request")


def _parse_literal(_node: ValueNode, _variables: object = None) -> object:
    raise GraphQLError("'Upload' values must be sent as variables of a multipart request")


#: The scalar for uploaded files: resolvers receive a `starlette.datastructures.UploadFile`
#: (`filename`, `content_type`, `size`, `await read()`, ...).
Upload = GraphQLScalarType(
    name="Upload",
    description="A file sent with the GraphQL multipart request spec.",
    serialize=_serialize,
    parse_value=_parse_value,
    parse_literal=_parse_literal,
)


def bind_upload_scalar(schema: GraphQLSchema) -> None:
    """Give a schema built from SDL (which declares ``scalar Upload``) the scalar's behaviour."""
    declared = schema.type_map.get("Upload")
    if isinstance(declared, GraphQLScalarType) and declared is not Upload:
        declared.serialize = _serialize  # type: ignore[method-assign,assignment]
        declared.parse_value = _parse_value  # type: ignore[method-assign]
        declared.parse_literal = _parse_literal  # type: ignore[method-assign,assignment]
