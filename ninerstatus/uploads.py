"""The image store: pictures staff add to posts, checked, re-encoded and kept by their content's hash.

An upload is read by Pillow whatever its name or declared type says, and only
PNG, JPEG, GIF and WebP are taken (never SVG: an SVG is a document that can
carry script). Its pixels are then written out again as a new file, so nothing
but the picture survives: EXIF (camera, place, time), text chunks, colour
profiles and anything appended after the image's end (a ZIP, HTML or script
hidden behind a valid PNG) are gone. A JPEG's EXIF orientation is applied to
the pixels first, so a phone photo stands the right way up without it.

- JPEG stays JPEG and WebP stays WebP (both re-encoded at a high quality);
  PNG and GIF become PNG. An animated GIF or WebP keeps its first frame only:
  posts show a situation, not a clip, and a frame count cannot multiply the
  memory an upload takes.
- ``UPLOAD_MAX_BYTES`` bounds the upload and ``UPLOAD_MAX_PIXELS`` the picture,
  checked from its header before any pixel is decoded, so a small file that
  unpacks into gigabytes (a decompression bomb) is refused cheaply.
- The file's name is the hash of what was written (``<32 hex>.<png|jpg|webp>``),
  so the same picture added twice is one file, a name says nothing about the
  post it is in, and a file never changes once named: it may be cached for good.
- Files live in ``UPLOAD_FOLDER``, by default ``uploads`` in the instance
  folder, created on the first upload. Nothing else is written there, and only
  names of the form above are ever served from it (see public/uploads.py).
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image, ImageOps, UnidentifiedImageError

if TYPE_CHECKING:
    from flask import Flask

#: Where the site serves stored images (see public/uploads.py and the sanitiser in markup.py).
UPLOADS_PATH = "/uploads/"
#: A stored file's name: the first 128 bits of its SHA-256, and the extension of its format.
NAME_PATTERN = r"[0-9a-f]{32}\.(?:png|jpg|webp)"
_NAME_RE = re.compile(rf"\A{NAME_PATTERN}\Z")

#: Formats taken (Pillow's names for its readers).
TAKEN_FORMATS = ("PNG", "GIF", "JPEG", "WEBP")
#: The format each picture read is stored in. MPO is what Pillow's JPEG reader makes of a camera's
#: JPEG that holds further pictures (only the first is kept).
STORED_AS = {"PNG": "PNG", "GIF": "PNG", "JPEG": "JPEG", "MPO": "JPEG", "WEBP": "WEBP"}
EXTENSIONS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}
MEDIA_TYPES = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}
# A quality high enough that a screenshot's text stays crisp (the pixels were compressed once
# already). Optimising a PNG costs a tenth more time for a hundredth less size; a JPEG's is cheap.
_SAVE_OPTIONS = {"PNG": {}, "JPEG": {"quality": 90, "optimize": True}, "WEBP": {"quality": 90}}
ACCEPTED_NOTE = "Use a PNG, JPEG, GIF or WebP image."


class ImageRefused(ValueError):
    """An upload that is not stored; ``str()`` says why, for the writer, and ``status`` is the HTTP answer."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class StoredImage:
    """A picture in the store: its file name and its size in pixels."""

    name: str
    width: int
    height: int


def is_stored_name(name: str) -> bool:
    """True for a name the store could have written; nothing else is ever looked up."""
    return bool(_NAME_RE.match(name))


def uploads_folder(app: Flask) -> Path:
    """The folder ``app`` keeps images in: ``UPLOAD_FOLDER``, or ``uploads`` in its instance folder."""
    configured = app.config.get("UPLOAD_FOLDER")
    return Path(configured) if configured else Path(app.instance_path) / "uploads"


def store_image(data: bytes, folder: Path, *, max_bytes: int, max_pixels: int) -> StoredImage:
    """Check ``data``, re-encode it and keep it in ``folder``; ``ImageRefused`` says why not.

    Safe to call from any number of threads and processes at once: a file is
    written under a temporary name and renamed into place, and two uploads of
    the same picture write the same bytes under the same name.
    """
    if len(data) > max_bytes:
        raise ImageRefused(too_large(max_bytes), 413)
    if not data:
        raise ImageRefused("The file is empty.", 422)
    encoded, fmt, size = reencode(data, max_pixels)
    name = hashlib.sha256(encoded).hexdigest()[:32] + "." + EXTENSIONS[fmt]
    _write_once(folder, name, encoded)
    return StoredImage(name, *size)


def too_large(max_bytes: int) -> str:
    """What the writer is told about an upload over ``max_bytes``."""
    return f"The image is larger than {describe_bytes(max_bytes)}; make it smaller first."


def reencode(data: bytes, max_pixels: int) -> tuple[bytes, str, tuple[int, int]]:
    """The picture in ``data`` written out anew: its bytes, Pillow's format name and its size."""
    too_many = f"more than the {max_pixels:,} pixels this site takes; make it smaller first."
    try:
        with warnings.catch_warnings():
            # Pillow warns of (and past twice its own limit refuses) huge images; ours is lower.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=TAKEN_FORMATS) as image:
                fmt = STORED_AS[image.format]
                width, height = image.size
                if width * height > max_pixels:
                    raise ImageRefused(f"The image is {width} × {height} pixels, {too_many}", 413)
                ImageOps.exif_transpose(image, in_place=True)
                pixels = _plain_pixels(image, fmt)
    except UnidentifiedImageError:
        raise ImageRefused(_not_an_image(data), 415) from None
    except ImageRefused:
        raise
    except Image.DecompressionBombError:
        raise ImageRefused(f"The image has {too_many}", 413) from None
    except Exception:  # noqa: BLE001  (a hostile file can make Pillow's readers raise almost anything)
        raise ImageRefused("The image could not be read: the file may be cut short or damaged.", 422) from None
    out = io.BytesIO()
    pixels.save(out, fmt, **_SAVE_OPTIONS[fmt])
    return out.getvalue(), fmt, pixels.size


def _plain_pixels(image: Image.Image, fmt: str) -> Image.Image:
    """A new image holding only ``image``'s pixels, in a mode ``fmt`` stores: no metadata comes along."""
    alpha = fmt != "JPEG" and (image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info)
    if image.mode in ("1", "L", "LA"):
        mode = "LA" if alpha else "L"
    else:
        mode = "RGBA" if alpha else "RGB"
    clean = Image.new(mode, image.size)
    clean.paste(image.convert(mode) if image.mode != mode else image)
    return clean


def _not_an_image(data: bytes) -> str:
    head = data[:512].lstrip().lower()
    if head.startswith((b"<svg", b"<?xml")) or b"<svg" in head:
        return "SVG images are not taken: they can carry scripts. " + ACCEPTED_NOTE
    return "This file is not an image the site takes. " + ACCEPTED_NOTE


def _write_once(folder: Path, name: str, data: bytes) -> None:
    target = folder / name
    if target.exists():
        return
    folder.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".incoming-")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def describe_bytes(size: int) -> str:
    """``size`` for people: ``5 MiB``, ``512 KiB``."""
    for unit, scale in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if size >= scale:
            return f"{size / scale:g} {unit}"
    return f"{size} bytes"
