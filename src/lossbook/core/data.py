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

import csv
import difflib
import hashlib
import io
import os
import re
import stat
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
    "load_dia_pair",
    "check_same_columns",
    "read_descriptor_csv",
    "acne_dir",
    "load_acne_index",
    "read_splits_csv",
    "SPLITS_COLUMNS",
    "image_files",
    "open_image",
    "check_image",
    "sha256_file",
    "safe_extract",
    "DATASETS",
    "HOW_TO_GET",
    "DataUnavailable",
    "find_dataset",
    "unavailable_reason",
    "require",
    "redundant_columns",
    "describe_dia_pair",
    "acne_split_counts",
    "AGREEMENT_MEASURES",
    "agreement_table",
]


class DataError(ValueError):
    """Raised when a data file is missing or malformed. The message names the file."""


def is_regular_file(path: Path) -> bool:
    """True for a regular file (or a link to one): never a folder, a named pipe or a device."""
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False


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
    columns : tuple of str
        The file's header, in order (label and SMILES included).
    """

    X: pd.DataFrame
    y: np.ndarray
    smiles: pd.Series
    path: Path
    sha256: str = field(repr=False)
    columns: tuple[str, ...] = field(default=(), repr=False)


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in chunks; :class:`DataError` for anything but a regular file."""
    path = Path(path)
    if path.exists() and not is_regular_file(path):
        raise DataError(f"{path}: not a regular file")  # a named pipe would block the read forever
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
        columns=tuple(frame.columns),
    )


def load_dia_pair(
    data_dir: str | os.PathLike | None = None,
    *,
    verify_checksum: bool = False,
) -> tuple[DIAData, DIAData]:
    """The training set and the external test set, with the test file's columns checked.

    Same parameters as :func:`load_dia`. Raises :class:`DataError` (via
    :func:`check_same_columns`) unless the test file has exactly the training
    file's columns, in the same order, so no model ever sees a column by the
    wrong name.
    """
    train = load_dia("train", data_dir, verify_checksum=verify_checksum)
    test = load_dia("test", data_dir, verify_checksum=verify_checksum)
    check_same_columns(test, reference=train)
    return train, test


def check_same_columns(other: DIAData, *, reference: DIAData) -> None:
    """Refuse ``other`` unless its columns equal ``reference``'s in name and order.

    Models take descriptors by position, so a reordered, renamed, missing or
    extra column would be scored silently as the wrong descriptor. The
    :class:`DataError` names ``other``'s file, the first position that differs
    and the two names found there.
    """
    expected = list(reference.columns) or [DIA_LABEL, DIA_ID, *reference.X.columns]
    found = list(other.columns) or [DIA_LABEL, DIA_ID, *other.X.columns]
    if found == expected:
        return
    for position, (want, got) in enumerate(zip(expected, found), start=1):
        if want != got:
            detail = f"column {position} is {got!r} where {reference.path.name} has {want!r}"
            break
    else:
        if len(found) < len(expected):
            detail = f"it ends after {len(found)} columns; {reference.path.name} continues with {expected[len(found)]!r}"
        else:
            detail = f"it has an extra column {found[len(expected)]!r} after the {len(expected)} of {reference.path.name}"
    raise DataError(
        f"{other.path}: columns differ from the training file {reference.path} "
        f"({len(found)} vs {len(expected)} columns): {detail}. "
        "Descriptors are used by position, so both files need the same columns in the same order."
    )


