"""Book covers (issue 14, "Covers"; docs/api.md "Covers"): upload as a raw body or multipart, checked
by decoding, normalised with a thumbnail, served content-addressed and at each book's stable URL."""

import hashlib
import io
import os
import random
import struct
import subprocess
import time
import zlib
from collections import Counter

import pytest
import sqlalchemy as sa
from PIL import Image, ImageCms
from PIL.PngImagePlugin import PngInfo

from app.books.cover_images import COVER_BOX, MAX_UPLOAD_BYTES, THUMBNAIL_BOX
from app.books.models import Book, BookCover
from app.books.seed import DEMO_BOOKS
from app.extensions import db
from tests.conftest import assert_problem, row_counts
from tests.live import ROOT, VENV_BIN, LiveDatabase, mysql_test_url

pytestmark = pytest.mark.usefixtures("no_secrets")

RAW_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
SECRET_TEXT = "Photographer: Jane Secret, 51.5007N 0.1246W"


def image_bytes(fmt: str = "PNG", size=(300, 450), colour=(200, 30, 30), mode: str = "RGB", **save) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, colour).save(out, fmt, **save)
    return out.getvalue()


def with_metadata(fmt: str) -> bytes:
    """An image carrying EXIF (an artist and a comment), an ICC profile and, where it can, XMP."""
    image = Image.new("RGB", (320, 480), (20, 120, 200))
    exif = Image.Exif()
    exif[0x013B] = SECRET_TEXT  # Artist
    exif[0x9286] = SECRET_TEXT  # UserComment
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    xmp = f'<x:xmpmeta xmlns:x="adobe:ns:meta/">{SECRET_TEXT}</x:xmpmeta>'.encode()
    extra = {"exif": exif.tobytes(), "icc_profile": icc}
    if fmt == "PNG":
        info = PngInfo()
        info.add_itxt("XML:com.adobe.xmp", xmp.decode())
        info.add_text("Comment", SECRET_TEXT)
        extra["pnginfo"] = info
    else:
        extra["xmp"] = xmp
    out = io.BytesIO()
    image.save(out, fmt, **extra)
    return out.getvalue()


def put_raw(client, book_id, data: bytes, headers, content_type="image/png"):
    return client.put(f"/books/{book_id}/cover", data=data, content_type=content_type, headers=headers)


