"""Folders of photos: every format Pillow reads, made RGB and upright.

:func:`load_photos` is what the model zoo classifies. :func:`load_image_folder` turns a
folder into a labelled data set (``folder:PATH``) by the ImageFolder convention: each
top-level subfolder is a class, named after it; images directly in PATH form one class
named after PATH. If PATH holds ``train/`` and ``test/`` subfolders, those are the splits;
otherwise a seeded, stratified hold-out is the test split. Images become grayscale and,
by default, 28x28 (centre-cropped to the aspect ratio, then resized), like MNIST.

Reading is safe on any folder: only regular files are opened (a named pipe, a device or a
socket is skipped with a warning instead of blocking forever), each photo is shrunk as it
is decoded so that large photos never sit in memory at full size side by side (Pillow's
decompression-bomb limit stays on), and file names that are not UTF-8 are shown with
replacement characters while the real path is kept for opening.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from funml.data.csvfile import COURSE_SEED, stratified_split
from funml.data.dataset import ImageDataset, Split
from funml.download import file_digest
from funml.errors import DataError
from funml.files import display_name

MAX_SIDE = 2048  # photos for the model zoo are shrunk to fit in MAX_SIDE x MAX_SIDE pixels
_KINDS = {  # what a path that is not a regular file is, for the warning
    stat.S_IFIFO: "a named pipe",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a folder",
}


@dataclass(frozen=True)
class PhotoFolder:
    """The images of a folder that loaded, and the files that did not."""

    paths: tuple[Path, ...]  # images that loaded, in sorted path order
    images: tuple[Image.Image, ...]  # fully loaded, mode "RGB", EXIF orientation applied
    skipped: tuple[tuple[Path, str], ...]  # (file or folder, one-line reason) not read

    @property
    def names(self) -> tuple[str, ...]:
        """The paths as printable text (undecodable bytes of a name shown as U+FFFD)."""
        return tuple(display_name(p) for p in self.paths)


def load_photos(
    folder: str | os.PathLike, *, recursive: bool = True, max_side: int | None = MAX_SIDE
) -> PhotoFolder:
    """Load every image in ``folder`` as an upright RGB :class:`PIL.Image.Image`.

    Hidden files and folders (names starting with ``.``) are ignored. A file Pillow cannot
    read (text, a truncated JPEG, ...), anything that is not a regular file (a named pipe,
    a device, a socket) and a subfolder that cannot be read are skipped with a
    :class:`UserWarning` that names them, and listed in ``skipped``.

    Parameters
    ----------
    max_side : int or None, default MAX_SIDE
        Larger photos are shrunk to fit in ``max_side`` x ``max_side`` as they are decoded
        (see :func:`open_rgb`). None keeps every photo at full size.

    Raises
    ------
    DataError
        If ``folder`` does not exist, is not a folder, holds no files, or holds no
        readable image.
    """
    root = Path(folder).expanduser()
    files, skipped = _walk(root, recursive=recursive)
    for path, reason in skipped:
        warnings.warn(f"Skipped '{display_name(path)}': {reason}", UserWarning, stacklevel=2)
    paths, images = [], []
    for path in files:
        try:
            image = open_rgb(path, max_side=max_side)
        except Exception as e:  # Pillow's plugins raise many types on malformed files
            reason = _one_line(e)
            skipped.append((path, reason))
            warnings.warn(f"Skipped '{display_name(path)}': {reason}", UserWarning, stacklevel=2)
            continue
        paths.append(path)
        images.append(image)
    if not images:
        raise DataError(
            f"Folder '{display_name(root)}' holds no readable image ({len(skipped)} files "
            "skipped); add JPEG, PNG or other image files."
        )
    return PhotoFolder(tuple(paths), tuple(images), tuple(skipped))


def list_files(root: Path, *, recursive: bool = True) -> list[Path]:
    """Non-hidden files under ``root``, sorted; a DataError if there are none.

    A subfolder that cannot be read is skipped with a warning that names it.
    """
    files, skipped = _walk(root, recursive=recursive)
    for path, reason in skipped:
        warnings.warn(f"Skipped '{display_name(path)}': {reason}", UserWarning, stacklevel=2)
    return files


def _walk(root: Path, *, recursive: bool) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Non-hidden entries under ``root``, sorted, and the subfolders that could not be read."""
    if not root.exists():
        raise DataError(f"Folder '{display_name(root)}' does not exist; check the path.")
    if not root.is_dir():
        raise DataError(
            f"'{display_name(root)}' is not a folder; give the folder that holds the images."
        )
    unreadable: list[tuple[Path, str]] = []

    def onerror(e: OSError) -> None:
        if e.filename is not None:
            reason = f"the folder cannot be read ({e.strerror or e})"
            unreadable.append((Path(e.filename), reason))

    files = []
    for dirpath, dirnames, filenames in os.walk(root, onerror=onerror):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")] if recursive else []
        files += [Path(dirpath) / f for f in filenames if not f.startswith(".")]
    if any(path == root for path, _ in unreadable):
        raise DataError(f"Folder '{display_name(root)}' cannot be read; check its permissions.")
    if not files and not unreadable:
        raise DataError(f"Folder '{display_name(root)}' is empty; put some images in it.")
    return sorted(files), sorted(unreadable)


