"""Finding, checking and loading the book's two real datasets.

* DIA (UCI 1104): two CSVs of RDKit descriptors for drug-induced autoimmunity.
* Acne (Roboflow "Acne Scanner" v2): an image folder, one subfolder per class.

Where the data lives, in order of precedence: a ``data_dir`` argument, then
``$LOSSBOOK_DATA_DIR/<dataset>``, then (DIA only) the user cache, filled by a
checked download from UCI. Data files are never part of the repository.

Every check raises :class:`DataError` naming the file (and column) and the
problem, instead of letting a traceback escape from deep inside pandas.
"""
from __future__ import annotations

import difflib
import hashlib
import io
import os
import tempfile
import urllib.error
import urllib.request
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from lossbook.core.paths import cache_dir

__all__ = [
    "DataError",
    "DIAData",
    "DIA_FILES",
    "ACNE_CLASSES",
    "dia_dir",
    "load_dia",
    "acne_dir",
    "load_acne_index",
    "sha256_file",
    "safe_extract",
    "DATASETS",
    "HOW_TO_GET",
    "DataUnavailable",
    "find_dataset",
    "unavailable_reason",
    "require",
]


class DataError(ValueError):
    """Raised when a data file is missing or malformed. The message names the file."""


# -- DIA ----------------------------------------------------------------------

DIA_URL = (
    "https://archive.ics.uci.edu/static/public/1104/"
    "drug_induced_autoimmunity_prediction.zip"
)
#: File name per split, with the sha256 recorded in shared/data/dia/PROVENANCE.md.
DIA_FILES = {
    "train": (
        "DIA_trainingset_RDKit_descriptors.csv",
        "70c3518398494f16d80f79173f69510149179d0660510940d750ccf67b68cb29",
    ),
    "test": (
        "DIA_testset_RDKit_descriptors.csv",
        "24b0f1d7e2628dca20d611c264f835fa3ce20f0c1b04634cc0286e56c578ebbb",
    ),
}
DIA_LABEL = "Label"
DIA_ID = "SMILES"


@dataclass(frozen=True)
class DIAData:
    """One split of the DIA dataset.

    Attributes
    ----------
    X : pandas.DataFrame, shape (n_drugs, n_descriptors)
        Float RDKit descriptors; SMILES and Label removed.
    y : numpy.ndarray of int, shape (n_drugs,)
        1 = DIA-positive, 0 = negative.
    smiles : pandas.Series
        The drugs' SMILES strings, kept for inspection only.
    path : pathlib.Path
        The CSV that was read.
    sha256 : str
        Its checksum, recorded in the chapter's results file.
    """

    X: pd.DataFrame
    y: np.ndarray
    smiles: pd.Series
    path: Path
    sha256: str = field(repr=False)


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _data_root_from_env(dataset: str) -> Path | None:
    root = os.environ.get("LOSSBOOK_DATA_DIR")
    return Path(root).expanduser() / dataset if root else None


def dia_dir(data_dir: str | os.PathLike | None = None, *, download: bool = True) -> Path:
    """Directory holding the two DIA CSVs, downloading them if needed.

    Precedence: ``data_dir``; ``$LOSSBOOK_DATA_DIR/dia``; the user cache
    (``$LOSSBOOK_CACHE_DIR`` or ``~/.cache/lossbook``) ``/data/dia``. An
    explicit directory is never downloaded into: if it lacks the files, that is
    an error. The cache is filled from UCI when ``download`` is true.
    """
    names = [name for name, _ in DIA_FILES.values()]
    explicit = Path(data_dir).expanduser() if data_dir is not None else _data_root_from_env("dia")
    if explicit is not None:
        missing = [n for n in names if not (explicit / n).is_file()]
        if missing:
            source = "data_dir" if data_dir is not None else "$LOSSBOOK_DATA_DIR/dia"
            raise DataError(
                f"{explicit}: missing {', '.join(missing)} (looked here because of {source}). "
                f"Put the UCI 1104 CSVs there; they come from {DIA_URL}."
            )
        return explicit
    cached = cache_dir() / "data" / "dia"
    if all((cached / n).is_file() for n in names):
        return cached
    if not download:
        raise DataError(_dia_missing_message(cached))
    _download_dia(cached)
    return cached


