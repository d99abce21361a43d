"""`RedisDocumentStore`: automatic persisted queries shared by every worker through Redis.

One key per document (``<prefix><sha256 hex>``, the query text as its value, optionally with
a TTL), so any worker or process answers a hash another one registered. Needs the
``clew[redis]`` extra (redis-py's asyncio client). Redis being down never fails a request: a
lookup that fails is a miss (the client then sends the text, which runs), a store that fails
is skipped; both are logged.
"""

from __future__ import annotations

import logging
from typing import Final

try:
    from redis.asyncio import Redis
    from redis.exceptions import RedisError
except ImportError as error:  # pragma: no cover - exercised without the extra installed
    raise ImportError(
        'clew.server.redis_documents needs redis-py: pip install "clew[redis]"'
    ) from error

__all__ = ["RedisDocumentStore"]

#: Where keys go unless told otherwise.
DEFAULT_PREFIX: Final = "clew:apq:"


class RedisDocumentStore:
    """A `DocumentStore` in Redis: ``GraphQL(schema, persisted_queries=RedisDocumentStore(url))``.

    `redis` is a URL (the store owns that client; `aclose()` closes it) or a
    `redis.asyncio.Redis` to borrow. `ttl` (seconds) expires documents; None keeps them.
    """

    def __init__(
        self,
        redis: Redis | str,
        *,
        prefix: str = DEFAULT_PREFIX,
        ttl: float | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        self._owns = isinstance(redis, str)
        self.redis: Redis = Redis.from_url(redis) if isinstance(redis, str) else redis
        self.prefix = prefix
        self.ttl = ttl
        self._logger = logger or logging.getLogger("clew.server")

    async def get(self, sha256_hash: str) -> str | None:
        """The text under `sha256_hash`, or None (also when Redis cannot be reached)."""
        try:
            value = await self.redis.get(self.prefix + sha256_hash)
        except (RedisError, OSError) as error:
            self._logger.warning("Persisted query lookup failed; treated as a miss: %s", error)
            return None
        if value is None:
            return None
        return value.decode("utf-8") if isinstance(value, bytes) else str(value)

    async def set(self, sha256_hash: str, document: str) -> None:
        """Store `document` (with the TTL, if any); a failure is logged and skipped."""
        expire = None if self.ttl is None else max(1, round(self.ttl * 1000))
        try:
            await self.redis.set(self.prefix + sha256_hash, document.encode("utf-8"), px=expire)
        except (RedisError, OSError) as error:
            self._logger.warning("Persisted query could not be stored: %s", error)

    async def aclose(self) -> None:
        """Close the client if the store created it from a URL."""
        if self._owns:
            await self.redis.aclose()
