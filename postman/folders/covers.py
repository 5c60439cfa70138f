"""Covers: an admin uploads a cover (a file body and a multipart part), the images are served with
ETag, Cache-Control and 304, and refusals and removal answer as documented."""

from __future__ import annotations

from folders.common import folder, fresh, no_content, problem, request, status, test, unauthorized

# A small PNG committed next to the collection; newman runs from the repository root (scripts/postman.sh).
COVER_FILE = "postman/cover.png"
DIGEST = "[0-9a-f]{64}"


def _with_file(item: dict, content_type: str) -> dict:
    """Send COVER_FILE as the raw body."""
    item["request"]["header"].append({"key": "Content-Type", "value": content_type})
    item["request"]["body"] = {"mode": "file", "file": {"src": COVER_FILE}}
    return item


def _with_part(item: dict) -> dict:
    """Send COVER_FILE as the one multipart part, named `file`."""
    item["request"]["body"] = {"mode": "formdata", "formdata": [{"key": "file", "type": "file", "src": COVER_FILE}]}
    return item


def _image(cache_control: str, etag_variable: str) -> str:
    return (
        status(200)
        + "\n"
        + test(
            "a JPEG with its digest as a strong ETag",
            f"""
            pm.expect(pm.response.headers.get("Content-Type")).to.eql("image/jpeg");
            pm.expect(pm.response.headers.get("X-Content-Type-Options")).to.eql("nosniff");
            pm.expect(pm.response.headers.get("Cache-Control")).to.eql("{cache_control}");
            pm.expect(pm.response.headers.get("ETag")).to.eql('"' + pm.collectionVariables.get("{etag_variable}") + '"');
            pm.expect(Number(pm.response.headers.get("Content-Length"))).to.be.above(100);
            """,
        )
    )


def _not_modified() -> str:
    return (
        status(304)
        + "\n"
        + test(
            "no body, the same ETag",
            """
            pm.expect(pm.response.text()).to.eql("");
            pm.expect(pm.response.headers.get("ETag")).to.eql('"' + pm.collectionVariables.get("coverDigest") + '"');
            """,
        )
    )