def read_descriptor_csv(path: str | os.PathLike, label: str = DIA_LABEL) -> pd.DataFrame:
    """Read a descriptor CSV and check it: label column, 0/1 labels, finite numbers.

    The header row is read as written and is the only source of column names:
    no column becomes a row index (``index_col=False``), unnamed and duplicated
    names are refused (pandas would invent ``Unnamed: 0`` or ``Label.1``), and
    every row must have as many fields as the header (a trailing comma would
    otherwise shift columns). Also refused: a column that holds the row
    numbers (a saved index under a name), a descriptor that copies the label
    (or its complement), and values whose scaling would overflow (a column
    whose sum of squares is not finite in float64).

    Returns the frame (label, optional SMILES, descriptors), columns as in the header.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: file not found")
    if not is_regular_file(path):
        raise DataError(f"{path}: not a regular file")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: file is empty")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from error
    header = _check_csv_structure(path, text)
    try:
        frame = pd.read_csv(io.StringIO(text), index_col=False, dtype={DIA_ID: str} if DIA_ID in header else None)
    except pd.errors.EmptyDataError as error:
        raise DataError(f"{path}: no header or rows") from error
    except pd.errors.ParserError as error:
        raise DataError(f"{path}: not a well-formed CSV ({error})") from error
    if list(map(str, frame.columns)) != header:
        raise DataError(f"{path}: pandas read the columns {list(frame.columns)[:5]}..., the header row says {header[:5]}...")
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
    target = frame[label].to_numpy(dtype=float)
    copies = []
    for column in descriptors.columns:
        values = pd.to_numeric(descriptors[column], errors="coerce")
        numbers = values.to_numpy(dtype=float, na_value=np.nan)
        broken = values.isna().to_numpy() | ~np.isfinite(numbers)
        if broken.any():
            row = int(np.flatnonzero(broken)[0])
            raise DataError(
                f"{path}: column {column!r} has a non-numeric, missing or infinite value "
                f"({_cell(descriptors[column], row)!r} in row {row + 2}); "
                f"{int(broken.sum())} such value(s) in that column"
            )
        with np.errstate(over="ignore"):
            overflows = not np.isfinite(np.sum(np.square(numbers)))
        if overflows:
            row = int(np.argmax(np.abs(numbers)))
            raise DataError(
                f"{path}: column {column!r} has values too large to scale ({numbers[row]!r} in row {row + 2}): "
                "their squares overflow float64; rescale the column before use"
            )
        if np.array_equal(numbers, target) or np.array_equal(numbers, 1.0 - target):
            copies.append(str(column))
        n = len(numbers)
        if n > 2 and (np.array_equal(numbers, np.arange(n)) or np.array_equal(numbers, np.arange(1, n + 1))):
            raise DataError(
                f"{path}: column {column!r} holds the row numbers {int(numbers[0])}..{int(numbers[-1])} "
                "(a saved row index?); remove it, it is not a descriptor"
            )
        frame[column] = values
    if copies:
        raise DataError(
            f"{path}: column(s) {copies} copy the label {label!r} (or its complement) in every row; "
            "a descriptor that is the answer would leak it into every model"
        )
    return frame


def _check_csv_structure(path: Path, text: str) -> list[str]:
    """The raw header row, after refusing unnamed or duplicated names and rows of the wrong width."""
    rows = csv.reader(io.StringIO(text))
    try:
        header = next(rows)
    except StopIteration:
        raise DataError(f"{path}: no header or rows") from None
    except csv.Error as error:
        raise DataError(f"{path}: not a well-formed CSV ({error})") from error
    if len(header) == 1 and any(sep in header[0] for sep in ";\t|"):
        raise DataError(
            f"{path}: only one column was found ({header[0][:60]!r}...); "
            "the file seems to use another delimiter than ','"
        )
    # "Unnamed: 3" is what pandas calls a nameless column; written back, it is a saved index.
    unnamed = [position for position, name in enumerate(header, start=1)
               if not name.strip() or re.fullmatch(r"Unnamed: \d+", name.strip())]
    if unnamed:
        trailing = unnamed == [len(header)]
        raise DataError(
            f"{path}: unnamed column(s) at position(s) {unnamed} of {len(header)} in the header"
            + (" (a trailing comma at the end of the header?)" if trailing else " (a saved row index?)")
            + "; every column needs a name"
        )
    counts = pd.Series(header).value_counts()
    duplicated = sorted(counts.index[counts > 1])
    if duplicated:
        raise DataError(
            f"{path}: duplicated column name(s) {duplicated} in the header; "
            "each column must have its own name (pandas would rename the copies silently)"
        )
    try:
        for fields in rows:
            if not fields:
                continue  # blank line, skipped by pandas as well
            if len(fields) != len(header):
                line = rows.line_num
                extra = fields[len(header):]
                hint = (" (a trailing comma?)" if extra and not any(f.strip() for f in extra) else "")
                raise DataError(
                    f"{path}: line {line} has {len(fields)} fields but the header has {len(header)} names{hint}; "
                    "columns would shift"
                )
    except csv.Error as error:
        raise DataError(f"{path}: not a well-formed CSV ({error})") from error
    return header


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


#: Columns of ``splits.csv`` (see the data folder's PROVENANCE.md and :mod:`lossbook.core.near_duplicates`).
SPLITS_COLUMNS = (
    "class_name", "filename", "roboflow_split", "near_dup_group",
    "orig_width", "orig_height", "orig_bytes", "orig_sha256", "width", "height", "bytes", "sha256",
)
#: The columns :func:`load_acne_index` needs from ``splits.csv``.
SPLITS_REQUIRED = ("class_name", "filename", "roboflow_split", "near_dup_group")
ROBOFLOW_SPLITS = ("train", "valid", "test")


def load_acne_index(
    data_dir: str | os.PathLike | None = None,
    *,
    classes: tuple[str, ...] | None = None,
    check_images: bool = True,
    min_per_class: int = 2,
) -> pd.DataFrame:
    """Index the acne image folder: one row per image.

    Parameters
    ----------
    data_dir : path, optional
        Folder with one subfolder per class (see :func:`acne_dir`). Only
        regular, non-hidden files with an image suffix count as images; images
        may be of any size (the embedding step resizes them).
    classes : tuple of str, optional
        Class folders to use, in label order. Default: every non-hidden
        subfolder, sorted, except those holding files but no images (such as
        ``roboflow_export/``); an *empty* subfolder is an error, never dropped,
        so labels are not renumbered behind the caller's back.
    check_images : bool
        Decode every image fully (at reduced resolution for JPEG, which is
        cheap) and fail on a truncated, corrupt or oversized one.
    min_per_class : int
        Fewest images a class may have (a stratified split needs two).

    Returns
    -------
    pandas.DataFrame
        Columns ``path`` (str), ``class_name``, ``label`` (int, index into the
        class list) and, when the folder has a ``splits.csv``, that file's
        ``roboflow_split`` and ``near_dup_group``. Sorted by class then file name.

    Raises
    ------
    DataError
        Naming the folder or file and the problem.
    """
    folder = acne_dir(data_dir)
    inferred = classes is None
    if inferred:
        classes = tuple(sorted(
            p.name for p in folder.iterdir()
            if p.is_dir() and not p.name.startswith(".") and (image_files(p) or not any(not q.name.startswith(".") for q in p.iterdir()))
        ))
        if len(classes) < 2:
            raise DataError(f"{folder}: expected at least two class subfolders with images")
    rows = []
    for label, name in enumerate(classes):
        class_folder = folder / name
        if not class_folder.is_dir():
            raise DataError(f"{class_folder}: class folder not found")
        images = image_files(class_folder)
        if not images:
            raise DataError(
                f"{class_folder}: class folder has no images"
                + ("; remove it or pass classes=(...) to choose the classes" if inferred else "")
            )
        if len(images) < min_per_class:
            raise DataError(
                f"{class_folder}: class folder has {len(images)} image(s); a stratified split needs "
                f"at least {min_per_class} per class"
            )
        for image in images:
            if check_images:
                check_image(image)
            rows.append((str(image), name, label, image.name))
    index = pd.DataFrame(rows, columns=["path", "class_name", "label", "filename"])
    splits = folder / "splits.csv"
    if splits.exists():
        index = _merge_splits(index, read_splits_csv(splits), splits)
    return index.drop(columns="filename")


def read_splits_csv(path: str | os.PathLike) -> pd.DataFrame:
    """Read and check a ``splits.csv``: required columns, one row per image, valid values.

    Raises :class:`DataError` naming the file for: not a regular file, no
    content, missing columns, a (class_name, filename) pair listed twice, a
    ``roboflow_split`` other than train/valid/test (empty is allowed: unknown)
    or a missing or non-integer ``near_dup_group``.
    """
    path = Path(path)
    if not is_regular_file(path):
        raise DataError(f"{path}: not a regular file")
    try:
        frame = pd.read_csv(path, index_col=False, dtype={"class_name": str, "filename": str})
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: file is empty (expected the columns {list(SPLITS_REQUIRED)})") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise DataError(f"{path}: not a well-formed UTF-8 CSV ({error})") from error
    missing = [c for c in SPLITS_REQUIRED if c not in frame.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {missing}; found {list(map(str, frame.columns))[:8]}")
    if frame.empty:
        raise DataError(f"{path}: has a header but no rows")
    keys = frame[["class_name", "filename"]]
    repeated = keys.duplicated(keep=False)
    if repeated.any():
        first = keys[repeated].iloc[0]
        raise DataError(
            f"{path}: {int(keys.duplicated().sum())} duplicated row(s); "
            f"e.g. {first['class_name']}/{first['filename']} is listed {int(repeated.sum())} times in all"
        )
    # An empty roboflow_split is allowed (a folder built without the export's label files).
    unknown = ~(frame["roboflow_split"].isin(ROBOFLOW_SPLITS) | frame["roboflow_split"].isna())
    if unknown.any():
        row = int(np.flatnonzero(unknown.to_numpy())[0])
        raise DataError(
            f"{path}: roboflow_split must be one of {list(ROBOFLOW_SPLITS)}; row {row + 2} has "
            f"{_cell(frame['roboflow_split'], row)!r}"
        )
    groups = pd.to_numeric(frame["near_dup_group"], errors="coerce")
    broken = groups.isna() | (groups != groups.round())
    if broken.any():
        row = int(np.flatnonzero(broken.to_numpy())[0])
        raise DataError(
            f"{path}: near_dup_group must be an integer; row {row + 2} has {_cell(frame['near_dup_group'], row)!r}"
        )
    frame["near_dup_group"] = groups.astype(int)
    return frame


def _merge_splits(index: pd.DataFrame, splits: pd.DataFrame, path: Path) -> pd.DataFrame:
    merged = index.merge(splits[list(SPLITS_REQUIRED)], on=["class_name", "filename"], how="left",
                         validate="one_to_one", indicator=True)
    unlisted = merged["_merge"] != "both"
    if unlisted.any():
        first = merged[unlisted].iloc[0]
        raise DataError(
            f"{path}: {int(unlisted.sum())} image(s) have no row, e.g. {first['class_name']}/{first['filename']}; "
            "rebuild it with lossbook.core.near_duplicates.build_splits"
        )
    merged["near_dup_group"] = merged["near_dup_group"].astype(int)
    return merged.drop(columns="_merge")


def image_files(folder: Path) -> list[Path]:
    """Sorted image files in ``folder``: regular, non-hidden files with an image suffix."""
    return sorted(
        p for p in folder.iterdir()
        if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".") and is_regular_file(p)
    )


class open_image:  # lower case: used like open()
    """``with open_image(path) as image:`` a PIL image, with every failure a :class:`DataError` naming ``path``.

    Refuses anything but a regular file (a named pipe would block), and
    images over Pillow's decompression-bomb limit (``Image.MAX_IMAGE_PIXELS``),
    where Pillow itself would only warn. Errors while decoding inside the
    ``with`` block (a truncated JPEG) are re-raised with the path as well.
    """

    _ERRORS = (OSError, SyntaxError, ValueError, MemoryError)

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._image = None

    def __enter__(self):
        from PIL import Image, UnidentifiedImageError

        if not is_regular_file(self.path):
            raise DataError(f"{self.path}: not a regular file")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                self._image = Image.open(self.path)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise DataError(f"{self.path}: image too large, refused as a possible decompression bomb ({error})") from None
        except (UnidentifiedImageError, *self._ERRORS) as error:
            raise DataError(f"{self.path}: not a readable image ({error})") from error
        return self._image

    def __exit__(self, kind, error, traceback):
        if self._image is not None:
            self._image.close()
        if error is not None and isinstance(error, self._ERRORS) and not isinstance(error, DataError):
            raise DataError(f"{self.path}: not a readable image ({type(error).__name__}: {error})") from error
        return False


def check_image(path: str | os.PathLike) -> None:
    """Decode an image completely, cheaply: :class:`DataError` naming ``path`` if it cannot be.

    ``verify()`` alone does not decode JPEG data, so a truncated file would
    pass. A JPEG is decoded at 1/8 scale (every byte of its entropy-coded data
    is still read, at a fraction of the cost); other formats in full.
    """
    with open_image(path) as image:
        image.draft(image.mode, (1, 1))
        image.load()


# -- Availability: one lookup for the chapters, the test suite and the reader ----

#: Dataset name -> the loader functions that read it. A chapter that calls one of
#: these needs that dataset (lossbook.publish.needs reads chapter sources for them).
DATASETS = {
    "dia": ("load_dia", "load_dia_pair", "dia_dir"),
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


# --- summaries the data chapter shows --------------------------------------------------------------


def redundant_columns(*frames: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Columns that carry no information of their own across ``frames`` taken together.

    ``frames``: tables with the same columns (e.g. the DIA training and external
    test descriptors), stacked row-wise before looking. Returns ``(constant,
    duplicated)``, two sorted lists of column names: ``constant`` holds one value in
    every row; ``duplicated`` are the non-constant columns that repeat an earlier
    column exactly (the first of each set of identical columns is not listed).
    """
    both = pd.concat(frames)
    constant = sorted(both.columns[both.nunique() == 1])
    transposed = both.drop(columns=constant).T
    duplicated = sorted(transposed.index[transposed.duplicated()])
    return constant, duplicated


