"""The engine behind `app.engine` and the types its methods take and return.

Most users never need these: the app and its handlers drive the engine. A transport of your own
(or a test) calls it directly: `prepare` gives a `PreparedOperation` or a `PreparationFailure`,
`execute` a result (or raises `InternalServerError`), `subscribe` a `SubscriptionStream`.
"""

from __future__ import annotations

from ._documents import DocumentRefusal
from ._execution import CONNECTION_PARAMS, CONNECTION_RESULT, Engine, InternalServerError
from ._prepared import PreparationFailure, PreparedOperation
from ._subscription import SubscriptionStream

__all__ = [
    "CONNECTION_PARAMS",
    "CONNECTION_RESULT",
    "DocumentRefusal",
    "Engine",
    "InternalServerError",
    "PreparationFailure",
    "PreparedOperation",
    "SubscriptionStream",
]
