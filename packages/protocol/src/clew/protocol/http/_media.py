"""Media types and content negotiation: which body a request carries and which one a reply may use.

Headers are parsed here once (RFC 9110 §8.3 `Content-Type`, §12.5.1 `Accept`) so the server and
the client apply the same rules. Everything is case-insensitive except quoted parameter values.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import final

from ._errors import RequestError

__all__ = [
    "MediaType",
    "accepts_html",
    "check_post_content_type",
    "negotiate_response_media_type",
    "parse_media_type",
]


class MediaType(StrEnum):
    """The media types a GraphQL HTTP endpoint reads or writes."""

    #: The GraphQL response media type; status codes are meaningful with it. Preferred.
    GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
    #: Plain JSON: the request body type every server must read, and the legacy response type.
    JSON = "application/json"
    #: Multipart uploads (the graphql-multipart-request-spec), a CORS "simple" type.
    MULTIPART_FORM_DATA = "multipart/form-data"
    #: What browsers navigate with; a server may answer it with an explorer page.
    HTML = "text/html"
    #: Server-sent events: GraphQL over SSE (graphql-sse) streams its results in this type.
    EVENT_STREAM = "text/event-stream"


#: Response types in the server's order of preference, for wildcards and ties.
_RESPONSE_TYPES = (MediaType.GRAPHQL_RESPONSE_JSON, MediaType.JSON)
#: The specificity of a range naming a media type exactly (not through a wildcard).
_EXACT = 3


def _split(text: str, separator: str) -> Iterator[str]:
    """Split on `separator` outside quoted strings (RFC 9110 §5.6.4), stripping whitespace."""
    start = 0
    quoted = escaped = False
    for index, char in enumerate(text):
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == separator and not quoted:
            yield text[start:index].strip()
            start = index + 1
    yield text[start:].strip()


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        out: list[str] = []
        escaped = False
        for char in value[1:-1]:
            if char == "\\" and not escaped:
                escaped = True
                continue
            escaped = False
            out.append(char)
        return "".join(out)
    return value


def _is_token(text: str) -> bool:
    return bool(text) and not any(c.isspace() or c in '"(),/:;<=>?@[\\]{}' for c in text)


def parse_media_type(header: str) -> tuple[str, dict[str, str]]:
    """Split a `Content-Type` value into the lower-cased ``type/subtype`` and its parameters.

    Parameter names are lower-cased and quoted values unquoted. A malformed value (no
    ``type/subtype``, or a parameter without ``=``) raises `ValueError`.
    """
    first, *rest = _split(header, ";")
    kind, slash, subtype = first.partition("/")
    if not (slash and _is_token(kind) and _is_token(subtype)):
        raise ValueError(f"{first!r} is not a media type of the form type/subtype")
    params: dict[str, str] = {}
    for item in rest:
        if not item:  # tolerate a trailing or doubled ';'
            continue
        name, equals, value = item.partition("=")
        name = name.strip().lower()
        if not (equals and _is_token(name)):
            raise ValueError(f"{item!r} is not a media type parameter of the form name=value")
        params[name] = _unquote(value.strip())
    return f"{kind}/{subtype}".lower(), params


def check_post_content_type(
    header: str | None, supported: Iterable[MediaType] = (MediaType.JSON,)
) -> MediaType:
    """The media type of a POST body, or `RequestError` when the endpoint cannot read it.

    A missing header is refused (the spec's SHOULD) and an unsupported type gets 415. The
    charset may be absent (UTF-8 is assumed) or UTF-8 in any case; anything else is 415. Add
    `MediaType.MULTIPART_FORM_DATA` to `supported` to accept uploads (its boundary is left to
    the multipart parser).
    """
    allowed = list(supported)
    accepted = ", ".join(allowed)
    if header is None or not header.strip():
        raise RequestError(415, f"A POST request needs a Content-Type header; use {accepted}")
    try:
        name, params = parse_media_type(header)
    except ValueError as exc:
        raise RequestError(400, f"The Content-Type header is malformed: {exc}") from None
    for media_type in allowed:
        if name == media_type.value:
            charset = params.get("charset", "utf-8").lower()
            if charset not in {"utf-8", "utf8"}:
                raise RequestError(
                    415, f"Unsupported charset {charset!r} for {name}; request bodies must be UTF-8"
                )
            return media_type
    raise RequestError(415, f"Unsupported Content-Type {name!r}; use {accepted}")


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class _Range:
    """One media range of an `Accept` header."""

    kind: str
    subtype: str
    quality: float
    position: int
    charset: str | None

    def specificity(self, media_type: str) -> int:
        """How closely this range names `media_type`: 3 exactly, 2 by type, 1 any; 0 no match."""
        kind, _, subtype = media_type.partition("/")
        if self.charset is not None and self.charset not in {"utf-8", "utf8"}:
            return 0  # we only write UTF-8
        if self.kind == kind and self.subtype == subtype:
            return _EXACT
        if self.kind == kind and self.subtype == "*":
            return 2
        if self.kind == self.subtype == "*":
            return 1
        return 0


def _parse_accept(header: str) -> list[_Range]:
    ranges: list[_Range] = []
    for position, item in enumerate(_split(header, ",")):
        try:
            name, params = parse_media_type(item)
        except ValueError:
            continue  # a malformed range is ignored, as browsers and proxies do
        quality = params.get("q", "1")
        try:
            q = float(quality)
        except ValueError:
            continue
        if not 0 <= q <= 1:
            continue
        kind, _, subtype = name.partition("/")
        ranges.append(
            _Range(
                kind=kind,
                subtype=subtype,
                quality=q,
                position=position,
                charset=params.get("charset", "").lower() or None,
            )
        )
    return ranges


def _preference(ranges: Sequence[_Range], media_type: str) -> tuple[float, int, int] | None:
    """Rank `media_type` by the most specific range that names it (RFC 9110 §12.5.1).

    The key is (quality, specificity, -position): higher is preferred. None if unacceptable.
    """
    best: _Range | None = None
    best_specificity = 0
    for media_range in ranges:
        specificity = media_range.specificity(media_type)
        if specificity > best_specificity:
            best, best_specificity = media_range, specificity
    if best is None or best.quality == 0:
        return None
    return best.quality, best_specificity, -best.position


def negotiate_response_media_type(
    accept: str | None,
    supported: Sequence[MediaType] = _RESPONSE_TYPES,
    *,
    default: MediaType = MediaType.JSON,
) -> MediaType | None:
    """The media type to answer with, or None when the client accepts none of `supported`.

    Higher q-values win, then the more specific range (an exact type beats ``application/*``,
    which beats ``*/*``), then the range listed first. A tie that only a wildcard decides, and a
    missing `Accept` header, go to `default`: the spec says a server SHOULD answer
    `application/json` to ``Accept: */*`` and to a request without `Accept`, whose client may
    not know the newer type. On None the server should answer 406 (recommended) or ignore the
    header.
    """
    if accept is None or not accept.strip():
        return default
    ranges = _parse_accept(accept)
    best: MediaType | None = None
    best_key: tuple[float, int, int, bool] | None = None
    for media_type in supported:
        preference = _preference(ranges, media_type.value)
        if preference is None:
            continue
        # Only a wildcard match lets `default` win a tie; a type named exactly ranks on its own.
        key = (*preference, media_type is default and preference[1] < _EXACT)
        if best_key is None or key > best_key:
            best, best_key = media_type, key
    return best


def accepts_html(accept: str | None) -> bool:
    """Whether the client prefers an HTML page over any GraphQL response type.

    True for browser navigation (``text/html,...,*/*;q=0.8``), False for ``*/*`` alone and for
    GraphQL clients, so a server can serve an explorer page without hijacking API calls.
    """
    if accept is None:
        return False
    ranges = _parse_accept(accept)
    html = _preference(ranges, MediaType.HTML.value)
    if html is None:
        return False
    return all(
        (json_key := _preference(ranges, media_type.value)) is None or html > json_key
        for media_type in _RESPONSE_TYPES
    )
