"""Typed operations built from the schema: variables, selections, and the errors found locally."""

from __future__ import annotations

import enum

import pytest
from graphql import GraphQLSchema, build_schema, parse, validate

from clew.client import AIOHTTPClient, Fields, SchemaValidationError
from clew.client._builder import build_operation

from .endpoint import SDL, Server

BOOK_SCALARS = "id title genre tags"


def _valid(schema: GraphQLSchema, query: str) -> str:
    """The query, after checking that graphql-core finds nothing wrong with it."""
    assert validate(schema, parse(query)) == []
    return query


class Genre(enum.Enum):
    FICTION = 1
    SCIENCE = 2


def test_no_arguments_declares_no_variables(schema: GraphQLSchema) -> None:
    built = build_operation(schema, "query", "hello", {})
    assert built.query == "query hello { hello }"
    assert built.variables == {}
    assert built.operation_name == "hello"


def test_arguments_become_typed_variables(schema: GraphQLSchema) -> None:
    built = build_operation(schema, "query", "books", {"count": 2, "genre": "SCIENCE"})
    assert _valid(schema, built.query).startswith(
        "query books($count: Int, $genre: Genre) { books(count: $count, genre: $genre) {"
    )
    assert built.variables == {"count": 2, "genre": "SCIENCE"}


def test_auto_selection_default_depth_follows_one_level(schema: GraphQLSchema) -> None:
    built = build_operation(schema, "query", "books", {})
    # `reviews` needs an argument and `isbn` is deprecated: neither is chosen automatically;
    # author.books is two levels down, beyond the default depth.
    assert _valid(schema, built.query) == (
        f"query books {{ books {{ {BOOK_SCALARS} author {{ name born }} }} }}"
    )


def test_auto_selection_depth_zero_and_two(schema: GraphQLSchema) -> None:
    flat = build_operation(schema, "query", "book", {"id": "1"}, depth=0)
    assert flat.query.endswith(f"book(id: $id) {{ {BOOK_SCALARS} }} }}")
    deep = build_operation(schema, "query", "book", {"id": "1"}, depth=2)
    assert _valid(schema, deep.query).endswith(
        f"{{ {BOOK_SCALARS} author {{ name born books {{ {BOOK_SCALARS} }} }} }} }}"
    )


def test_auto_selection_of_a_union_uses_inline_fragments(schema: GraphQLSchema) -> None:
    built = build_operation(schema, "query", "search", {"text": "x"}, depth=0)
    assert _valid(schema, built.query).endswith(
        f"{{ __typename ... on Book {{ {BOOK_SCALARS} }} ... on Author {{ name born }} }} }}"
    )


def test_explicit_fields_list_and_builder_agree(schema: GraphQLSchema) -> None:
    as_list = build_operation(
        schema, "query", "books", {}, fields=["id", "title", {"author": ["name"]}]
    )
    as_builder = build_operation(
        schema, "query", "books", {}, fields=Fields("id", "title", author=Fields("name"))
    )
    assert as_list.query == as_builder.query
    assert _valid(schema, as_list.query) == "query books { books { id title author { name } } }"


def test_explicit_object_field_alone_gets_an_automatic_selection(schema: GraphQLSchema) -> None:
    built = build_operation(schema, "query", "books", {}, fields=["__typename", "author"])
    assert _valid(schema, built.query) == (
        "query books { books { __typename author { name born } } }"
    )


def test_explicit_inline_fragment_on_a_union(schema: GraphQLSchema) -> None:
    built = build_operation(
        schema, "query", "search", {"text": "x"}, fields=["__typename", {"... on Author": ["name"]}]
    )
    assert _valid(schema, built.query).endswith("{ __typename ... on Author { name } } }")


def test_enum_arguments_accept_names_and_python_enums(schema: GraphQLSchema) -> None:
    built = build_operation(schema, "query", "books", {"genre": Genre.SCIENCE}, fields=["id"])
    assert built.variables == {"genre": "SCIENCE"}
    with pytest.raises(SchemaValidationError, match="'NOVEL' does not exist in 'Genre' enum"):
        build_operation(schema, "query", "books", {"genre": "NOVEL"})


def test_input_object_arguments_are_checked_field_by_field(schema: GraphQLSchema) -> None:
    built = build_operation(
        schema,
        "mutation",
        "addBook",
        {"input": {"title": "Dune", "genre": Genre.SCIENCE, "tags": ("a", "b")}},
        fields=["id", "title"],
    )
    assert _valid(schema, built.query) == (
        "mutation addBook($input: BookInput!) { addBook(input: $input) { id title } }"
    )
    assert built.variables == {"input": {"title": "Dune", "genre": "SCIENCE", "tags": ["a", "b"]}}
    with pytest.raises(SchemaValidationError) as caught:
        build_operation(schema, "mutation", "addBook", {"input": {"title": 3, "pages": 1}})
    problems = " ".join(caught.value.problems)
    assert "Argument 'input' of Mutation.addBook" in problems
    assert "String cannot represent a non string value: 3" in problems
    assert "unknown field 'pages'" in problems


def test_list_arguments(schema: GraphQLSchema) -> None:
    built = build_operation(schema, "mutation", "addBooks", {"titles": ["a", "b"]}, fields=["id"])
    assert built.query.startswith("mutation addBooks($titles: [String!]!)")
    with pytest.raises(SchemaValidationError, match=r"Argument 'titles' of Mutation\.addBooks"):
        build_operation(schema, "mutation", "addBooks", {"titles": ["a", None]})