def put_multipart(client, book_id, data: bytes, headers, name="file", filename="cover.bin"):
    return client.put(
        f"/books/{book_id}/cover",
        data={name: (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
        headers=headers,
    )


def served(client, url: str) -> Image.Image:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:200]
    assert response.mimetype == "image/jpeg"
    return Image.open(io.BytesIO(response.data))


@pytest.fixture
def a_book(book):
    return book(title="Covered", author="A. Painter")


def cover_rows() -> int:
    count = db.session.execute(sa.select(sa.func.count()).select_from(BookCover)).scalar_one()
    db.session.commit()
    return count


# --- uploads that work -----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", RAW_TYPES)
@pytest.mark.parametrize("how", ["raw", "multipart"])
def test_an_admin_uploads_jpeg_png_or_webp_raw_or_multipart(client, admin_headers, a_book, fmt, how):
    data = image_bytes(fmt, size=(1200, 1800))

    if how == "raw":
        response = put_raw(client, a_book.id, data, admin_headers, RAW_TYPES[fmt])
    else:
        response = put_multipart(client, a_book.id, data, admin_headers, filename=f"cover.{fmt.lower()}")

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["id"] == a_book.id and body["title"] == "Covered"
    assert body["cover_url"].startswith("/covers/") and body["cover_url"].endswith(".jpg")
    assert body["cover_thumbnail_url"].startswith("/covers/") and body["cover_thumbnail_url"] != body["cover_url"]
    cover, thumbnail = served(client, body["cover_url"]), served(client, body["cover_thumbnail_url"])
    assert cover.format == thumbnail.format == "JPEG"
    assert cover.size == COVER_BOX and thumbnail.size == THUMBNAIL_BOX
    red, green, blue = cover.convert("RGB").getpixel((300, 450))
    assert red > 180 and green < 60 and blue < 60  # the colour survives the conversions


def test_the_served_bytes_hash_to_the_digest_in_the_url(client, admin_headers, a_book):
    body = put_raw(client, a_book.id, image_bytes(), admin_headers).get_json()

    for url in (body["cover_url"], body["cover_thumbnail_url"]):
        digest = url.removeprefix("/covers/").removesuffix(".jpg")
        assert hashlib.sha256(client.get(url).data).hexdigest() == digest


def test_a_small_image_is_not_enlarged_and_keeps_its_shape(client, admin_headers, a_book):
    body = put_raw(client, a_book.id, image_bytes(size=(150, 100)), admin_headers).get_json()

    assert served(client, body["cover_url"]).size == (150, 100)
    assert served(client, body["cover_thumbnail_url"]).size == (150, 100)


def test_a_wide_image_fits_the_box_by_its_width(client, admin_headers, a_book):
    body = put_raw(client, a_book.id, image_bytes(size=(3000, 1000)), admin_headers).get_json()

    assert served(client, body["cover_url"]).size == (600, 200)
    assert served(client, body["cover_thumbnail_url"]).size == (200, 67)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_metadata_is_stripped(client, admin_headers, a_book, fmt):
    data = with_metadata(fmt)
    assert SECRET_TEXT.encode() in data  # the upload really carries it

    body = put_raw(client, a_book.id, data, admin_headers, RAW_TYPES[fmt]).get_json()

    for url in (body["cover_url"], body["cover_thumbnail_url"]):
        raw = client.get(url).data
        image = Image.open(io.BytesIO(raw))
        assert SECRET_TEXT.encode() not in raw
        assert not image.getexif()
        assert not {"exif", "icc_profile", "xmp", "XML:com.adobe.xmp", "comment"} & set(image.info)
        assert b"Exif" not in raw and b"ICC_PROFILE" not in raw and b"adobe:ns:meta" not in raw


def test_exif_orientation_is_applied_before_it_is_dropped(client, admin_headers, a_book):
    # Stored 300 wide and 100 high, left half red; EXIF orientation 6 says "rotate 90° clockwise to view".
    image = Image.new("RGB", (300, 100), (0, 0, 220))
    image.paste((220, 0, 0), (0, 0, 150, 100))
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), quality=95)

    body = put_raw(client, a_book.id, out.getvalue(), admin_headers, "image/jpeg").get_json()

    cover = served(client, body["cover_url"]).convert("RGB")
    assert cover.size == (100, 300)  # upright: taller than wide
    top, bottom = cover.getpixel((50, 20)), cover.getpixel((50, 280))
    assert top[0] > 180 and top[2] < 60, top  # the red half is now on top
    assert bottom[2] > 180 and bottom[0] < 60, bottom
    assert not served(client, body["cover_url"]).getexif()


def test_transparency_is_flattened_onto_white(client, admin_headers, a_book):
    image = Image.new("RGBA", (200, 300), (0, 0, 0, 0))
    image.paste((10, 150, 10, 255), (0, 0, 100, 300))
    out = io.BytesIO()
    image.save(out, "PNG")

    body = put_raw(client, a_book.id, out.getvalue(), admin_headers).get_json()

    cover = served(client, body["cover_url"])
    assert cover.mode == "RGB"
    assert min(cover.getpixel((180, 150))) > 240  # was transparent: white, not black
    assert cover.getpixel((20, 150))[1] > 120


@pytest.mark.parametrize(
    "mode, colour", [("L", 128), ("P", 3), ("CMYK", (0, 255, 255, 0)), ("I;16", 40000), ("LA", (90, 255))]
)
def test_other_pixel_modes_become_rgb(client, admin_headers, a_book, mode, colour):
    fmt = "JPEG" if mode == "CMYK" else "PNG"
    data = image_bytes(fmt, size=(60, 90), colour=colour, mode=mode)

    response = put_raw(client, a_book.id, data, admin_headers, "application/octet-stream")

    assert response.status_code == 200, response.get_json()
    assert served(client, response.get_json()["cover_url"]).mode == "RGB"