def _dia_missing_message(target: Path) -> str:
    names = " and ".join(name for name, _ in DIA_FILES.values())
    return (
        f"The DIA data is not on this machine and could not be downloaded. Download {DIA_URL} "
        f"by hand and unzip {names} into {target} (or into a folder of your choice and set "
        f"LOSSBOOK_DATA_DIR to its parent, so that the CSVs are in $LOSSBOOK_DATA_DIR/dia)."
    )


def _download_dia(target: Path, url: str = DIA_URL, timeout: float = 30.0) -> None:
    """Download the UCI zip, check each CSV's sha256 and move them into ``target``."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            payload = response.read()
    except (urllib.error.URLError, OSError) as error:
        raise DataError(f"{_dia_missing_message(target)} (download failed: {error})") from error
    install_dia_zip(io.BytesIO(payload), target, source=url)


def install_dia_zip(archive, target: str | os.PathLike, *, source: str = "zip") -> None:
    """Extract the DIA CSVs from a zip (path or file object) into ``target``.

    Members are extracted safely into a temporary folder, their checksums are
    compared with the published ones, and only then are they moved into place,
    so a failed check leaves nothing behind.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        try:
            with zipfile.ZipFile(archive) as zf:
                safe_extract(zf, Path(tmp), source=source)
        except zipfile.BadZipFile as error:
            raise DataError(f"{source}: not a valid zip file ({error})") from error
        found = {p.name: p for p in Path(tmp).rglob("*.csv")}
        for name, expected in DIA_FILES.values():
            if name not in found:
                raise DataError(f"{source}: the archive has no {name}")
            actual = sha256_file(found[name])
            if actual != expected:
                raise DataError(
                    f"{source}: {name} has sha256 {actual}, expected {expected}; "
                    "the download is corrupt or the dataset changed. Nothing was installed."
                )
        target.mkdir(parents=True, exist_ok=True)
        for name, _ in DIA_FILES.values():
            os.replace(found[name], target / name)


def safe_extract(zf: zipfile.ZipFile, target: Path, *, source: str = "zip") -> None:
    """Extract every member of ``zf`` under ``target``, refusing paths that escape it."""
    root = target.resolve()
    for member in zf.infolist():
        destination = (root / member.filename).resolve()
        if destination != root and root not in destination.parents:
            raise DataError(
                f"{source}: member {member.filename!r} would extract outside {target}; refusing."
            )
    zf.extractall(root)


def load_dia(
    split: str = "train",
    data_dir: str | os.PathLike | None = None,
    *,
    verify_checksum: bool = False,
) -> DIAData:
    """Load and check one split of the DIA descriptors.

    Parameters
    ----------
    split : {"train", "test"}
        The 477-drug training set or the 120-drug external test set.
    data_dir : path, optional
        Folder holding the CSVs (see :func:`dia_dir` for the fallbacks).
    verify_checksum : bool
        Also require the file to match the published sha256 (for the book's
        own runs); off by default so readers can load their own descriptors.
    """
    if split not in DIA_FILES:
        raise ValueError(f"split must be one of {sorted(DIA_FILES)}, got {split!r}")
    name, expected = DIA_FILES[split]
    path = dia_dir(data_dir) / name
    checksum = sha256_file(path)
    if verify_checksum and checksum != expected:
        raise DataError(f"{path}: sha256 {checksum} does not match the published {expected}")
    frame = read_descriptor_csv(path)
    return DIAData(
        X=frame.drop(columns=[DIA_LABEL, DIA_ID], errors="ignore").astype(float),
        y=frame[DIA_LABEL].to_numpy(dtype=int),
        smiles=frame[DIA_ID] if DIA_ID in frame else pd.Series(dtype=str),
        path=path,
        sha256=checksum,
    )


