"""Merging payloads of both incremental formats, and converting the newer one to the 2022 one."""

from __future__ import annotations

import pytest

from clew.protocol import RemoteProtocolError
from clew.protocol.incremental import (
    IncrementalFormat,
    IncrementalMerger,
    LegacyConverter,
    negotiate_incremental,
    resolve_path,
)

# graphql-core 3.3.2's output for { hello ... @defer(label: "D") { slow }
#   list @stream(initialCount: 1) nested { a ... @defer { b } } }
NEWER = [
    {
        "data": {"hello": "hi", "list": [0], "nested": {"a": "A"}},
        "pending": [
            {"id": "0", "path": ["nested"]},
            {"id": "1", "path": [], "label": "D"},
            {"id": "2", "path": ["list"]},
        ],
        "hasNext": True,
    },
    {"hasNext": True, "incremental": [{"data": {"b": "B"}, "id": "0"}], "completed": [{"id": "0"}]},
    {"hasNext": True, "incremental": [{"items": [1], "id": "2"}]},
    {"hasNext": True, "incremental": [{"items": [2], "id": "2"}], "completed": [{"id": "2"}]},
    {
        "hasNext": False,
        "incremental": [{"data": {"slow": "slow!"}, "id": "1"}],
        "completed": [{"id": "1"}],
        "extensions": {"cost": 3},
    },
]
LEGACY = [
    {"data": {"hello": "hi", "list": [0], "nested": {"a": "A"}}, "hasNext": True},
    {"incremental": [{"data": {"b": "B"}, "path": ["nested"]}], "hasNext": True},
    {"incremental": [{"items": [1], "path": ["list", 1]}], "hasNext": True},
    {"incremental": [{"items": [2], "path": ["list", 2]}], "hasNext": True},
    {
        "incremental": [{"data": {"slow": "slow!"}, "path": [], "label": "D"}],
        "hasNext": False,
        "extensions": {"cost": 3},
    },
]
FINAL = {
    "data": {"hello": "hi", "list": [0, 1, 2], "nested": {"a": "A", "b": "B"}, "slow": "slow!"},
    "extensions": {"cost": 3},
}


def test_the_converter_writes_the_2022_format() -> None:
    converter = LegacyConverter()
    assert [converter.convert(payload) for payload in NEWER] == LEGACY


@pytest.mark.parametrize("payloads", [NEWER, LEGACY], ids=["v0.2", "2022"])
def test_both_formats_merge_to_the_same_result(payloads: list[dict[str, object]]) -> None:
    merger = IncrementalMerger()
    snapshots = [merger.apply(payload) for payload in payloads]  # type: ignore[arg-type]
    assert snapshots[0] == {"data": {"hello": "hi", "list": [0], "nested": {"a": "A"}}}
    assert snapshots[2]["data"]["list"] == [0, 1]  # type: ignore[index]
    assert snapshots[-1] == FINAL
    assert merger.has_next is False
    # Snapshots are copies: changing one changes nothing else.
    snapshots[0]["data"]["hello"] = "changed"  # type: ignore[index]
    assert merger.result["data"]["hello"] == "hi"  # type: ignore[index]


def test_errors_accumulate_from_every_place_they_appear() -> None:
    merger = IncrementalMerger()
    merger.apply(
        {
            "data": {"a": None, "l": []},
            "errors": [{"message": "e1"}],
            "pending": [{"id": "0", "path": []}, {"id": "1", "path": ["l"]}],
            "hasNext": True,
        }
    )
    result = merger.apply(
        {
            "hasNext": False,
            "incremental": [{"id": "1", "items": [1], "errors": [{"message": "e2"}]}],
            "completed": [{"id": "0", "errors": [{"message": "e3"}]}, {"id": "1"}],
        }
    )
    assert [e["message"] for e in result["errors"]] == ["e1", "e2", "e3"]
    assert result["data"] == {"a": None, "l": [1]}


def test_failed_fragments_and_streams_in_the_2022_format() -> None:
    merger = IncrementalMerger()
    merger.apply({"data": {"x": {"y": 1}, "l": [0]}, "hasNext": True})
    result = merger.apply(
        {
            "hasNext": False,
            "incremental": [
                {"data": None, "path": ["x"], "errors": [{"message": "defer failed"}]},
                {"items": None, "path": ["l", 1], "errors": [{"message": "stream failed"}]},
            ],
        }
    )
    assert result == {
        "data": {"x": {"y": 1}, "l": [0]},
        "errors": [{"message": "defer failed"}, {"message": "stream failed"}],
    }


def test_the_converter_reports_failed_fragments_with_their_label() -> None:
    converter = LegacyConverter()
    converter.convert(
        {"data": {}, "pending": [{"id": "0", "path": [], "label": "L"}], "hasNext": True}
    )
    failed = converter.convert(
        {"hasNext": False, "completed": [{"id": "0", "errors": [{"message": "boom"}]}]}
    )
    assert failed == {
        "incremental": [{"data": None, "path": [], "errors": [{"message": "boom"}], "label": "L"}],
        "hasNext": False,
    }


def test_the_converter_keeps_sub_paths_errors_and_stream_labels() -> None:
    converter = LegacyConverter()
    converter.convert(
        {
            "data": {"a": {"b": {}}, "l": []},
            "errors": [{"message": "x failed"}],
            "pending": [{"id": "0", "path": ["a"]}, {"id": "1", "path": ["l"], "label": "S"}],
            "hasNext": True,
        }
    )
    out = converter.convert(
        {
            "hasNext": True,
            "incremental": [
                {"id": "0", "subPath": ["b"], "data": {"c": 1}, "errors": [{"message": "x"}]},
                {"id": "1", "items": [5], "extensions": {"e": 1}},
            ],
        }
    )
    assert out == {
        "incremental": [
            {"data": {"c": 1}, "path": ["a", "b"], "errors": [{"message": "x"}]},
            # The list is empty so far: its first streamed item is index 0.
            {"items": [5], "path": ["l", 0], "label": "S", "extensions": {"e": 1}},
        ],
        "hasNext": True,
    }


