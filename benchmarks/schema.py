"""The one schema every target serves, its data, and the answers each workload must get back.

Every server (clew, Ariadne, Strawberry) builds the same types over the same prebuilt objects, so
a workload costs each of them the same GraphQL work; the ceiling answers with the bytes below.
"""

from __future__ import annotations

from typing import Final

import orjson

__all__ = [
    "BOOKS",
    "BOOKS_ANSWER",
    "BOOKS_COUNT",
    "BOOKS_QUERY",
    "HELLO_ANSWER",
    "HELLO_QUERY",
    "SDL",
    "STREAM_QUERY",
    "books",
]

SDL: Final = """
type Author { id: ID! name: String! born: Int }
type Book {
  id: ID!
  title: String!
  year: Int!
  price: Float!
  inStock: Boolean!
  tags: [String!]!
  author: Author!
}
type Query { hello: String! books(count: Int!): [Book!]! }
type Subscription { stream(n: Int!): Int! }
"""

HELLO_QUERY: Final = "{ hello }"
HELLO_ANSWER: Final = {"data": {"hello": "world"}}

BOOKS_COUNT: Final = 50
_BOOK_FIELDS: Final = "id title year price inStock tags author { id name born }"
BOOKS_QUERY: Final = f"{{ books(count: {BOOKS_COUNT}) {{ {_BOOK_FIELDS} }} }}"

STREAM_QUERY: Final = "subscription Stream($n: Int!) { stream(n: $n) }"


def books(count: int) -> list[dict[str, object]]:
    """`count` books as plain dicts (what a resolver reading from a database would return)."""
    return [
        {
            "id": str(n),
            "title": f"Book {n}",
            "year": 1900 + n,
            "price": 9.5 + n,
            "inStock": n % 2 == 0,
            "tags": ["fiction", f"shelf-{n % 7}"],
            "author": {
                "id": f"a{n % 10}",
                "name": f"Author {n % 10}",
                "born": None if n % 3 else 1850 + n,
            },
        }
        for n in range(count)
    ]


BOOKS: Final = books(200)
BOOKS_ANSWER: Final = {"data": {"books": BOOKS[:BOOKS_COUNT]}}
#: What the ceiling answers: the answer's bytes, computed once.
HELLO_BYTES: Final = orjson.dumps(HELLO_ANSWER)
BOOKS_BYTES: Final = orjson.dumps(BOOKS_ANSWER)