def read_descriptor_csv(path: str | os.PathLike, label: str = DIA_LABEL) -> pd.DataFrame:
    """Read a descriptor CSV and check it: label column, 0/1 labels, finite numbers.

    Returns the frame unchanged (label, optional SMILES, descriptors).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: file is empty")
    try:
        frame = pd.read_csv(path, encoding="utf-8")
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from error
    except pd.errors.EmptyDataError as error:
        raise DataError(f"{path}: no header or rows") from error
    except pd.errors.ParserError as error:
        raise DataError(f"{path}: not a well-formed CSV ({error})") from error
    if frame.shape[1] == 1 and any(sep in frame.columns[0] for sep in ";\t|"):
        raise DataError(
            f"{path}: only one column was found ({frame.columns[0][:60]!r}...); "
            "the file seems to use another delimiter than ','"
        )
    if label not in frame.columns:
        close = difflib.get_close_matches(label, map(str, frame.columns), n=1, cutoff=0.6)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise DataError(f"{path}: no {label!r} column.{hint}")
    if frame.empty:
        raise DataError(f"{path}: has a header but no rows")
    labels = pd.to_numeric(frame[label], errors="coerce")
    bad = ~labels.isin([0, 1])
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"{path}: column {label!r} must hold only 0 and 1; row {row + 2} has "
            f"{_cell(frame[label], row)!r}"
        )
    frame[label] = labels.astype(int)
    if frame[label].nunique() < 2:
        raise DataError(
            f"{path}: column {label!r} holds only the class {int(frame[label].iloc[0])}; "
            "a classifier needs both classes"
        )
    duplicated = int(frame.duplicated().sum())
    if duplicated:
        # Kept, as the source has them, but said out loud: they inflate CV scores
        # when copies land on both sides of a split.
        warnings.warn(f"{path}: {duplicated} row(s) duplicate an earlier row exactly (kept)", stacklevel=2)
    descriptors = frame.drop(columns=[label, DIA_ID], errors="ignore")
    for column in descriptors.columns:
        values = pd.to_numeric(descriptors[column], errors="coerce")
        broken = values.isna() | ~np.isfinite(values.to_numpy(dtype=float, na_value=np.nan))
        if broken.any():
            row = int(np.flatnonzero(broken.to_numpy())[0])
            raise DataError(
                f"{path}: column {column!r} has a non-numeric, missing or infinite value "
                f"({_cell(descriptors[column], row)!r} in row {row + 2}); "
                f"{int(broken.sum())} such value(s) in that column"
            )
        frame[column] = values
    return frame


def _cell(column: pd.Series, row: int):
    """A cell as a plain Python value, so messages show 2 rather than np.int64(2)."""
    return column.iloc[row : row + 1].tolist()[0]


# -- Acne ---------------------------------------------------------------------

ACNE_CLASSES = ("Blackheads", "Cyst", "Papules", "Pustules", "Whiteheads")
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp"}


def acne_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """Folder of the acne image dataset: ``data_dir`` or ``$LOSSBOOK_DATA_DIR/acne``."""
    folder = Path(data_dir).expanduser() if data_dir is not None else _data_root_from_env("acne")
    if folder is None:
        raise DataError(
            "No acne data folder given: pass data_dir or set LOSSBOOK_DATA_DIR so that "
            "$LOSSBOOK_DATA_DIR/acne holds one subfolder per class (see README, 'Data')."
        )
    if not folder.is_dir():
        raise DataError(f"{folder}: acne data folder not found (see README, 'Data')")
    return folder


def load_acne_index(
    data_dir: str | os.PathLike | None = None,
    *,
    classes: tuple[str, ...] | None = None,
    check_images: bool = True,
) -> pd.DataFrame:
    """Index the acne image folder: one row per image.

    Parameters
    ----------
    data_dir : path, optional
        Folder with one subfolder per class (see :func:`acne_dir`).
    classes : tuple of str, optional
        Class folders to use, in label order; default: every subfolder holding
        images, sorted (for the book's data, :data:`ACNE_CLASSES`).
    check_images : bool
        Open each file's header with Pillow and fail on anything that is not
        a readable image.

    Returns
    -------
    pandas.DataFrame
        Columns ``path`` (str), ``class_name``, ``label`` (int, index into the
        class list) and, when the folder has a ``splits.csv``, that file's
        ``roboflow_split`` and ``near_dup_group``. Sorted by class then file name.
    """
    folder = acne_dir(data_dir)
    if classes is None:
        classes = tuple(
            sorted(p.name for p in folder.iterdir() if p.is_dir() and _images_in(p))
        )
        if len(classes) < 2:
            raise DataError(f"{folder}: expected at least two class subfolders with images")
    rows = []
    for label, name in enumerate(classes):
        class_folder = folder / name
        if not class_folder.is_dir():
            raise DataError(f"{class_folder}: class folder not found")
        images = _images_in(class_folder)
        if not images:
            raise DataError(f"{class_folder}: class folder has no images")
        for image in images:
            if check_images:
                _check_image(image)
            rows.append((str(image), name, label, image.name))
    index = pd.DataFrame(rows, columns=["path", "class_name", "label", "filename"])
    splits = folder / "splits.csv"
    if splits.is_file():
        extra = pd.read_csv(splits, usecols=["class_name", "filename", "roboflow_split", "near_dup_group"])
        index = index.merge(extra, on=["class_name", "filename"], how="left", validate="one_to_one")
    return index.drop(columns="filename")


def _images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def _check_image(path: Path) -> None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise DataError(f"{path}: not a readable image ({error})") from error



# -- Availability: one lookup for the chapters, the test suite and the reader ----

#: Dataset name -> the loader functions that read it. A chapter that calls one of
#: these needs that dataset (lossbook.publish.needs reads chapter sources for them).
DATASETS = {
    "dia": ("load_dia", "dia_dir"),
    "acne": ("load_acne_index", "acne_dir"),
}

#: How a reader gets each dataset; README's "Data" section quotes these sentences
#: word for word (tests/core/test_availability.py checks it).
HOW_TO_GET = {
    "dia": (
        "DIA (UCI 1104) is downloaded from the UCI repository into the user cache when the machine "
        "is online; offline, unzip DIA_trainingset_RDKit_descriptors.csv and "
        "DIA_testset_RDKit_descriptors.csv from " + DIA_URL + " into $LOSSBOOK_DATA_DIR/dia/."
    ),
    "acne": (
        "Acne (Roboflow Universe, project acnescan/acne-scanner-2qfa0, version 2, CC BY 4.0) cannot be "
        "downloaded automatically: download its multi-class classification export with your own "
        "Roboflow account and put each class's images into its folder "
        "(Blackheads, Cyst, Papules, Pustules, Whiteheads) under $LOSSBOOK_DATA_DIR/acne/."
    ),
}


class DataUnavailable(DataError):
    """A dataset is neither on this machine nor downloadable; the message says how to get it.

    In a notebook it shows as its message alone, not as a traceback, so a reader
    without the data sees what to do (IPython honours ``_render_traceback_``).
    """

    def _render_traceback_(self) -> list[str]:
        return [str(self)]


def find_dataset(name: str, data_dir: str | os.PathLike | None = None, *, download: bool = True) -> Path:
    """Folder of dataset ``name`` by the loaders' own lookup (argument, env, user cache, download).

    Raises :class:`DataError` when it is not there. For acne the class
    folders are listed as well (images not opened), as :func:`load_acne_index` does.
    """
    if name == "dia":
        return dia_dir(data_dir, download=download)
    if name == "acne":
        folder = acne_dir(data_dir)
        load_acne_index(folder, classes=ACNE_CLASSES, check_images=False)
        return folder
    raise ValueError(f"dataset must be one of {sorted(DATASETS)}, got {name!r}")


def _reachable(url: str, timeout: float) -> bool:
    """Whether a TCP connection to ``url``'s host opens within ``timeout`` seconds."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or 443), timeout=timeout):
            return True
    except OSError:
        return False


def unavailable_reason(name: str, data_dir: str | os.PathLike | None = None, *,
                       download: bool = True, probe_timeout: float = 3.0) -> str | None:
    """None when dataset ``name`` can be had, else why not and how to get it.

    Uses :func:`find_dataset`. A download is attempted (and kept in the user cache)
    only after a quick connection probe, so an offline machine answers within
    ``probe_timeout`` seconds instead of waiting for the download's time-out.
    """
    try:
        find_dataset(name, data_dir, download=False)
        return None
    except DataError:
        pass
    # Only DIA is downloadable, and only into the user cache (no folder was named).
    downloadable = name == "dia" and data_dir is None and _data_root_from_env("dia") is None
    if download and downloadable and _reachable(DIA_URL, probe_timeout):
        try:
            find_dataset(name, download=True)
            return None
        except DataError:
            pass
    return f"{name} data not available: {HOW_TO_GET[name]}"


def require(name: str, data_dir: str | os.PathLike | None = None) -> Path:
    """The folder of dataset ``name``, or :class:`DataUnavailable` saying how to get it.

    A chapter calls this first, so a reader without the data sees one message
    (the first output) instead of a traceback from deep inside a loader.
    """
    reason = unavailable_reason(name, data_dir)
    if reason is not None:
        raise DataUnavailable(f"This chapter stops here. {reason}")
    return find_dataset(name, data_dir, download=False)
