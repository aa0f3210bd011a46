"""Attaching photos: content-addressed blobs beside the database, recorded through the write path.

A photo is stored once by its SHA-256 under ``blob_dir_for(db)/ab/cdef…`` (written to a temp
file, then renamed, so a crash never leaves a half blob under a real name), gets an
``attachment`` row, and is then added to the photo field's value
``[{"sha256", "size", "mime", "caption"}]`` by ``save_answers`` like any other answer.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from surveyor.errors import SurveyorError, cannot_read
from surveyor.forms.display import photo_text
from surveyor.forms.model import CompiledField, Form
from surveyor.paths import blob_dir_for
from surveyor.services.survey import BuildingState, SaveResult, get_building, save_answers
from surveyor.store import blobs as store_blobs
from surveyor.store import models
from surveyor.store.db import Store, write_tx
from surveyor.text import normalize_free_text

ATTACHMENT = models.ATTACHMENT_TABLE
#: Photos larger than this are refused (a phone photo is 2–8 MB).
MAX_PHOTO_BYTES = 64 * 1024 * 1024
#: Photo formats by their first bytes (offset, magic): cameras, phones (HEIC) and screenshots.
_SNIFF = (
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"GIF8", "image/gif"),
    (8, b"WEBP", "image/webp"),
    (4, b"ftypheic", "image/heic"),
    (4, b"ftypheix", "image/heic"),
    (4, b"ftypmif1", "image/heif"),
    (4, b"ftypmsf1", "image/heif"),
)


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int
    mime: str
    path: Path


def blob_path(store: Store, sha256: str) -> Path:
    """Where the blob with this hash lives for this (SQLite) database."""
    if not store.is_sqlite:
        raise SurveyorError(
            "photos can only be attached on a laptop (SQLite) database",
            zh="照片只能添加到笔记本上的（SQLite）数据库",
        )
    return store_blobs.blob_path(blob_dir_for(Path(store.target)), sha256)


def _image_type(head: bytes) -> str | None:
    """The photo's MIME type from its first bytes, or None when it is not a photo."""
    for offset, magic, mime in _SNIFF:
        if head[offset : offset + len(magic)] == magic:
            return mime
    return None


@dataclass(frozen=True)
class PhotoFile:
    """A photo read and checked, not stored yet."""

    data: bytes
    sha256: str
    mime: str


def check_photo_file(source: Path) -> str:
    """Check ``source`` is a readable photo of a sensible size from its size and first bytes
    (cheap: the app asks before closing the dialog, so a wrong file can be corrected there);
    returns its MIME type."""
    try:
        if not source.exists():  # a mistyped path: "not a file" read as a wrong kind of file
            raise SurveyorError(f"{source} not found", zh=f"找不到 {source}")
        if not source.is_file():
            raise SurveyorError(f"{source} is not a file", zh=f"{source} 不是文件")
        if source.stat().st_size > MAX_PHOTO_BYTES:
            raise SurveyorError(
                f"{source} is larger than {MAX_PHOTO_BYTES // 2**20} MB",
                zh=f"{source} 超过 {MAX_PHOTO_BYTES // 2**20} MB",
            )
        with source.open("rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise cannot_read(source, exc) from None
    mime = _image_type(head)
    if mime is None:  # a document or a shortcut picked by mistake would travel to every laptop
        raise SurveyorError(
            f"{source.name} is not a photo (JPEG, PNG, WebP, HEIC or GIF)",
            zh=f"{source.name} 不是照片（应为 JPEG、PNG、WebP、HEIC 或 GIF）",
        )
    return mime


def read_photo(source: Path) -> PhotoFile:
    """Read ``source`` and check it is a whole photo of a sensible size (nothing is written)."""
    mime = check_photo_file(source)
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise cannot_read(source, exc) from None
    require_whole_image(source, data, mime)
    return PhotoFile(data, hashlib.sha256(data).hexdigest(), mime)


#: Formats Pillow decodes. HEIC/HEIF need a plugin Surveyor does not ship: only sniffed.
_DECODED = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})


