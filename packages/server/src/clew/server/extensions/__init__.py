"""Extensions shipped with the server: `OpenTelemetry` tracing (needs ``clew[otel]``).

`Extension` and `ExtensionFactory` (the hooks every extension implements) are here too.
`OpenTelemetry` is imported on first use, so this package imports without opentelemetry-api.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from clew.server._extensions import Extension, ExtensionFactory

if TYPE_CHECKING:
    from clew.server.extensions.opentelemetry import OpenTelemetry

__all__ = ["Extension", "ExtensionFactory", "OpenTelemetry"]


def __getattr__(name: str) -> object:
    # Imported on first use: only this name needs opentelemetry-api.
    if name == "OpenTelemetry":
        from clew.server.extensions.opentelemetry import OpenTelemetry  # noqa: PLC0415

        return OpenTelemetry
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