def test_the_declared_type_is_not_trusted_png_labelled_jpeg_works(client, admin_headers, a_book):
    response = put_raw(client, a_book.id, image_bytes("PNG"), admin_headers, "image/jpeg")

    assert response.status_code == 200
    assert served(client, response.get_json()["cover_url"]).format == "JPEG"


# --- uploads that are refused ----------------------------------------------------------------------


def _unchanged(client, book_id, before: dict) -> None:
    assert client.get(f"/books/{book_id}").get_json() == before
    assert cover_rows() == 0


@pytest.mark.parametrize(
    "data, content_type",
    [
        (b"hello, I am text", "image/png"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>', "image/png"),
        (image_bytes("GIF"), "image/png"),
        (image_bytes("GIF"), "application/octet-stream"),
        (image_bytes("BMP"), "image/jpeg"),
        (image_bytes("TIFF"), "image/webp"),
    ],
    ids=["text", "svg", "gif", "gif-octet-stream", "bmp", "tiff"],
)
def test_anything_but_jpeg_png_or_webp_is_415(client, admin_headers, a_book, data, content_type):
    before = client.get(f"/books/{a_book.id}").get_json()

    response = put_raw(client, a_book.id, data, admin_headers, content_type)

    body = assert_problem(response, 415)
    assert "JPEG, PNG or WebP" in body["detail"]
    _unchanged(client, a_book.id, before)


@pytest.mark.parametrize("content_type", ["image/gif", "text/plain", "application/json"])
def test_a_body_type_that_is_not_an_image_type_is_415(client, admin_headers, a_book, content_type):
    response = put_raw(client, a_book.id, image_bytes(), admin_headers, content_type)

    assert_problem(response, 415)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_a_truncated_image_is_400(client, admin_headers, a_book, fmt):
    image = Image.effect_noise((400, 600), 60).convert("RGB")
    out = io.BytesIO()
    image.save(out, fmt)
    data = out.getvalue()
    before = client.get(f"/books/{a_book.id}").get_json()

    response = put_raw(client, a_book.id, data[: len(data) // 2], admin_headers, RAW_TYPES[fmt])

    assert response.status_code in (400, 415), response.get_json()  # a WebP cut short may not even identify
    if response.status_code == 400:
        body = assert_problem(response, 400, "file")
        assert "does not decode" in body["errors"]["file"][0]
    _unchanged(client, a_book.id, before)


@pytest.mark.parametrize("fmt", RAW_TYPES)
def test_damaged_images_are_refused_or_stored_never_a_500(client, admin_headers, a_book, fmt):
    """Bytes changed at random in an image with EXIF and an ICC profile: each upload answers 200,
    400 or 415, whatever was hit (header, EXIF, profile, pixel data)."""
    base = with_metadata(fmt)
    rng = random.Random(f"covers-{fmt}")
    answers = Counter()
    for _ in range(60):
        damaged = bytearray(base)
        for _ in range(rng.randint(1, 8)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        response = put_raw(client, a_book.id, bytes(damaged), admin_headers, RAW_TYPES[fmt])
        answers[response.status_code] += 1
        if response.status_code == 200:
            assert served(client, response.get_json()["cover_url"]).size == (320, 480)

    assert set(answers) <= {200, 400, 415}, answers
    assert len(answers) >= 2, answers  # the damage reached more than one stage


def test_an_empty_body_is_400(client, admin_headers, a_book):
    assert_problem(put_raw(client, a_book.id, b"", admin_headers), 400, "file")


def _png_declaring(width: int, height: int) -> bytes:
    """A valid 1×1 PNG whose header is rewritten to declare width × height (a decompression bomb)."""
    data = bytearray(image_bytes("PNG", size=(1, 1)))
    ihdr = 8  # after the signature: length, b"IHDR", 13 bytes of header, CRC
    data[ihdr + 8 : ihdr + 16] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[ihdr + 4 : ihdr + 21]))
    data[ihdr + 21 : ihdr + 25] = struct.pack(">I", crc)
    return bytes(data)


@pytest.mark.parametrize("width, height", [(30000, 30000), (9000, 9000), (10001, 10), (2**31 - 1, 1)])
def test_a_decompression_bomb_is_refused_before_decoding(client, admin_headers, a_book, width, height):
    started = time.monotonic()

    response = put_raw(client, a_book.id, _png_declaring(width, height), admin_headers)

    elapsed = time.monotonic() - started
    body = assert_problem(response, 400, "file")
    assert "24,000,000 pixels and 10,000 on a side" in body["errors"]["file"][0]
    assert elapsed < 2, elapsed  # refused on the header: nothing was decoded


def test_a_real_deflate_bomb_within_the_pixel_limit_is_decoded_and_shrunk(client, admin_headers, a_book):
    data = image_bytes("PNG", size=(4000, 6000), colour=(0, 0, 0), optimize=True)
    assert len(data) < 200_000  # 24 MP of pixels in a small file

    response = put_raw(client, a_book.id, data, admin_headers)

    assert response.status_code == 200
    assert served(client, response.get_json()["cover_url"]).size == COVER_BOX


@pytest.mark.parametrize("how", ["raw", "multipart"])
def test_a_body_over_5_mib_is_413(client, admin_headers, a_book, how):
    data = b"\x89PNG" + b"\0" * MAX_UPLOAD_BYTES

    if how == "raw":
        response = put_raw(client, a_book.id, data, admin_headers)
    else:
        response = put_multipart(client, a_book.id, data, admin_headers)

    body = assert_problem(response, 413)
    assert str(MAX_UPLOAD_BYTES) in body["detail"]
    assert cover_rows() == 0


@pytest.mark.parametrize("size, status", [(None, 200), (MAX_UPLOAD_BYTES + 1, 413)])
def test_a_streamed_upload_without_content_length(client, admin_headers, a_book, size, status):
    data = image_bytes() if size is None else b"\x89PNG" + b"\0" * size

    response = client.put(
        f"/books/{a_book.id}/cover",
        input_stream=io.BytesIO(data),
        content_type="image/png",
        headers={**admin_headers, "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},  # what gunicorn sets for a chunked body
    )

    assert response.status_code == status, response.get_data(as_text=True)[:300]
    if status == 413:
        assert_problem(response, 413)
        assert cover_rows() == 0


def test_a_json_route_keeps_its_own_1_mib_limit(client, admin_headers):
    response = client.post(
        "/books", data=b'{"title": "' + b"x" * (1024 * 1024) + b'"}', content_type="application/json",
        headers=admin_headers,
    )  # fmt: skip

    body = assert_problem(response, 413)
    assert str(1024 * 1024) in body["detail"]


@pytest.mark.parametrize(
    "parts",
    [
        {"image": (io.BytesIO(image_bytes()), "c.png")},
        {"file": [(io.BytesIO(image_bytes()), "a.png"), (io.BytesIO(image_bytes()), "b.png")]},
        {"file": (io.BytesIO(image_bytes()), "c.png"), "note": "hello"},
        {"note": "no file"},
    ],
    ids=["wrong-name", "two-files", "extra-field", "no-file"],
)
def test_multipart_takes_exactly_one_part_named_file(client, admin_headers, a_book, parts):
    response = client.put(
        f"/books/{a_book.id}/cover", data=parts, content_type="multipart/form-data", headers=admin_headers
    )

    assert_problem(response, 400, "file")
    assert cover_rows() == 0


def test_only_an_admin_may_upload_or_remove(client, customer_headers, a_book):
    data = image_bytes()

    assert_problem(put_raw(client, a_book.id, data, {}), 401)
    assert_problem(put_raw(client, a_book.id, data, customer_headers), 403)
    assert_problem(client.delete(f"/books/{a_book.id}/cover"), 401)
    assert_problem(client.delete(f"/books/{a_book.id}/cover", headers=customer_headers), 403)
    assert cover_rows() == 0


@pytest.mark.parametrize("book_id", [999_999, 2**31 - 1])
def test_an_unknown_book_is_404(client, admin_headers, book_id):
    assert_problem(put_raw(client, book_id, image_bytes(), admin_headers), 404)
    assert_problem(client.delete(f"/books/{book_id}/cover", headers=admin_headers), 404)
    assert_problem(client.get(f"/books/{book_id}/cover"), 404)
    assert_problem(client.get(f"/books/{book_id}/cover/thumbnail"), 404)


def test_a_retired_book_is_404_and_its_images_are_no_longer_served(client, admin_headers, a_book):
    body = put_raw(client, a_book.id, image_bytes(), admin_headers).get_json()
    a_book.is_retired = True
    db.session.commit()

    assert_problem(put_raw(client, a_book.id, image_bytes(), admin_headers), 404)
    assert_problem(client.delete(f"/books/{a_book.id}/cover", headers=admin_headers), 404)
    assert_problem(client.get(f"/books/{a_book.id}/cover"), 404)
    assert_problem(client.get(body["cover_url"]), 404)


# --- serving ---------------------------------------------------------------------------------------


def test_content_addressed_images_are_immutable_with_a_strong_etag(client, admin_headers, a_book):
    url = put_raw(client, a_book.id, image_bytes(), admin_headers).get_json()["cover_url"]
    digest = url.removeprefix("/covers/").removesuffix(".jpg")

    first = client.get(url)
    again = client.get(url, headers={"If-None-Match": f'"{digest}"'})
    weak = client.get(url, headers={"If-None-Match": f'"other", W/"{digest}"'})
    other = client.get(url, headers={"If-None-Match": '"something-else"'})

    assert first.status_code == 200
    assert first.headers["ETag"] == f'"{digest}"'
    assert first.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert first.headers["Content-Type"] == "image/jpeg"
    assert first.headers["X-Content-Type-Options"] == "nosniff"
    assert int(first.headers["Content-Length"]) == len(first.data) > 0
    for not_modified in (again, weak):
        assert not_modified.status_code == 304 and not_modified.data == b""
        assert not_modified.headers["ETag"] == f'"{digest}"'
        assert not_modified.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert other.status_code == 200 and other.data == first.data


@pytest.mark.parametrize("path", ["/covers/" + "0" * 64 + ".jpg", "/covers/abc.jpg", "/covers/" + "A" * 64 + ".jpg"])
def test_an_unknown_or_malformed_digest_is_404(client, path):
    assert_problem(client.get(path), 404)


@pytest.mark.parametrize("kind, size", [("cover", COVER_BOX), ("thumbnail", THUMBNAIL_BOX)])
def test_the_stable_book_url_answers_the_current_image_with_a_short_max_age(client, admin_headers, a_book, kind, size):
    body = put_raw(client, a_book.id, image_bytes(size=(1200, 1800)), admin_headers).get_json()
    path = f"/books/{a_book.id}/cover" + ("/thumbnail" if kind == "thumbnail" else "")
    addressed = body["cover_url" if kind == "cover" else "cover_thumbnail_url"]
    digest = addressed.removeprefix("/covers/").removesuffix(".jpg")

    response = client.get(path)
    cached = client.get(path, headers={"If-None-Match": f'"{digest}"'})

    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert response.data == client.get(addressed).data
    assert Image.open(io.BytesIO(response.data)).size == size
    assert response.headers["ETag"] == f'"{digest}"'
    assert response.headers["Cache-Control"] == "public, max-age=60"
    assert cached.status_code == 304 and cached.data == b""


def test_a_book_without_a_cover_has_null_urls_and_no_image(client, a_book):
    document = client.get(f"/books/{a_book.id}").get_json()

    assert document["cover_url"] is None and document["cover_thumbnail_url"] is None
    body = assert_problem(client.get(f"/books/{a_book.id}/cover"), 404)
    assert body["detail"] == f"Book {a_book.id} has no cover."
    assert_problem(client.get(f"/books/{a_book.id}/cover/thumbnail"), 404)


def test_the_book_document_and_the_list_show_the_cover_at_once(client, app, admin_headers, a_book, monkeypatch):
    monkeypatch.setitem(app.config, "BOOKS_LIST_CACHE_SECONDS", 60)  # the list's cache is on, as in production
    listed_before = client.get("/books", query_string={"author": "A. Painter"}).get_json()["items"]
    assert listed_before[0]["cover_url"] is None

    uploaded = put_raw(client, a_book.id, image_bytes(), admin_headers).get_json()

    document = client.get(f"/books/{a_book.id}").get_json()
    listed = client.get("/books", query_string={"author": "A. Painter"}).get_json()["items"]
    paged = client.get("/books", query_string={"author": "A. Painter", "page": 1, "per_page": 5}).get_json()["items"]
    assert document == uploaded
    assert listed == paged == [document]
    assert document["updated_at"] >= listed_before[0]["updated_at"]


# --- replacing and removing ------------------------------------------------------------------------


def test_a_new_upload_replaces_the_cover_and_the_old_urls_are_gone(client, admin_headers, a_book):
    old = put_raw(client, a_book.id, image_bytes(colour=(200, 0, 0)), admin_headers).get_json()

    new = put_raw(client, a_book.id, image_bytes(colour=(0, 0, 200)), admin_headers).get_json()

    assert new["cover_url"] != old["cover_url"]
    assert_problem(client.get(old["cover_url"]), 404)
    assert_problem(client.get(old["cover_thumbnail_url"]), 404)
    assert served(client, new["cover_url"]).convert("RGB").getpixel((10, 10))[2] > 150
    assert cover_rows() == 2


def test_the_same_image_for_two_books_is_stored_for_each(client, admin_headers, book):
    first, second = book(title="One"), book(title="Two")
    data = image_bytes()
    url = put_raw(client, first.id, data, admin_headers).get_json()["cover_url"]
    assert put_raw(client, second.id, data, admin_headers).get_json()["cover_url"] == url

    assert client.delete(f"/books/{first.id}/cover", headers=admin_headers).status_code == 204

    assert client.get(url).status_code == 200  # still the second book's cover
    assert client.get(f"/books/{second.id}").get_json()["cover_url"] == url


def test_delete_removes_the_cover_and_answers_204_also_when_there_is_none(client, admin_headers, a_book):
    uploaded = put_raw(client, a_book.id, image_bytes(), admin_headers).get_json()

    first = client.delete(f"/books/{a_book.id}/cover", headers=admin_headers)
    second = client.delete(f"/books/{a_book.id}/cover", headers=admin_headers)

    assert first.status_code == second.status_code == 204 and first.data == second.data == b""
    document = client.get(f"/books/{a_book.id}").get_json()
    assert document["cover_url"] is None and document["cover_thumbnail_url"] is None
    assert_problem(client.get(uploaded["cover_url"]), 404)
    assert_problem(client.get(f"/books/{a_book.id}/cover"), 404)
    assert cover_rows() == 0


def test_deleting_a_book_deletes_its_cover(client, admin_headers, a_book):
    put_raw(client, a_book.id, image_bytes(), admin_headers)

    assert client.delete(f"/books/{a_book.id}", headers=admin_headers).status_code == 204

    assert cover_rows() == 0


# --- flask seed ------------------------------------------------------------------------------------


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def test_seed_draws_a_cover_for_every_demo_book_and_keeps_them(client, runner, admin_headers):
    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0, first.output
    assert f"demo covers: {len(DEMO_BOOKS)} drawn" in first.output
    items = client.get("/books", query_string={"per_page": 100}).get_json()["items"]
    demo = [b for b in items if b["title"] in {d[0] for d in DEMO_BOOKS}]
    assert len(demo) == len(DEMO_BOOKS)
    assert all(b["cover_url"] and b["cover_thumbnail_url"] for b in demo)
    cover = served(client, demo[0]["cover_url"])
    assert cover.size == COVER_BOX and len(cover.getcolors(maxcolors=100_000) or ()) > 2  # drawn text, not a flat fill
    assert served(client, demo[0]["cover_thumbnail_url"]).size == THUMBNAIL_BOX
    mine = put_raw(client, demo[1]["id"], image_bytes(), admin_headers).get_json()["cover_url"]
    before = {b["id"]: b["cover_url"] for b in client.get("/books", query_string={"per_page": 100}).get_json()["items"]}
    counts = row_counts()

    second = runner.invoke(args=["seed"])

    assert second.exit_code == 0, second.output
    assert "demo covers: 0 drawn" in second.output
    after = {b["id"]: b["cover_url"] for b in client.get("/books", query_string={"per_page": 100}).get_json()["items"]}
    assert after == before and after[demo[1]["id"]] == mine
    assert row_counts() == counts


def test_seed_draws_a_cover_again_for_a_demo_book_whose_cover_was_removed(client, runner, admin_headers):
    assert runner.invoke(args=["seed"]).exit_code == 0
    book_id = db.session.execute(sa.select(Book.id).where(Book.title == DEMO_BOOKS[0][0])).scalar_one()
    db.session.commit()
    assert client.delete(f"/books/{book_id}/cover", headers=admin_headers).status_code == 204

    result = runner.invoke(args=["seed"])

    assert "demo covers: 1 drawn" in result.output
    assert client.get(f"/books/{book_id}").get_json()["cover_url"]


def test_generated_catalogues_get_no_covers(client, runner):
    result = runner.invoke(args=["seed", "--books", "30", "--orders", "0"])

    assert result.exit_code == 0, result.output
    assert cover_rows() == 0
    items = client.get("/books", query_string={"per_page": 50}).get_json()["items"]
    assert len(items) == 30 and all(b["cover_url"] is None for b in items)


# --- the migration ---------------------------------------------------------------------------------


def _flask_db(url: str, *args: str) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "FLASK_APP": "run.py",
        "APP_ENV": "production",
        "SECRET_KEY": "migration-test-secret-key-" + "s" * 32,
        "JWT_SECRET_KEY": "migration-test-jwt-secret-key-" + "j" * 32,
    }
    subprocess.run(
        [str(VENV_BIN / "flask"), "db", *args], cwd=ROOT, env=env, check=True, capture_output=True, timeout=120
    )


def _check_up_down_up(url: str, engine: sa.Engine) -> None:
    _flask_db(url, "upgrade")
    assert "book_covers" in sa.inspect(engine).get_table_names()

    _flask_db(url, "downgrade", "0007")
    inspector = sa.inspect(engine)
    assert "book_covers" not in inspector.get_table_names()
    assert not {"cover_digest", "cover_thumbnail_digest"} & {c["name"] for c in inspector.get_columns("books")}
    with engine.begin() as conn:  # the per-genre counting triggers survived the downgrade
        conn.execute(sa.text("INSERT INTO books (title, author, genre, price, stock, is_retired, units_sold, "
                             "created_at, updated_at) VALUES ('T', 'A', 'Odes', 1, 1, false, 0, '2026-01-01', '2026-01-01')"))  # fmt: skip
        assert conn.execute(sa.text("SELECT books FROM book_counts WHERE genre = 'Odes'")).scalar_one() == 1

    _flask_db(url, "upgrade")
    inspector = sa.inspect(engine)
    assert "book_covers" in inspector.get_table_names()
    assert {"cover_digest", "cover_thumbnail_digest"} <= {c["name"] for c in inspector.get_columns("books")}


def test_the_migration_upgrades_and_downgrades_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'migrate.db'}"
    engine = sa.create_engine(url)
    try:
        _check_up_down_up(url, engine)
    finally:
        engine.dispose()


@pytest.mark.mysql_only
def test_the_migration_upgrades_and_downgrades_on_mariadb():
    if mysql_test_url() is None:
        pytest.skip("needs TEST_DATABASE_URL on MariaDB/MySQL")
    database = LiveDatabase("covers_migration")
    engine = database.create()
    try:
        _check_up_down_up(database.url.render_as_string(hide_password=False), engine)
    finally:
        database.drop()