def open_regular(path: str | os.PathLike):
    """Open ``path`` for reading in binary, if it is a regular file.

    Opening never blocks: a named pipe without a writer, a device or a socket raises a
    :class:`DataError` that says what it is, checked on the open file itself, so the
    path cannot be swapped between the check and the open.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as e:
        try:
            kind = stat.S_IFMT(os.stat(path).st_mode)
        except OSError:
            kind = stat.S_IFREG
        if kind != stat.S_IFREG:  # a socket cannot be opened at all
            raise DataError(f"not a regular file ({_KINDS.get(kind, 'of another kind')})") from None
        raise DataError(f"cannot be opened ({e.strerror or e})") from None
    try:
        kind = stat.S_IFMT(os.fstat(fd).st_mode)
        if kind != stat.S_IFREG:
            what = _KINDS.get(kind, "of another kind")
            raise DataError(f"not a regular file ({what})")
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        fcntl.fcntl(fd, fcntl.F_SETFL, flags & ~os.O_NONBLOCK)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def open_rgb(path: str | os.PathLike, *, max_side: int | None = None) -> Image.Image:
    """Open an image fully, apply its EXIF orientation, and convert it to RGB.

    With ``max_side``, a larger image is shrunk to fit in ``max_side`` x ``max_side`` (its
    aspect ratio kept) as it is read: JPEG decodes straight at 1/2, 1/4 or 1/8 scale
    (Pillow's ``draft``); other formats are shrunk right after decoding, before the
    orientation and the conversion to RGB, so that no full-size copy is ever made.
    """
    with open_regular(path) as f, Image.open(f) as im:
        if max_side is not None:
            im.draft(None, (max_side, max_side))
        im.load()  # decode now: a truncated file fails here, not later
        if max_side is not None and max(im.size) > max_side:
            im = _shrink(im, max_side)
        im = ImageOps.exif_transpose(im)
    return to_rgb(im)


def _shrink(im: Image.Image, max_side: int) -> Image.Image:
    """A smaller copy of ``im`` that fits in ``max_side`` x ``max_side`` (EXIF data kept)."""
    if im.mode not in ("L", "RGB", "RGBA", "LA", "I", "F"):
        im = to_rgb(im)  # palette, 1-bit and 16-bit images do not resample (well)
    scale = max_side / max(im.size)
    size = (max(1, round(im.width * scale)), max(1, round(im.height * scale)))
    # reducing_gap: first average whole blocks of pixels (cheap), then resample.
    return im.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)


def to_rgb(im: Image.Image) -> Image.Image:
    """Convert any Pillow mode to RGB.

    Transparency is composited on white; 16- and 32-bit integer and float images are
    scaled to 8 bits (not clipped); everything else goes through Pillow's own conversion.
    """
    if im.mode == "RGB":
        return im
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        im.mode == "P" and "transparency" in im.info
    ):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    if im.mode.startswith("I") or im.mode == "F":
        return Image.fromarray(_to_uint8(np.asarray(im), im.mode), "L").convert("RGB")
    return im.convert("RGB")


def _to_uint8(a: np.ndarray, mode: str) -> np.ndarray:
    a = a.astype(np.float64)
    lo, hi = float(a.min()), float(a.max())
    if mode == "F" and lo >= 0 and hi <= 1:  # float image in [0, 1]
        scale = 255.0
    elif mode != "F" and lo >= 0 and hi <= 65535:  # 16-bit samples: 65535 maps to 255
        scale = 255.0 / 65535.0
    else:  # anything else: stretch its own range
        a, scale = a - lo, 255.0 / max(hi - lo, 1e-12)
    return np.rint(a * scale).clip(0, 255).astype(np.uint8)


def load_image_folder(
    folder: str | os.PathLike,
    *,
    image_size: tuple[int, int] | None = (28, 28),
    test_size: float = 0.2,
    random_state: int = COURSE_SEED,
) -> ImageDataset:
    """Load ``folder:PATH`` as a labelled grayscale data set (see the module docstring).

    Parameters
    ----------
    image_size : (height, width) or None, default (28, 28)
        Size every image is fitted to. ``None`` keeps the images' own size, which must
        then be the same for all.
    test_size, random_state
        The hold-out used when the folder has no ``train/`` and ``test/`` subfolders.
    """
    root = Path(folder).expanduser()
    _walk(root, recursive=True)  # the folder's own errors first: missing, not a folder, empty
    # Decoding shrinks each photo to a few times the final size, never more than needed.
    max_side = None if image_size is None else 8 * max(image_size)
    if (root / "train").is_dir() and (root / "test").is_dir():
        parts = {split: _labelled_photos(root / split, max_side) for split in ("train", "test")}
        classes = sorted({c for _, names in parts.values() for c in names})
        arrays = {
            split: _to_split(photos, [classes.index(n) for n in names], image_size)
            for split, (photos, names) in parts.items()
        }
        train, test = arrays["train"], arrays["test"]
        photos_all = parts["train"][0].paths + parts["test"][0].paths
    else:
        photos, names = _labelled_photos(root, max_side)
        classes = sorted(set(names))
        whole = _to_split(photos, [classes.index(n) for n in names], image_size)
        tr, te = stratified_split(whole.labels, test_size, random_state)
        train = Split(whole.images[tr], whole.labels[tr])
        test = Split(whole.images[te], whole.labels[te])
        photos_all = photos.paths
    return ImageDataset(
        name=f"folder:{display_name(folder)}",
        train=train,
        test=test,
        classes=tuple(classes),
        pixel_max=255,
        source=display_name(root.resolve()),
        checksums={
            f"{display_name(root.name)}/ ({len(photos_all)} images)": _manifest(root, photos_all)
        },
    )


def _labelled_photos(root: Path, max_side: int | None) -> tuple[PhotoFolder, list[str]]:
    """The photos under ``root`` and each one's class: its top-level subfolder's name."""
    photos = load_photos(root, max_side=max_side)
    names = []
    for path in photos.paths:
        rel = path.relative_to(root)
        names.append(display_name(rel.parts[0] if len(rel.parts) > 1 else root.name))
    return photos, names


def _to_split(photos: PhotoFolder, labels: list[int], image_size) -> Split:
    grays = [im.convert("L") for im in photos.images]
    if image_size is None:
        sizes = {g.size for g in grays}
        if len(sizes) > 1:
            raise DataError(
                f"The images have {len(sizes)} different sizes; pass image_size=(h, w) "
                "to fit them to one."
            )
    else:
        h, w = image_size
        grays = [ImageOps.fit(g, (w, h), Image.Resampling.LANCZOS) for g in grays]
    images = np.stack([np.asarray(g, dtype=np.uint8) for g in grays])
    return Split(images, np.asarray(labels, dtype=np.int64))


def _manifest(root: Path, paths) -> str:
    """SHA-256 of the folder's ``sha256sum``-style listing: one digest for every file."""
    lines = sorted(f"{file_digest(p)}  {p.relative_to(root)}\n" for p in paths)
    # The names' own bytes, undecodable ones included (os.fsencode's encoding).
    return hashlib.sha256("".join(lines).encode("utf-8", "surrogateescape")).hexdigest()


def _one_line(e: BaseException) -> str:
    from PIL import UnidentifiedImageError

    if isinstance(e, DataError):  # from open_regular: already one short line
        return str(e)
    if isinstance(e, UnidentifiedImageError):
        return "not an image Pillow can read"
    text = " ".join(str(e).split()) or type(e).__name__
    if "truncated" in text.lower():  # Pillow words this differently per format
        return "the image file is truncated (cut short)"
    return text if len(text) <= 200 else text[:197] + "..."
