"""Images staff add to posts: taken only as real PNG, JPEG, GIF or WebP pictures, re-encoded so nothing
but the pixels is kept, stored once by content, and served back safely to anyone with the address."""
from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from PIL import Image

from ninerstatus.uploads import uploads_folder

from .accounts import csrf_token_in

UPLOAD_URL = "/admin/uploads"


def picture(fmt: str, size=(64, 48), colour="teal", mode="RGB", **options) -> bytes:
    """A small picture of one colour in ``fmt``, as a camera or screenshot tool would write it."""
    out = io.BytesIO()
    Image.new(mode, size, colour).save(out, fmt, **options)
    return out.getvalue()


def token_for(client) -> str:
    """The CSRF token the post editor page carries."""
    return csrf_token_in(client.get("/admin/posts/new").get_data(as_text=True))


def upload(client, data: bytes, *, token: str | None = None, **headers):
    """Send ``data`` to the upload route as the editor does: the bytes as the body, the token in a header."""
    sent = {"Accept": "application/json", "X-CSRFToken": token if token is not None else token_for(client), **headers}
    return client.post(UPLOAD_URL, data=data, headers=sent, content_type="application/octet-stream")


def stored_files(app) -> list[Path]:
    """Every file in the image store (none when it was never created)."""
    folder = uploads_folder(app)
    return sorted(folder.iterdir()) if folder.exists() else []


def stored(app, response) -> bytes:
    """The bytes the store kept for an accepted upload."""
    assert response.status_code == 201, response.get_json()
    name = response.get_json()["url"].rsplit("/", 1)[1]
    return (uploads_folder(app) / name).read_bytes()


@pytest.mark.parametrize(("fmt", "extension"), [("PNG", "png"), ("JPEG", "jpg"), ("GIF", "png"), ("WEBP", "webp")])
def test_each_taken_format_is_stored_and_answered_with_its_address(app, auth, client, fmt, extension):
    auth.login_editor()
    response = upload(client, picture(fmt))
    assert response.status_code == 201
    answer = response.get_json()
    assert answer["url"].startswith("/uploads/") and answer["url"].endswith("." + extension)
    assert (answer["width"], answer["height"]) == (64, 48)
    with Image.open(io.BytesIO(stored(app, response))) as image:
        assert image.size == (64, 48)
        assert image.convert("RGB").getpixel((10, 10)) == pytest.approx((0, 128, 128), abs=8)  # JPEG and WebP are lossy


def test_the_store_is_created_in_the_instance_folder_on_first_use(app, auth, client):
    assert not (Path(app.instance_path) / "uploads").exists()
    auth.login()
    stored(app, upload(client, picture("PNG")))
    assert [path.parent for path in stored_files(app)] == [Path(app.instance_path) / "uploads"]


def test_a_jpeg_loses_its_exif_and_keeps_its_orientation(app, auth, client):
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"      # Make
    exif[0x0131] = "Leaky Editor 1.0"  # Software
    exif[0x0112] = 6                # Orientation: the camera was held on its side
    original = picture("JPEG", size=(80, 40), exif=exif.tobytes())
    assert b"SecretCam" in original
    auth.login()
    response = upload(client, original)
    kept = stored(app, response)
    assert b"SecretCam" not in kept and b"Leaky" not in kept and b"Exif" not in kept
    with Image.open(io.BytesIO(kept)) as image:
        assert not image.getexif()
        assert image.size == (40, 80)   # turned upright, so no orientation tag is needed
    assert (response.get_json()["width"], response.get_json()["height"]) == (40, 80)


def test_png_text_chunks_are_dropped(app, auth, client):
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Comment", "internal hostname db7.corp.example")
    original = picture("PNG", pnginfo=info)
    assert b"db7.corp" in original
    auth.login()
    assert b"db7.corp" not in stored(app, upload(client, original))


@pytest.mark.parametrize("payload", [
    b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"evil.html" + b"\x00" * 20,
    b"<html><script>alert(document.cookie)</script></html>",
    b"/*\n*/alert('polyglot');//",
], ids=["zip", "html", "javascript"])
def test_a_payload_appended_to_a_valid_png_is_not_stored(app, auth, client, payload):
    polyglot = picture("PNG") + payload
    auth.login()
    kept = stored(app, upload(client, polyglot))
    assert payload not in kept and b"alert" not in kept and b"PK\x03\x04" not in kept
    assert kept.endswith(b"IEND\xaeB`\x82")