@pytest.mark.parametrize("entry_id", ["9", 9, None])
def test_the_converter_refuses_unknown_ids(entry_id: object) -> None:
    converter = LegacyConverter()
    converter.convert({"data": {}, "hasNext": True})
    with pytest.raises(RemoteProtocolError, match="No pending entry"):
        converter.convert({"hasNext": False, "incremental": [{"id": entry_id, "data": {}}]})


INVALID = [
    ([{"data": 3}], "'data' must be an object"),
    ([{"data": {}, "errors": "x"}], "'errors' must be a list"),
    ([{"data": {}, "pending": "x"}], "'pending' must be a list of objects"),
    ([{"data": {}, "pending": [1]}], "'pending' must be a list of objects"),
    ([{"data": {}, "pending": [{"id": 1, "path": []}]}], "string 'id'"),
    ([{"data": {}, "hasNext": True}, {"incremental": [{"id": "0", "data": {}}]}], "No pending"),
    ([{"data": {}, "hasNext": True}, {"incremental": [{"data": {}}]}], "an 'id' or a 'path'"),
    (
        [{"data": {}, "hasNext": True}, {"incremental": [{"items": [1], "path": ["l"]}]}],
        "end with an index",
    ),
    (
        [{"data": {}, "hasNext": True}, {"incremental": [{"items": [1], "path": []}]}],
        "end with an index",
    ),
    (
        [{"data": {"l": 1}, "hasNext": True}, {"incremental": [{"items": [1], "path": ["l", 0]}]}],
        "need a list",
    ),
    (
        [{"data": {"o": 1}, "hasNext": True}, {"incremental": [{"data": {}, "path": ["o"]}]}],
        "needs an object",
    ),
    (
        [{"data": {}, "hasNext": True}, {"incremental": [{"data": {}, "path": ["missing"]}]}],
        "does not exist",
    ),
    ([{"data": {}}, {"data": {}}], "after the one with hasNext: false"),
]


@pytest.mark.parametrize(("payloads", "reason"), INVALID)
def test_invalid_payloads(payloads: list[dict[str, object]], reason: str) -> None:
    merger = IncrementalMerger()
    for payload in payloads[:-1]:
        merger.apply(payload)  # type: ignore[arg-type]
    with pytest.raises(RemoteProtocolError, match=reason):
        merger.apply(payloads[-1])  # type: ignore[arg-type]


def test_resolve_path_walks_objects_and_lists() -> None:
    data = {"a": [{"b": 1}]}
    assert resolve_path(data, ["a", 0, "b"]) == 1
    for bad in (["a", 1], ["a", "b"], ["x"], ["a", 0, "b", "c"]):
        with pytest.raises(RemoteProtocolError):
            resolve_path(data, bad)  # type: ignore[arg-type]


ACCEPTS = [
    (None, None),
    ("", None),
    ("application/json", None),
    ("multipart/mixed", None),  # bare multipart/mixed does not count
    ("multipart/mixed;deferSpec=20220824", IncrementalFormat.V0_1),
    ("multipart/mixed; incrementalSpec=v0.2, application/json", IncrementalFormat.V0_2),
    (
        "multipart/mixed;deferSpec=20220824, multipart/mixed;incrementalSpec=v0.2",
        IncrementalFormat.V0_1,
    ),
    (
        "multipart/mixed;deferSpec=20220824;q=0.5, multipart/mixed;incrementalSpec=v0.2",
        IncrementalFormat.V0_2,
    ),
    ("multipart/mixed;deferSpec=20220824;q=0", None),
    ("multipart/mixed;deferSpec=20220824;q=x", None),
    ("multipart/mixed;deferSpec=2021", None),
    ("nonsense, multipart/mixed;deferSpec=20220824", IncrementalFormat.V0_1),
]


@pytest.mark.parametrize(("accept", "expected"), ACCEPTS)
def test_negotiate_incremental(accept: str | None, expected: IncrementalFormat | None) -> None:
    assert negotiate_incremental(accept) is expected


def test_format_headers() -> None:
    assert (
        IncrementalFormat.V0_1.content_type == 'multipart/mixed; boundary="-"; deferSpec=20220824'
    )
    assert IncrementalFormat.V0_2.accept == "multipart/mixed;incrementalSpec=v0.2"


def test_deferred_objects_merge_deeply() -> None:
    merger = IncrementalMerger()
    merger.apply({"data": {"a": {"b": 1}}, "pending": [{"id": "0", "path": []}], "hasNext": True})
    result = merger.apply(
        {"hasNext": False, "incremental": [{"id": "0", "data": {"a": {"c": 2}, "d": 3}}]}
    )
    assert result == {"data": {"a": {"b": 1, "c": 2}, "d": 3}}


def test_the_converter_without_labels_or_has_next() -> None:
    converter = LegacyConverter()
    first = converter.convert({"data": {}, "pending": [{"id": "0", "path": []}], "hasNext": True})
    assert first == {"data": {}, "hasNext": True}
    assert converter.convert({"completed": [{"id": "0", "errors": [{"message": "e"}]}]}) == {
        "incremental": [{"data": None, "path": [], "errors": [{"message": "e"}]}]
    }
