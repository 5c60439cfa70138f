#!/usr/bin/env python3
"""Cost of a cover: decoding and normalising uploads of several kinds, the encoders compared, and the
demo covers of `flask seed`. In process, no server or database; best of --repeat runs.

    .venv/bin/python bench/bench_covers.py
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.books.cover_images import decode, demo_cover, renditions  # noqa: E402
from app.books.seed import DEMO_BOOKS  # noqa: E402


def best_ms(work, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best * 1000


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    photo = Image.effect_noise((4000, 3000), 40).convert("RGB")
    uploads = {
        "4000x3000 photo-like JPEG": encoded(photo, "JPEG", quality=70),
        "2000x1500 photo-like PNG": encoded(photo.resize((2000, 1500)), "PNG"),
        "4000x6000 black PNG (24 MP, the largest accepted)": encoded(Image.new("RGB", (4000, 6000)), "PNG"),
        "1200x1800 WebP": encoded(photo.resize((1200, 1800)), "WEBP"),
    }
    print("upload: decode + normalise (cover and thumbnail)")
    for name, data in uploads.items():
        ms = best_ms(lambda data=data: renditions(decode(data)), args.repeat)
        print(f"  {name}: {len(data):,} bytes, {ms:.0f} ms")

    cover = demo_cover(*DEMO_BOOKS[0][:3])
    print("encoding the 600x900 demo cover")
    for name, fmt, options in (
        ("JPEG q85 progressive (stored)", "JPEG", {"quality": 85, "optimize": True, "progressive": True}),
        ("WebP q82 method 4", "WEBP", {"quality": 82, "method": 4}),
        ("WebP q82 method 0", "WEBP", {"quality": 82, "method": 0}),
    ):
        ms = best_ms(lambda fmt=fmt, options=options: encoded(cover, fmt, **options), args.repeat * 2)
        print(f"  {name}: {len(encoded(cover, fmt, **options)):,} bytes, {ms:.1f} ms")

    started = time.perf_counter()
    stored = [renditions(demo_cover(*book[:3])) for book in DEMO_BOOKS]
    elapsed = time.perf_counter() - started
    size = sum(len(r.data) for pair in stored for r in pair)
    print(f"the {len(DEMO_BOOKS)} demo covers drawn and normalised: {elapsed:.2f} s, {size:,} bytes stored")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