def test_the_same_picture_twice_is_one_file(app, auth, client):
    auth.login()
    first = upload(client, picture("PNG")).get_json()["url"]
    again = upload(client, picture("PNG")).get_json()["url"]
    other = upload(client, picture("PNG", colour="orange")).get_json()["url"]
    assert first == again != other
    assert len(stored_files(app)) == 2


def test_an_animated_gif_keeps_its_first_frame_only(app, auth, client):
    frames = [Image.new("RGB", (32, 32), colour) for colour in ("red", "blue", "green")]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    auth.login()
    response = upload(client, out.getvalue())
    assert response.get_json()["url"].endswith(".png")
    with Image.open(io.BytesIO(stored(app, response))) as image:
        assert getattr(image, "n_frames", 1) == 1
        assert image.convert("RGB").getpixel((5, 5)) == (255, 0, 0)


def test_a_file_that_is_not_an_image_is_refused_whatever_its_name_or_type(app, auth, client):
    auth.login()
    response = upload(client, b"Just some notes, not a picture.\n", **{"Content-Type": "image/png"})
    assert response.status_code == 415
    assert "not an image" in response.get_json()["error"]
    assert stored_files(app) == []


@pytest.mark.parametrize("svg", [
    b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
])
def test_an_svg_is_refused(app, auth, client, svg):
    auth.login()
    response = upload(client, svg)
    assert response.status_code == 415
    assert "SVG" in response.get_json()["error"]
    assert stored_files(app) == []


@pytest.mark.parametrize("fmt", ["BMP", "TIFF"])
def test_other_image_formats_are_refused(app, auth, client, fmt):
    auth.login()
    response = upload(client, picture(fmt))
    assert response.status_code == 415
    assert "PNG, JPEG, GIF or WebP" in response.get_json()["error"]


def test_a_cut_short_image_is_refused(app, auth, client):
    auth.login()
    response = upload(client, picture("PNG", size=(300, 300), colour="white")[:120])
    assert response.status_code == 422
    assert "damaged" in response.get_json()["error"]
    assert stored_files(app) == []


def test_an_empty_upload_is_refused(app, auth, client):
    auth.login()
    response = upload(client, b"")
    assert response.status_code == 422   # 400 is kept for a refused token: the editor then asks for a reload
    assert "empty" in response.get_json()["error"]


def test_a_small_file_of_too_many_pixels_is_refused_before_it_is_unpacked(app, auth, client):
    bomb = picture("PNG", size=(10_000, 10_000), mode="1", colour=0)   # 100 million pixels in a few kB
    assert len(bomb) < 100_000
    auth.login()
    response = upload(client, bomb)
    assert response.status_code == 413
    assert "10000 × 10000 pixels" in response.get_json()["error"]
    assert stored_files(app) == []


class TestLimitsFromSettings:
    @pytest.fixture
    def app_config(self):
        return {"UPLOAD_MAX_BYTES": 4000, "UPLOAD_MAX_PIXELS": 10_000}

    def test_an_image_over_the_byte_limit_is_refused_with_a_clear_message(self, app, auth, client):
        auth.login()
        noise = Image.frombytes("RGB", (50, 50), os.urandom(50 * 50 * 3))
        out = io.BytesIO()
        noise.save(out, "PNG")
        assert len(out.getvalue()) > 4000
        response = upload(client, out.getvalue())
        assert response.status_code == 413
        assert response.get_json() == {"error": "The image is larger than 3.90625 KiB; make it smaller first."}
        assert stored_files(app) == []

    def test_an_image_over_the_pixel_limit_is_refused(self, app, auth, client):
        auth.login()
        response = upload(client, picture("PNG", size=(101, 100)))
        assert response.status_code == 413
        assert "101 × 100 pixels" in response.get_json()["error"]
        assert upload(client, picture("PNG", size=(100, 100))).status_code == 201


def test_an_image_larger_than_a_form_is_taken_up_to_the_upload_limit(app, auth, client):
    noise = Image.frombytes("RGB", (1000, 1000), os.urandom(1000 * 1000 * 3))
    out = io.BytesIO()
    noise.save(out, "PNG")
    assert app.config["MAX_CONTENT_LENGTH"] < len(out.getvalue()) < app.config["UPLOAD_MAX_BYTES"]
    auth.login()
    assert upload(client, out.getvalue()).status_code == 201


