"""Compiled execution: each cached operation decided once, run with graphql-core's semantics.

One compiler serves queries, mutations (root fields in series) and subscription events. See
`_plan.py` for what is decided when compiling and what is left to graphql-core's per-request
executor, `_fields.py` and `_values.py` for the field and value steps. The plan builds on
graphql-core 3.3's `Executor`: import `_plan` only after `compiler_off` returned None.
"""

from __future__ import annotations

import graphql.execution

from ._resolvers import EventResolver

__all__ = ["EventResolver", "compiler_off"]


def compiler_off(*, middleware: bool, executor_class: object) -> str | None:
    """Why no operation of an engine so configured can be compiled, or None."""
    if not hasattr(graphql.execution, "Executor"):
        return "compiled execution needs graphql-core 3.3"
    if middleware:
        return "middleware wraps the resolvers"
    if executor_class is not None:
        return "a custom execution_context_class is configured"
    return None