def test_non_null_arguments_are_required_and_not_null(schema: GraphQLSchema) -> None:
    built = build_operation(schema, "query", "book", {"id": "1"}, fields=["id"])
    assert built.query.startswith("query book($id: ID!) { book(id: $id) {")
    with pytest.raises(SchemaValidationError, match=r"Query.book needs the argument\(s\) id: ID!"):
        build_operation(schema, "query", "book", {})
    with pytest.raises(SchemaValidationError, match=r"Argument 'id' of Query\.book"):
        build_operation(schema, "query", "book", {"id": None})


def test_nullable_argument_may_be_sent_as_null(schema: GraphQLSchema) -> None:
    built = build_operation(schema, "query", "hello", {"name": None})
    assert built.query == "query hello($name: String) { hello(name: $name) }"
    assert built.variables == {"name": None}


def test_unknown_root_field_names_the_valid_ones(schema: GraphQLSchema) -> None:
    with pytest.raises(SchemaValidationError) as caught:
        build_operation(schema, "query", "bokks", {})
    assert str(caught.value) == (
        "Query has no field 'bokks'; valid fields: book, books, hello, partial, search, whoami"
    )


def test_unknown_argument_names_the_valid_ones(schema: GraphQLSchema) -> None:
    with pytest.raises(SchemaValidationError) as caught:
        build_operation(schema, "query", "books", {"cnt": 1})
    assert str(caught.value) == ("Query.books has no argument 'cnt'; valid arguments: count, genre")


def test_unknown_selected_field_names_the_valid_ones(schema: GraphQLSchema) -> None:
    with pytest.raises(SchemaValidationError) as caught:
        build_operation(schema, "query", "books", {}, fields=["titel"])
    assert str(caught.value) == (
        "Book has no field 'titel'; valid fields: author, genre, id, isbn, reviews, tags, title"
    )


def test_selected_field_that_needs_arguments_is_refused(schema: GraphQLSchema) -> None:
    with pytest.raises(
        SchemaValidationError, match=r"Book.reviews needs arguments \(first: Int!\)"
    ):
        build_operation(schema, "query", "books", {}, fields=["reviews"])


def test_selection_on_a_scalar_field_is_refused(schema: GraphQLSchema) -> None:
    with pytest.raises(SchemaValidationError, match=r"Query\.hello returns String!, which has no"):
        build_operation(schema, "query", "hello", {}, fields=["length"])


def test_missing_root_type(schema: GraphQLSchema) -> None:
    query_only = build_schema("type Query { a: Int }")
    with pytest.raises(SchemaValidationError, match="The schema has no mutation type"):
        build_operation(query_only, "mutation", "a", {})


def test_operation_name_override(schema: GraphQLSchema) -> None:
    built = build_operation(schema, "query", "hello", {}, operation_name="Greeting")
    assert built.query == "query Greeting { hello }"
    assert built.operation_name == "Greeting"


# -- through the client ------------------------------------------------------------------


async def test_query_proxy_sends_the_built_operation(server: Server) -> None:
    async with AIOHTTPClient(server.url, schema=SDL) as client:
        result = await client.query.books(count=2, _fields=["id", "title"])
    assert result.data == {
        "books": [{"id": "1", "title": "Book 1"}, {"id": "2", "title": "Book 2"}]
    }
    (request,) = server.endpoint.requests
    assert request.payload == {
        "query": "query books($count: Int) { books(count: $count) { id title } }",
        "operationName": "books",
        "variables": {"count": 2},
        "extensions": None,
    }


async def test_mutation_proxy_with_input_object(server: Server) -> None:
    async with AIOHTTPClient(server.url, schema=SDL) as client:
        result = await client.mutation.addBook(
            input={"title": "Dune", "genre": "SCIENCE"}, _fields=Fields("id", "title", "genre")
        )
    assert result.data == {"addBook": {"id": "new", "title": "Dune", "genre": "SCIENCE"}}


async def test_proxy_depth_option_and_item_access(server: Server) -> None:
    async with AIOHTTPClient(server.url, schema=SDL, depth=0) as client:
        built = await client.query["book"].build(id="1")
        deeper = await client.query.book.build(id="1", _depth=1)
        result = await client.query.book(id="1")
    assert "author" not in built.query
    assert "author { name born }" in deeper.query
    assert result.data == {
        "book": {"id": "1", "title": "Book 1", "genre": "FICTION", "tags": ["t"]}
    }


async def test_wrong_argument_type_fails_locally_without_a_request(server: Server) -> None:
    async with AIOHTTPClient(server.url, schema=SDL) as client:
        with pytest.raises(SchemaValidationError, match="Int cannot represent non-integer"):
            await client.query.books(count="five")
        with pytest.raises(SchemaValidationError, match="valid arguments: count, genre"):
            await client.query.books(limit=5)
    assert server.endpoint.requests == []


async def test_raise_on_errors_through_the_proxy(server: Server) -> None:
    async with AIOHTTPClient(server.url, schema=SDL) as client:
        result = await client.query.partial(_fields=["id", "title"])
        assert result.errors is not None
        with pytest.raises(Exception, match="title is unavailable"):
            await client.query.partial(_fields=["id", "title"], _raise_on_errors=True)
