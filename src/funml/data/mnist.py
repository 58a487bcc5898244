"""MNIST and Fashion-MNIST: find the IDX files, verify them, download what is missing.

Each file has three known digests: the MD5 and SHA-256 of the upstream ``.gz``, and the
SHA-256 of its decompressed content. A local file is accepted when its own SHA-256 is the
upstream one, or when its content's is: Debian recompresses Fashion-MNIST, so its ``.gz``
bytes differ from upstream while the images inside are identical. Anything else is refused.

Provenance of the digests (see the report of issue 2):

- MNIST test images, test labels and train labels: all three digests computed here from
  the official files; the MD5s agree with the ones torchvision publishes.
- MNIST train images: MD5 as published by torchvision; SHA-256 of the ``.gz`` and of its
  content as published by several independent projects (they agree with each other).
- Fashion-MNIST: MD5s from the Fashion-MNIST README and torchvision; ``.gz`` SHA-256s as
  published by Keras and others; content SHA-256s computed here from Debian's package and
  equal to those published elsewhere for the upstream files.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from funml.data.dataset import ImageDataset, Split
from funml.data.idx import IdxContents, read_idx_hashed
from funml.data.paths import download_dir, search_dirs
from funml.download import MirrorsFailedError, RemoteFile
from funml.download import download as download_file
from funml.errors import DataError, FunmlError

SPLITS = ("train", "test")


@dataclass(frozen=True)
class IdxFile:
    """One upstream IDX file and its known digests."""

    name: str  # upstream name, e.g. "train-images-idx3-ubyte.gz"
    md5: str  # of the upstream .gz
    sha256: str  # of the upstream .gz
    content_sha256: str  # of the decompressed IDX bytes

    @property
    def names(self) -> tuple[str, str]:
        """File names accepted on disk: the ``.gz`` and the decompressed file."""
        return self.name, self.name.removesuffix(".gz")

    def accepts(self, contents: IdxContents) -> bool:
        """True if ``contents`` is this file: the upstream .gz, or any copy of its content."""
        return contents.file_sha256 == self.sha256 or contents.content_sha256 == self.content_sha256

    def remote(self, mirrors: tuple[str, ...]) -> RemoteFile:
        return RemoteFile(
            self.name, tuple(m + self.name for m in mirrors), sha256=self.sha256, md5=self.md5
        )


@dataclass(frozen=True)
class IdxDataset:
    """A data set stored as four IDX files: train/test images and labels."""

    name: str
    classes: tuple[str, ...]
    mirrors: tuple[str, ...]  # base URLs, tried in order
    files: dict[str, tuple[IdxFile, IdxFile]]  # split -> (images, labels)
    folders: tuple[str, ...]  # accepted names of DIR/<dataset>/

    def all_files(self) -> list[IdxFile]:
        return [f for split in SPLITS for f in self.files[split]]


MNIST = IdxDataset(
    name="mnist",
    classes=tuple(str(d) for d in range(10)),
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        # Has answered 403/404 and certificate errors since 2024; kept as the last resort.
        "http://yann.lecun.com/exdb/mnist/",
    ),
    files={
        "train": (
            IdxFile(
                "train-images-idx3-ubyte.gz",
                md5="f68b3c2dcbeaaa9fbdd348bbdeb94873",
                sha256="440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                content_sha256="ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            ),
            IdxFile(
                "train-labels-idx1-ubyte.gz",
                md5="d53e105ee54ea40749a09fcbcd1e9432",
                sha256="3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                content_sha256="65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            ),
        ),
        "test": (
            IdxFile(
                "t10k-images-idx3-ubyte.gz",
                md5="9fb629c4189551a2d022fa330f9573f3",
                sha256="8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                content_sha256="0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            ),
            IdxFile(
                "t10k-labels-idx1-ubyte.gz",
                md5="ec29112dd5afa0611ce80d1b7f02629c",
                sha256="f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
                content_sha256="ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
            ),
        ),
    },
    folders=("mnist", "MNIST/raw"),
)

FASHION_MNIST = IdxDataset(
    name="fashion-mnist",
    classes=(
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
    mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    files={
        "train": (
            IdxFile(
                "train-images-idx3-ubyte.gz",
                md5="8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                sha256="3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
                content_sha256="c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            ),
            IdxFile(
                "train-labels-idx1-ubyte.gz",
                md5="25c81989df183df01b3e8a0aad5dffbe",
                sha256="a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
                content_sha256="bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            ),
        ),
        "test": (
            IdxFile(
                "t10k-images-idx3-ubyte.gz",
                md5="bef4ecab320f06d8554ea6380940ec79",
                sha256="346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
                content_sha256="5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            ),
            IdxFile(
                "t10k-labels-idx1-ubyte.gz",
                md5="bb300cfdad3c16e7a12a480ee83cd310",
                sha256="67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
                content_sha256="0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
            ),
        ),
    },
    folders=("fashion-mnist", "FashionMNIST/raw"),
)

IDX_DATASETS: dict[str, IdxDataset] = {d.name: d for d in (MNIST, FASHION_MNIST)}


@dataclass(frozen=True)
class FoundFile:
    """A verified local copy of one :class:`IdxFile`."""

    path: Path
    contents: IdxContents


def candidates(spec: IdxDataset, file: IdxFile, data_dir=None) -> Iterator[Path]:
    """Existing files that may hold ``file``, in search order (see :func:`search_dirs`)."""
    for root in search_dirs(data_dir):
        for folder in (*(root / f for f in spec.folders), root):
            for name in file.names:
                path = folder / name
                if path.is_file():
                    yield path


def find_file(spec: IdxDataset, file: IdxFile, data_dir=None) -> FoundFile | None:
    """Read and verify the first local copy of ``file``; None if there is none.

    A candidate that is another known data set's file (MNIST's and Fashion-MNIST's files
    share their names, so both may sit in one folder's search path) is passed over. A
    candidate that matches no known file is refused with a DataError.
    """
    for path in candidates(spec, file, data_dir):
        contents = read_idx_hashed(path)
        if file.accepts(contents):
            return FoundFile(path, contents)
        if any(other.accepts(contents) for other in _all_known_files()):
            continue
        raise DataError(
            f"'{path}' is not the {spec.name} file {file.name}: expected SHA-256 "
            f"{file.sha256} (upstream .gz) or content SHA-256 {file.content_sha256}, got "
            f"{contents.file_sha256} (file) and {contents.content_sha256} (content); "
            "delete it and fetch it again."
        )
    return None


def fetch(spec: IdxDataset, *, data_dir=None, progress: bool | None = None) -> dict[str, FoundFile]:
    """Make sure every file of ``spec`` is available and verified; download what is missing.

    Returns upstream file name -> its verified local copy. Downloads go to
    :func:`funml.data.paths.download_dir`: ``data_dir/<dataset>/`` when ``data_dir`` is
    given, else under ``$FUNML_DATA`` or the user cache.
    """
    return _gather(spec, spec.all_files(), data_dir, download=True, progress=progress)


def load_split(
    spec: IdxDataset | str,
    split: str,
    *,
    data_dir=None,
    download: bool = True,
    progress: bool | None = None,
) -> Split:
    """Load one split (``"train"`` or ``"test"``) of MNIST or Fashion-MNIST."""
    spec = _spec(spec)
    if split not in SPLITS:
        raise FunmlError(f"Split '{split}' is unknown; choose 'train' or 'test'.")
    found = _gather(spec, spec.files[split], data_dir, download=download, progress=progress)
    return _make_split(spec, split, found)


def load_idx_dataset(
    spec: IdxDataset | str,
    *,
    data_dir=None,
    download: bool = True,
    progress: bool | None = None,
) -> ImageDataset:
    """Load MNIST or Fashion-MNIST, both splits, downloading missing files by default.

    Parameters
    ----------
    spec : IdxDataset or {"mnist", "fashion-mnist"}
    data_dir : path-like, optional
        Searched first; downloads go to ``data_dir/<dataset>/`` when it is given.
    download : bool, default True
        Download missing files. With ``False``, or offline, a missing file is a DataError
        that names the missing files and where to put them.
    progress : bool, optional
        Show a download progress bar; by default when stderr is a terminal.
    """
    spec = _spec(spec)
    found = _gather(spec, spec.all_files(), data_dir, download=download, progress=progress)
    folders = sorted({str(hit.path.parent) for hit in found.values()})
    return ImageDataset(
        name=spec.name,
        train=_make_split(spec, "train", found),
        test=_make_split(spec, "test", found),
        classes=spec.classes,
        pixel_max=255,
        source=", ".join(folders),
        checksums={hit.path.name: hit.contents.file_sha256 for hit in found.values()},
    )


def _spec(spec: IdxDataset | str) -> IdxDataset:
    if isinstance(spec, IdxDataset):
        return spec
    if spec not in IDX_DATASETS:
        choices = ", ".join(IDX_DATASETS)
        raise FunmlError(f"'{spec}' is not an IDX data set; choose one of: {choices}.")
    return IDX_DATASETS[spec]


def _gather(spec, files, data_dir, *, download, progress) -> dict[str, FoundFile]:
    found: dict[str, FoundFile] = {}
    missing: list[IdxFile] = []
    for file in files:
        hit = find_file(spec, file, data_dir)
        if hit is None:
            missing.append(file)
        else:
            found[file.name] = hit
    if not missing:
        return found
    dest = download_dir(spec.name, data_dir)
    names = ", ".join(f.name for f in missing)
    if not download:
        # Beside the files already found, if any: that is where the user keeps them.
        where = next((hit.path.parent for hit in found.values()), dest)
        raise DataError(
            f"Data set '{spec.name}' is missing {names}; run `funml data fetch {spec.name}` "
            f"or place the files in '{where}'."
        )
    for file in missing:
        try:
            path = download_file(file.remote(spec.mirrors), dest, progress=progress)
        except MirrorsFailedError as e:
            raise DataError(
                f"Data set '{spec.name}' is missing {names} and downloading {file.name} "
                f"failed ({'; '.join(e.failures)}); with a network run `funml data fetch "
                f"{spec.name}`, or place the files in '{dest}' yourself."
            ) from None
        found[file.name] = FoundFile(path, read_idx_hashed(path))
    return found


def _make_split(spec: IdxDataset, split: str, found: dict[str, FoundFile]) -> Split:
    images_hit, labels_hit = (found[f.name] for f in spec.files[split])
    images, labels = images_hit.contents.array, labels_hit.contents.array
    if images.ndim != 3 or images.dtype != np.uint8:
        raise DataError(
            f"'{images_hit.path}' should hold uint8 images of shape (N, H, W), "
            f"not {images.dtype} of shape {images.shape}."
        )
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise DataError(
            f"'{labels_hit.path}' should hold uint8 labels of shape (N,), "
            f"not {labels.dtype} of shape {labels.shape}."
        )
    if len(images) != len(labels):
        raise DataError(
            f"The {spec.name} {split} split has {len(images):,} images in "
            f"'{images_hit.path}' but {len(labels):,} labels in '{labels_hit.path}'; "
            "the two files must come from one release."
        )
    if labels.size and labels.max() >= len(spec.classes):
        raise DataError(
            f"'{labels_hit.path}' holds label {labels.max()}, but {spec.name} has only "
            f"{len(spec.classes)} classes (0..{len(spec.classes) - 1})."
        )
    return Split(images, labels.astype(np.int64))


def _all_known_files() -> list[IdxFile]:
    return [f for spec in IDX_DATASETS.values() for f in spec.all_files()]
