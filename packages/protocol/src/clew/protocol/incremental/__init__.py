"""Incremental delivery (`@defer`, `@stream`), sans-IO: formats, `multipart/mixed`, merging.

- `IncrementalFormat` names the two payload formats (`deferSpec=20220824` and
  `incrementalSpec=v0.2`) with their Content-Type and Accept values; `negotiate_incremental`
  picks one from a request's Accept; `LegacyConverter` rewrites the newer format (what
  graphql-core 3.3 produces) into the 2022 one.
- `MultipartMixedWriter` writes a `multipart/mixed` body part by part; `MultipartMixedParser`
  reads one incrementally at any chunk boundary; `boundary_of` reads the boundary.
- `IncrementalMerger` merges payloads of either format into one progressively completed
  result.
"""

from __future__ import annotations

from ._format import IncrementalFormat, LegacyConverter, negotiate_incremental
from ._merge import IncrementalMerger, resolve_path
from ._multipart import BOUNDARY, MultipartMixedParser, MultipartMixedWriter, boundary_of

__all__ = [
    "BOUNDARY",
    "IncrementalFormat",
    "IncrementalMerger",
    "LegacyConverter",
    "MultipartMixedParser",
    "MultipartMixedWriter",
    "boundary_of",
    "negotiate_incremental",
    "resolve_path",
]
