"""Uploads are checked by what they contain, not by the name the sender gave them."""
import io

from app.catalog.builder import check_uploads
from werkzeug.datastructures import FileStorage

SPEC = {"code": "photo", "kind": "file", "accept": ["jpg", "png", "pdf"], "max_size_mb": 1}


def _upload(data: bytes, name: str) -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=name)


def test_real_files_pass_and_renamed_ones_do_not(app):
    with app.test_request_context():
        assert check_uploads(SPEC, [_upload(b"\x89PNG\r\n\x1a\n" + b"\0" * 32, "a.png")])
        assert check_uploads(SPEC, [_upload(b"\xff\xd8\xff\xe0\0\x10JFIF\0" + b"\0" * 32, "a.jpg")])
        assert check_uploads(SPEC, [_upload(b"%PDF-1.7\n", "a.pdf")])
        for data, name in ((b"MZ\x90\0" + b"\0" * 60, "a.png"), (b"<html><script>", "a.pdf"),
                           (b"\x89PNG\r\n\x1a\n" + b"\0" * 32, "a.exe")):
            try:
                check_uploads(SPEC, [_upload(data, name)])
            except ValueError as exc:
                assert name in str(exc)
            else:
                raise AssertionError(f"{name} passed")
        try:
            check_uploads(SPEC, [_upload(b"%PDF-1.7\n" + b"\0" * (1024 * 1024 + 1), "big.pdf")])
        except ValueError as exc:
            assert "big.pdf" in str(exc)
        else:
            raise AssertionError("a file over the limit passed")
