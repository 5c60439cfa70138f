"""Cover images with Pillow: decode an upload (never trusting its declared type), normalise it into
the stored cover and thumbnail, and draw the demo covers of `flask seed`.

Every stored image is re-encoded here from decoded pixels: no metadata of the upload (EXIF, ICC
profile, XMP, text chunks) survives, the EXIF orientation is applied first, an ICC profile is
converted to sRGB, transparency is flattened onto white (a printed cover has none), and the result
is a progressive JPEG: every client shows it, and it encodes several times faster than WebP
(docs/decisions/0015-covers-in-the-database.md).
"""

import contextlib
import hashlib
import io
import struct
import textwrap
import zlib
from typing import NamedTuple

from PIL import Image, ImageCms, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

from app.books.models import COVER_KINDS
from app.errors import APIError, field_error

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
UPLOAD_FORMATS = ("JPEG", "PNG", "WEBP")
# Checked on the header, before any pixel is decoded: 24 MP (a 6000 x 4000 photo) at most, and
# 10,000 px on a side. Pillow's own bomb check (MAX_IMAGE_PIXELS, about 89 MP) comes later and
# higher; its warning and error are refused here all the same.
MAX_PIXELS = 24_000_000
MAX_SIDE = 10_000
PIXEL_RULE = f"at most {MAX_PIXELS:,} pixels and {MAX_SIDE:,} on a side are accepted"
COVER_BOX = (600, 900)
THUMBNAIL_BOX = (200, 300)
MEDIA_TYPE = "image/jpeg"
EXTENSION = "jpg"
JPEG_QUALITY = 85
BACKGROUND = (255, 255, 255)
FIELD = "file"

SRGB = ImageCms.createProfile("sRGB")
HIGH_BIT_MODES = ("I", "I;16", "I;16B", "I;16L", "I;16N", "F")
# What a damaged or hostile file raises while Pillow reads it (truncated data, bad chunk lengths,
# a zlib stream that does not end, text chunks over Pillow's limits, pixels past its bomb limit).
DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    struct.error,
    zlib.error,
    Image.DecompressionBombError,
    Image.DecompressionBombWarning,
)


def cover_url(digest: str | None) -> str | None:
    """The content-addressed URL of a stored image (served by app/books/cover_routes.py)."""
    return None if digest is None else f"/covers/{digest}.{EXTENSION}"


class UnsupportedImage(APIError):
    status = 415


class Rendition(NamedTuple):
    kind: str  # "cover" or "thumbnail"
    digest: str  # SHA-256 of `data`, hex
    media_type: str
    width: int
    height: int
    data: bytes


def decode(data: bytes) -> Image.Image:
    """The first frame of a JPEG, PNG or WebP image, decoded; 415 for another format, 400 for a
    file that does not decode or has more pixels than MAX_PIXELS / MAX_SIDE."""
    if not data:
        raise field_error(FIELD, "The image is empty.")
    try:
        image = Image.open(io.BytesIO(data), formats=UPLOAD_FORMATS)
    except UnidentifiedImageError:
        raise UnsupportedImage("The file is not a JPEG, PNG or WebP image.") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise field_error(FIELD, f"The image declares far more pixels than {PIXEL_RULE}.") from None
    except DECODE_ERRORS:
        raise field_error(FIELD, "The image is damaged and does not decode.") from None
    width, height = image.size
    if width < 1 or height < 1 or width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
        raise field_error(FIELD, f"The image is {width}×{height} pixels; {PIXEL_RULE}.")
    try:
        # A large JPEG is decoded at a reduced scale that still covers the cover's box.
        side = max(COVER_BOX)
        image.draft(image.mode, (side, side))
        image.load()
        ImageOps.exif_transpose(image, in_place=True)
        return image
    except DECODE_ERRORS:
        raise field_error(FIELD, f"The {image.format} image is damaged or truncated and does not decode.") from None