def describe_dia_pair(train: DIAData, test: DIAData) -> dict:
    """The facts about the DIA training and external test files that the book records.

    Returns a dict: ``n_train``, ``n_train_positive``, ``n_test``, ``n_test_positive``
    (drugs, and positive drugs, per file), ``n_descriptors`` (feature columns) and
    ``constant_columns``, ``duplicated_columns`` (sorted names, from
    :func:`redundant_columns` over both files' descriptors). Plain Python ints and lists.
    """
    constant, duplicated = redundant_columns(train.X, test.X)
    return {
        "n_train": len(train.y), "n_train_positive": int(train.y.sum()),
        "n_test": len(test.y), "n_test_positive": int(test.y.sum()),
        "n_descriptors": train.X.shape[1], "constant_columns": constant, "duplicated_columns": duplicated,
    }


def acne_split_counts(index: pd.DataFrame) -> pd.DataFrame:
    """Images per class and per Roboflow split of an acne index (:func:`load_acne_index`).

    Returns one row per class (index named ``class``, classes sorted) and one column
    per split present, in the order ``train``, ``valid``, ``test``, then ``total``
    (the row's sum). Counts are ints; a class absent from a split counts 0.
    """
    counts = index.groupby(["class_name", "roboflow_split"]).size().unstack(fill_value=0)
    counts["total"] = counts.sum(axis=1)
    counts.index.name = "class"
    return counts[[s for s in ROBOFLOW_SPLITS if s in counts] + ["total"]]