@pytest.mark.parametrize("chunked", [False, True], ids=["with a length", "chunked"])
def test_a_huge_upload_is_refused_before_it_is_read(app, auth, client, chunked):
    huge = picture("PNG") + b"\x00" * (6 * 1024 * 1024)
    auth.login()
    token = token_for(client)
    headers = {"Accept": "application/json", "X-CSRFToken": token}
    if chunked:
        # As granian passes a chunked body on: no length, and its word that it ends the body itself.
        sent = {"input_stream": io.BytesIO(huge), "headers": {**headers, "Transfer-Encoding": "chunked"},
                "environ_overrides": {"wsgi.input_terminated": True, "CONTENT_LENGTH": ""}}
    else:
        sent = {"data": huge, "headers": headers}
    response = client.post(UPLOAD_URL, content_type="application/octet-stream", **sent)
    assert response.status_code == 413
    assert response.get_json() == {"error": "The image is larger than 5 MiB; make it smaller first."}
    assert stored_files(app) == []


def test_other_staff_forms_keep_their_own_body_limit(app, auth, client):
    auth.login()
    response = client.post("/admin/posts/new", data={"csrf_token": token_for(client), "title": "Big",
                                                     "body": "x" * (3 * 1024 * 1024)})
    assert response.status_code == 413


@pytest.mark.parametrize("token", [None, "", "forged.token.value"], ids=["missing", "empty", "forged"])
def test_an_upload_without_a_valid_csrf_token_is_refused(app, auth, client, token):
    auth.login()
    headers = {"Accept": "application/json"}
    if token is not None:
        headers["X-CSRFToken"] = token
    response = client.post(UPLOAD_URL, data=picture("PNG"), headers=headers, content_type="application/octet-stream")
    assert response.status_code == 400
    assert stored_files(app) == []


def test_signed_out_visitors_cannot_upload(app, auth, client):
    token = csrf_token_in(client.get("/admin/login").get_data(as_text=True))
    response = upload(client, picture("PNG"), token=token)
    assert response.status_code == 401
    assert "sign in" in response.get_json()["error"]
    plain = client.post(UPLOAD_URL, data=picture("PNG"), headers={"X-CSRFToken": token},
                        content_type="application/octet-stream")
    assert plain.status_code == 302 and "/admin/login" in plain.headers["Location"]
    assert stored_files(app) == []


def test_an_image_is_served_to_anyone_with_safe_headers(app, auth, client):
    auth.login()
    response = upload(client, picture("JPEG"))
    url = response.get_json()["url"]
    served = app.test_client().get(url)
    assert served.status_code == 200
    assert served.data == stored(app, response)
    assert served.headers["Content-Type"] == "image/jpeg"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Disposition"] == "inline"
    policy = served.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy
    assert "script-src" not in policy
    cache = served.headers["Cache-Control"]
    assert "max-age=31536000" in cache and "immutable" in cache
    assert "public" not in cache and "no-store" not in cache


def test_a_png_and_a_webp_are_served_with_their_own_types(app, auth, client):
    auth.login()
    for fmt, media_type in (("PNG", "image/png"), ("WEBP", "image/webp")):
        url = upload(client, picture(fmt)).get_json()["url"]
        assert app.test_client().get(url).headers["Content-Type"] == media_type


def test_only_names_the_store_writes_are_served(app, auth, client):
    auth.login()
    url = upload(client, picture("PNG")).get_json()["url"]
    folder = uploads_folder(app)
    (folder / "notes.txt").write_text("not for visitors")
    (folder / "0123456789abcdef0123456789abcdef.html").write_text("<script>alert(1)</script>")
    (Path(app.instance_path) / "secret.png").write_bytes(picture("PNG"))
    visitor = app.test_client()
    name = url.rsplit("/", 1)[1]
    for address in ("/uploads/notes.txt", "/uploads/0123456789abcdef0123456789abcdef.html",
                    "/uploads/..%2Fsecret.png", "/uploads/../secret.png", "/uploads/%2e%2e/secret.png",
                    "/uploads/" + name.upper(), "/uploads/" + name + "%00",
                    "/uploads/ffffffffffffffffffffffffffffffff.png",
                    "/uploads/" + name[:-4] + ".jpg", "/uploads/", "/uploads/" + name + "/x"):
        assert visitor.get(address).status_code == 404, address
    assert visitor.get(url).status_code == 200