def _to_srgb(image: Image.Image) -> Image.Image:
    """RGB pixels in sRGB: an RGB or CMYK image's ICC profile converted (then dropped),
    transparency flattened onto white, 16-bit and float greys scaled to 8 bits."""
    icc = image.info.get("icc_profile")
    if image.mode in HIGH_BIT_MODES:
        image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    if icc and image.mode in ("RGB", "CMYK"):
        # An unreadable profile leaves the pixels as they are, taken as sRGB.
        with contextlib.suppress(ImageCms.PyCMSError, OSError, ValueError):
            image = ImageCms.profileToProfile(image, ImageCms.ImageCmsProfile(io.BytesIO(icc)), SRGB, outputMode="RGB")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, BACKGROUND)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image if image.mode == "RGB" else image.convert("RGB")  # no copy of pixels already RGB


def _encode(image: Image.Image, kind: str) -> Rendition:
    image.info = {}  # nothing of the source's metadata (EXIF, ICC, XMP, comments) reaches the encoder
    out = io.BytesIO()
    image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    data = out.getvalue()
    return Rendition(kind, hashlib.sha256(data).hexdigest(), MEDIA_TYPE, image.width, image.height, data)


def renditions(image: Image.Image) -> tuple[Rendition, Rendition]:
    """The stored cover (within COVER_BOX, never enlarged) and its thumbnail (within THUMBNAIL_BOX).
    `image` is resized in place: it is the caller's own, just decoded or drawn."""
    cover = _to_srgb(image)
    cover.thumbnail(COVER_BOX, Image.Resampling.LANCZOS)
    thumbnail = cover.copy()
    thumbnail.thumbnail(THUMBNAIL_BOX, Image.Resampling.LANCZOS)
    cover_kind, thumbnail_kind = COVER_KINDS
    return _encode(cover, cover_kind), _encode(thumbnail, thumbnail_kind)


# --- the demo covers -------------------------------------------------------------------------------

# Background and text colours per genre (text contrast at least 4.5:1 on its background).
GENRE_COLOURS = {
    "Fiction": ((31, 58, 95), (250, 244, 230)),
    "Romance": ((122, 28, 58), (255, 236, 240)),
    "Mystery": ((28, 36, 48), (240, 200, 90)),
    "Horror": ((20, 20, 20), (240, 80, 80)),
    "Science Fiction": ((10, 60, 70), (150, 240, 230)),
    "Historical Fiction": ((92, 58, 30), (250, 232, 200)),
    "Poetry": ((70, 40, 100), (245, 230, 255)),
    "Philosophy": ((40, 70, 50), (235, 245, 220)),
    "Science": ((20, 50, 110), (230, 240, 255)),
    "Children's": ((250, 210, 60), (60, 30, 10)),
    "Business": ((50, 55, 60), (255, 255, 255)),
}
DEFAULT_COLOURS = ((60, 60, 80), (245, 245, 245))
TITLE_WIDTH = 16  # characters per line of the title
TITLE_SIZE = 56
TITLE_LINES = 7  # more would reach the author line
AUTHOR_SIZE = 34


def demo_cover(title: str, author: str, genre: str | None) -> Image.Image:
    """A plain cover: the title (wrapped) and the author on the genre's colour, with a rule between."""
    background, ink = GENRE_COLOURS.get(genre or "", DEFAULT_COLOURS)
    width, height = COVER_BOX
    image = Image.new("RGB", COVER_BOX, background)
    draw = ImageDraw.Draw(image)
    margin = 48
    draw.rectangle((margin // 2, margin // 2, width - margin // 2, height - margin // 2), outline=ink, width=4)
    title_font = ImageFont.load_default(size=TITLE_SIZE)
    author_font = ImageFont.load_default(size=AUTHOR_SIZE)
    lines = textwrap.wrap(title, TITLE_WIDTH, max_lines=TITLE_LINES, placeholder=" …") or [title]
    y = margin * 3
    for line in lines:
        draw.text((width // 2, y), line, font=title_font, fill=ink, anchor="ma")
        y += int(TITLE_SIZE * 1.25)
    y += 24
    draw.line((width // 3, y, 2 * width // 3, y), fill=ink, width=3)
    draw.text((width // 2, height - margin * 3), author, font=author_font, fill=ink, anchor="ms")
    return image