#: The measures of :func:`lossbook.core.near_duplicates.group_agreement` (and the crossing
#: share the data chapter adds) in words, for table rows.
AGREEMENT_MEASURES = {
    "adjusted_rand_index": "adjusted Rand index",
    "share_differing": "share of images grouped differently",
    "n_differing": "images grouped differently",
    "n_groups": "groups",
    "n_reference_groups": "groups in splits.csv",
    "share_test_in_crossing_group": "share of test images in a crossing group",
}


def agreement_table(agreement: dict, rules: dict | None = None) -> pd.DataFrame:
    """``{rule: {measure: value}}`` as a table: one row per rule, one column per measure in words.

    One row per rule keeps each measure in a column of its own, so that a share, an
    adjusted Rand index and a count each get their own decimals on the page. Rows are
    named by ``rules`` (``{rule: words}``; a rule not in it keeps its name) and the
    index is named ``rule``. Columns follow the order of the first rule's measures; a
    measure named in :data:`AGREEMENT_MEASURES` gets its words, any other keeps its
    name with underscores as spaces. ``agreement`` is not changed.
    """
    rules = rules or {}
    table = pd.DataFrame(agreement).T
    table.columns = [AGREEMENT_MEASURES.get(m, str(m).replace("_", " ")) for m in table.columns]
    table.index = [rules.get(r, str(r)) for r in table.index]
    return table.rename_axis("rule")