def require_whole_image(source: Path, data: bytes, mime: str) -> None:
    """Refuse a photo whose image does not decode (a truncated or half-copied file): it was
    saved, synced to every laptop, and each printed sheet said 照片无法读取. A JPEG is decoded
    at an eighth of its size (Pillow's draft mode): a truncated one still fails, and a 9 MB
    photo costs about half of a full decode. Runs in the save thread, not the dialog."""
    if mime not in _DECODED:
        return
    from PIL import Image  # reportlab's dependency; imported only when a photo is added

    try:
        with Image.open(io.BytesIO(data)) as img:
            img.draft("RGB", (max(1, img.width // 8), max(1, img.height // 8)))
            img.load()
    except Image.DecompressionBombError:
        return  # a very large panorama is whole; it is not decoded here
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError … on bad data
        raise SurveyorError(
            f"{source.name} is damaged or cut short (its picture cannot be read); copy it "
            "again from the camera or phone",
            zh=f"{source.name} 已损坏或不完整（无法读取其中的图像）；请从相机或手机重新复制",
        ) from exc


def store_blob(store: Store, photo: PhotoFile) -> StoredBlob:
    """Copy a photo into the blob folder by content hash and record its ``attachment`` row."""
    data, sha, mime = photo.data, photo.sha256, photo.mime
    target = blob_path(store, sha)
    if not target.exists():
        store_blobs.write_blob(blob_dir_for(Path(store.target)), sha, data)
    with write_tx(store.engine) as conn:
        known = conn.execute(
            sa.select(ATTACHMENT.c.sha256).where(ATTACHMENT.c.sha256 == sha)
        ).first()
        if known is None:
            conn.execute(
                sa.insert(ATTACHMENT),
                [{"sha256": sha, "size": len(data), "mime": mime, "stored": True}],
            )
    return StoredBlob(sha, len(data), mime, target)


def check_room_for_photo(fld: CompiledField, photos: list[dict[str, Any]]) -> None:
    """Refuse one more photo on a field that holds its most (the app asks before it opens the
    dialog: an inspector typed a path and a caption, then was refused)."""
    if len(photos) >= fld.defn.max_count:
        raise SurveyorError(
            f"{fld.defn.label.get('en')} already has {len(photos)} photos "
            f"(at most {fld.defn.max_count}); remove one first",
            zh=f"{fld.defn.label.get('zh')} 已有 {len(photos)} 张照片"
            f"（最多 {fld.defn.max_count} 张）；请先移除一张",
        )


def photo_field(form: Form, field_id: str) -> CompiledField:
    """The photo field ``field_id`` of ``form``; anything else is refused by name."""
    if field_id not in form.fields or form.field(field_id).type != "photo":
        raise SurveyorError(
            f"'{field_id}' is not a photo field of the form",
            zh=f"「{field_id}」不是表单中的照片字段",
        )
    return form.field(field_id)


def photos_of(answers: Mapping[str, Any], field_id: str) -> list[dict[str, Any]]:
    """The photos attached to one field, in the order they were added."""
    current = answers.get(field_id)
    return list(current) if isinstance(current, list) else []


def attach_photo(
    store: Store,
    form: Form,
    building: str | uuid.UUID,
    field_id: str,
    source: Path,
    *,
    caption: str = "",
    author: str,
    lang: str = "en",
) -> SaveResult:
    """Store ``source`` and add it to the photo field ``field_id`` of one building."""
    fld = photo_field(form, field_id)
    state = get_building(store, building)
    photos = photos_of(state.answers, field_id)
    check_room_for_photo(fld, photos)
    photo = read_photo(source)
    if any(p.get("sha256") == photo.sha256 for p in photos):  # checked before anything is written
        raise SurveyorError(
            f"{source.name} is already attached to this field",
            zh=f"{source.name} 已添加到该字段",
        )
    blob = store_blob(store, photo)
    photos.append(
        {
            "sha256": blob.sha256,
            "size": blob.size,
            "mime": blob.mime,
            "caption": normalize_free_text(caption),
        }
    )
    return _save_photos(store, form, state, field_id, photos, author=author, lang=lang)


def remove_photo(
    store: Store,
    form: Form,
    building: str | uuid.UUID,
    field_id: str,
    which: str,
    *,
    author: str,
    lang: str = "en",
) -> SaveResult:
    """Take one photo off a field: ``which`` is its number as listed (1, 2…) or the start of
    its SHA-256. The blob stays: the change log still refers to it, and another building may
    show the same file."""
    label = photo_field(form, field_id).defn.label
    state = get_building(store, building)
    photos = photos_of(state.answers, field_id)
    index = _photo_index(photos, which.strip())
    if index is None:
        listed = "; ".join(photo_text(n, p) for n, p in enumerate(photos, 1))
        raise SurveyorError(
            f"{state.code} has no photo '{which}' in {label.en} ({listed or 'no photos'})",
            zh=f"{state.code} 的{label.zh}中没有照片「{which}」（{listed or '没有照片'}）",
        )
    del photos[index]
    return _save_photos(store, form, state, field_id, photos, author=author, lang=lang)


def _save_photos(
    store: Store,
    form: Form,
    state: BuildingState,
    field_id: str,
    photos: list[dict[str, Any]],
    *,
    author: str,
    lang: str,
) -> SaveResult:
    """Save a photo list read from ``state``, naming the field's head then as what was seen:
    a photo another window added meanwhile makes a conflict kept for the supervisor, where the
    list read before it silently dropped it."""
    seen = {field_id: state.field_change.get(field_id)}
    return save_answers(
        store, form, state.id, {field_id: photos or None}, author=author, lang=lang, seen=seen
    )


def _photo_index(photos: list[dict[str, Any]], which: str) -> int | None:
    """The list index of the photo numbered ``which``, else of the one whose hash starts with
    it (4+ characters, any case: a hash start may be all digits)."""
    if which.isdigit() and 1 <= int(which) <= len(photos):
        return int(which) - 1
    start = which.lower()
    if len(start) < 4:
        return None
    matches = [i for i, p in enumerate(photos) if str(p.get("sha256", "")).startswith(start)]
    return matches[0] if len(matches) == 1 else None