def covers_folder() -> dict:
    items: list[dict] = []
    add = items.append
    add(
        request(
            "Add a book for its cover (admin)",
            "POST",
            "/books",
            token="adminToken",
            prerequest=fresh(("coverTitle", '"Postman Cover " + suffix')),
            json_body={"title": "{{coverTitle}}", "author": "Pat Postman", "price": "9.00", "stock": 2},
            tests=status(201)
            + "\n"
            + test(
                "no cover yet",
                """
                const book = pm.response.json();
                pm.expect(book.cover_url).to.eql(null);
                pm.expect(book.cover_thumbnail_url).to.eql(null);
                pm.collectionVariables.set("coverBookId", book.id);
                """,
            ),
        )
    )
    add(
        _with_file(
            request(
                "Upload a cover as the raw body (admin)",
                "PUT",
                "/books/{{coverBookId}}/cover",
                token="adminToken",
                tests=status(200)
                + "\n"
                + test(
                    "the book now has content-addressed cover and thumbnail URLs",
                    f"""
                    const book = pm.response.json();
                    pm.expect(String(book.id)).to.eql(String(pm.collectionVariables.get("coverBookId")));
                    pm.expect(book.cover_url).to.match(/^\\/covers\\/{DIGEST}\\.jpg$/);
                    pm.expect(book.cover_thumbnail_url).to.match(/^\\/covers\\/{DIGEST}\\.jpg$/);
                    pm.expect(book.cover_thumbnail_url).to.not.eql(book.cover_url);
                    pm.collectionVariables.set("coverDigest", book.cover_url.slice(8, 72));
                    pm.collectionVariables.set("thumbnailDigest", book.cover_thumbnail_url.slice(8, 72));
                    """,
                ),
            ),
            "image/png",
        )
    )
    add(
        request(
            "The cover by its digest (public, immutable)",
            "GET",
            "/covers/{{coverDigest}}.jpg",
            tests=_image("public, max-age=31536000, immutable", "coverDigest"),
        )
    )
    add(
        request(
            "The cover again with If-None-Match → 304",
            "GET",
            "/covers/{{coverDigest}}.jpg",
            headers={"If-None-Match": '"{{coverDigest}}"'},
            tests=_not_modified(),
        )
    )
    add(
        request(
            "The book's current cover (public, a minute)",
            "GET",
            "/books/{{coverBookId}}/cover",
            tests=_image("public, max-age=60", "coverDigest"),
        )
    )
    add(
        request(
            "The book's current cover with If-None-Match → 304",
            "GET",
            "/books/{{coverBookId}}/cover",
            headers={"If-None-Match": '"{{coverDigest}}"'},
            tests=_not_modified(),
        )
    )
    add(
        request(
            "The book's current thumbnail (public, a minute)",
            "GET",
            "/books/{{coverBookId}}/cover/thumbnail",
            tests=_image("public, max-age=60", "thumbnailDigest"),
        )
    )
    add(
        request(
            "The book document names the cover",
            "GET",
            "/books/{{coverBookId}}",
            tests=status(200)
            + "\n"
            + test(
                "cover_url and cover_thumbnail_url",
                """
                const book = pm.response.json();
                pm.expect(book.cover_url).to.eql("/covers/" + pm.collectionVariables.get("coverDigest") + ".jpg");
                pm.expect(book.cover_thumbnail_url).to.eql("/covers/" + pm.collectionVariables.get("thumbnailDigest") + ".jpg");
                """,
            ),
        )
    )
    add(
        _with_part(
            request(
                "Upload the same image as multipart (admin): the same address",
                "PUT",
                "/books/{{coverBookId}}/cover",
                token="adminToken",
                tests=status(200)
                + "\n"
                + test(
                    "the same bytes normalise to the same digest",
                    'pm.expect(pm.response.json().cover_url).to.eql("/covers/" + pm.collectionVariables.get("coverDigest") + ".jpg");',
                ),
            )
        )
    )
    add(
        _with_file(
            request(
                "Upload a cover — anonymous → 401",
                "PUT",
                "/books/{{coverBookId}}/cover",
                tests=unauthorized(),
            ),
            "image/png",
        )
    )
    add(
        _with_file(
            request(
                "Upload a cover — a customer → 403",
                "PUT",
                "/books/{{coverBookId}}/cover",
                token="customerToken",
                tests=problem(403),
            ),
            "image/png",
        )
    )
    add(
        request(
            "Upload text labelled image/png → 415",
            "PUT",
            "/books/{{coverBookId}}/cover",
            token="adminToken",
            raw="This is not an image.",
            content_type="image/png",
            tests=problem(415)
            + "\n"
            + test(
                "the detail says what is accepted",
                'pm.expect(pm.response.json().detail).to.include("JPEG, PNG or WebP");',
            ),
        )
    )
    add(
        _with_file(
            request(
                "Upload a cover to an unknown book → 404",
                "PUT",
                "/books/999999999/cover",
                token="adminToken",
                tests=problem(404),
            ),
            "image/png",
        )
    )
    add(
        request(
            "An unknown digest → 404",
            "GET",
            "/covers/" + "0" * 64 + ".jpg",
            tests=problem(404),
        )
    )
    add(
        request(
            "Remove the cover (admin)",
            "DELETE",
            "/books/{{coverBookId}}/cover",
            token="adminToken",
            tests=no_content(),
        )
    )
    add(
        request(
            "The removed cover's address → 404",
            "GET",
            "/covers/{{coverDigest}}.jpg",
            tests=problem(404),
        )
    )
    add(
        request(
            "The book has no cover any more → 404",
            "GET",
            "/books/{{coverBookId}}/cover",
            tests=problem(404),
        )
    )
    add(
        request(
            "Remove it again → 204 (nothing to remove)",
            "DELETE",
            "/books/{{coverBookId}}/cover",
            token="adminToken",
            tests=no_content(),
        )
    )
    add(
        request(
            "Delete the book (admin)",
            "DELETE",
            "/books/{{coverBookId}}",
            token="adminToken",
            tests=no_content(),
        )
    )
    return folder(
        "Covers",
        "Book covers: upload (a raw image body or one multipart part named `file`), the content-addressed "
        "images with ETag, Cache-Control and 304, each book's stable cover URL, refusals and removal. The "
        f"upload sends {COVER_FILE}: run newman from the repository root (as scripts/postman.sh does), or "
        "point Postman's working directory there.",
        items,
    )
