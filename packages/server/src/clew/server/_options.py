"""Options in the types Ariadne documents, checked and normalised once, at construction.

Ariadne takes `timedelta`s or seconds for timeouts, lists or per-request callables for
extensions and middleware, `query_parser(context, data)` and `validation_rules` as a list or a
callable `(context, document, data)`. Each is read here into one shape the server runs; a value
of any other type raises `TypeError` naming the option, so nothing fails at request time.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeAlias, cast, final

from graphql import ASTValidationRule, DocumentNode
from graphql.execution import MiddlewareManager

from ._extensions import Extension, ExtensionFactory

__all__ = [
    "ExtensionsOption",
    "MiddlewareOption",
    "ParserKind",
    "ValidationRulesOption",
    "check_extensions",
    "check_manager_class",
    "check_middleware",
    "check_validation_rules",
    "parser_kind",
    "seconds",
    "wraps_fields",
]

#: Extensions: a list of factories, or a callable `(request, context)` returning one per request.
ExtensionsOption: TypeAlias = (
    "Sequence[ExtensionFactory] | Callable[[object, object], "
    "Sequence[ExtensionFactory] | Awaitable[Sequence[ExtensionFactory] | None] | None]"
)
#: Middleware: a list, or a callable `(request, context)` returning one per request.
MiddlewareOption: TypeAlias = (
    "Sequence[object] | Callable[[object, object], "
    "Sequence[object] | Awaitable[Sequence[object] | None] | None]"
)
#: Validation rules: a collection of rule classes, or `(context, document, data) -> rules`.
ValidationRulesOption: TypeAlias = (
    "Collection[type[ASTValidationRule]] | Callable[[object, DocumentNode, object], "
    "Collection[type[ASTValidationRule]] | None]"
)


def seconds(value: object, name: str, *, allow_none: bool = True) -> float | None:
    """A duration given as seconds or a `timedelta`, as a float of seconds."""
    if value is None and allow_none:
        return None
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(
            f"{name} must be a number of seconds or a datetime.timedelta, got {_kind(value)}"
        )
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {value}")
    return float(value)


def check_extensions(value: object, name: str = "extensions") -> ExtensionsOption | None:
    """Extensions as Ariadne takes them: None, a list of classes/factories, or a callable."""
    if value is None:
        return None
    if isinstance(value, list | tuple):
        for item in value:
            if not callable(item):
                raise TypeError(
                    f"Each of {name} must be an Extension class or a callable returning an "
                    f"extension, got {_kind(item)}"
                )
        return cast("Sequence[ExtensionFactory]", tuple(value))
    if isinstance(value, type):
        raise TypeError(f"{name} takes a list of extensions; wrap {value.__name__} in a list")
    if callable(value):
        return cast("ExtensionsOption", value)
    raise TypeError(
        f"{name} must be a list of extensions or a callable (request, context) returning one, "
        f"got {_kind(value)}"
    )


def check_middleware(value: object, name: str = "middleware") -> MiddlewareOption | None:
    """Middleware as Ariadne takes it: None, a list, or a callable `(request, context)`."""
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return tuple(value)
    if callable(value) and not isinstance(value, type):
        return cast("MiddlewareOption", value)
    raise TypeError(
        f"{name} must be a list of middleware or a callable (request, context) returning one, "
        f"got {_kind(value)}"
    )


def check_manager_class(value: object) -> type[MiddlewareManager]:
    """`middleware_manager_class`: `graphql.MiddlewareManager` or a subclass (the default)."""
    if value is None:
        return MiddlewareManager
    if isinstance(value, type) and issubclass(value, MiddlewareManager):
        return value
    raise TypeError(
        f"middleware_manager_class must be graphql.MiddlewareManager or a subclass, got "
        f"{_kind(value)}"
    )


@final
@dataclass(frozen=True, slots=True)
class ParserKind:
    """How a `query_parser` is called: clew's `(query)` (cached) or Ariadne's `(context, data)`."""

    per_request: bool


def parser_kind(parser: object) -> ParserKind | None:
    """Tell the two `query_parser` shapes apart by their positional parameters."""
    if parser is None:
        return None
    if not callable(parser):
        raise TypeError(f"query_parser must be callable, got {_kind(parser)}")
    positional = _positional_count(parser, "query_parser")
    if positional == 1:
        return ParserKind(per_request=False)
    if positional == 2:
        return ParserKind(per_request=True)
    raise TypeError(
        "query_parser must take (query) and return a DocumentNode, or Ariadne's "
        f"(context, data); {_name(parser)} takes {positional} positional arguments"
    )


def check_validation_rules(value: object) -> ValidationRulesOption:
    """Validation rules: rule classes, or a callable `(context, document, data) -> rules`."""
    if value is None:
        return ()
    if isinstance(value, type):
        raise TypeError(
            f"validation_rules takes a collection of rules; wrap {value.__name__} in a list"
        )
    if isinstance(value, Collection) and not isinstance(value, str | bytes):
        for rule in value:
            if not (isinstance(rule, type) and issubclass(rule, ASTValidationRule)):
                raise TypeError(
                    f"validation_rules must hold ASTValidationRule subclasses, got {_kind(rule)}"
                )
        return tuple(value)
    if callable(value):
        positional = _positional_count(value, "validation_rules")
        if positional != 3:
            raise TypeError(
                "A validation_rules callable must take (context, document, data); "
                f"{_name(value)} takes {positional} positional arguments"
            )
        return cast("ValidationRulesOption", value)
    raise TypeError(
        "validation_rules must be a collection of ASTValidationRule subclasses or a callable "
        f"(context, document, data) returning one, got {_kind(value)}"
    )


def wraps_fields(extension: object) -> bool:
    """Whether an extension (class or instance) has a `resolve` hook that does something.

    The base classes' (clew's and Ariadne's) `resolve` only passes through.

    Pass-through hooks are left out of field resolution, so an extension that only times the
    request costs nothing per field.
    """
    cls = extension if isinstance(extension, type) else type(extension)
    resolve = getattr(cls, "resolve", None)
    if resolve is None or resolve is Extension.resolve:
        return False
    return (getattr(resolve, "__module__", None), getattr(resolve, "__qualname__", None)) != (
        "ariadne.types",
        "Extension.resolve",
    )


def _positional_count(function: object, name: str) -> int:
    try:
        signature = inspect.signature(cast("Callable[..., object]", function))
    except (TypeError, ValueError):
        raise TypeError(f"{name}: cannot read the signature of {_name(function)}") from None
    count = 0
    for parameter in signature.parameters.values():
        if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            raise TypeError(f"{name}: {_name(function)} must name its positional arguments")
        if parameter.kind in (
            inspect.Parameter.POSITIONAL_ONLY,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
        ) and (parameter.default is inspect.Parameter.empty):
            count += 1
    return count


def _name(value: object) -> str:
    return getattr(value, "__qualname__", None) or type(value).__name__


def _kind(value: object) -> str:
    return f"{type(value).__name__} {value!r}"[:120]
