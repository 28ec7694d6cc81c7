"""Near-duplicate image groups and the acne ``splits.csv``, built from an image folder.

The acne export holds many copies of one photo under different file names
(re-encoded, resized, some mirrored). A split that puts copies on both sides
leaks. This module rebuilds the grouping that ``splits.csv`` records:

1. each image -> a ``32 x 32`` grey thumbnail (Pillow: full decode, ``convert("L")``,
   bilinear resize), whatever its size or format;
2. two images are linked when the Pearson correlation of their thumbnails is
   at least ``0.98`` (optionally also against the other's mirror images, see
   ``flips``);
3. the groups are the connected components of that graph
   (:func:`scipy.sparse.csgraph.connected_components`), numbered in index order.

Correlations are computed in blocks of rows, so memory stays at
``block x n`` floats, not ``n x n``.

:func:`build_splits` runs the whole recipe on a folder and writes a
``splits.csv`` with the columns of the shared one (:data:`lossbook.core.data.SPLITS_COLUMNS`).
Run it from the command line as ``python -m lossbook.core.near_duplicates FOLDER``.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from lossbook.core.data import (
    ROBOFLOW_SPLITS,
    SPLITS_COLUMNS,
    DataError,
    image_files,
    open_image,
    sha256_file,
)
from lossbook.core.io import write_text_atomic

__all__ = [
    "THRESHOLD",
    "THUMBNAIL_SIZE",
    "build_splits",
    "crossing_share",
    "group_agreement",
    "index_image_folder",
    "near_duplicate_groups",
    "thumbnail",
    "thumbnails",
]

THUMBNAIL_SIZE = 32
THRESHOLD = 0.98


def thumbnail(path: str | os.PathLike, size: int = THUMBNAIL_SIZE) -> tuple[np.ndarray, tuple[int, int]]:
    """Grey ``size x size`` thumbnail (float32, shape ``(size, size)``) and the image's (width, height).

    Decodes the whole file: a truncated or corrupt image raises
    :class:`~lossbook.core.data.DataError` naming ``path``.
    """
    from PIL import Image

    with open_image(path) as image:
        original = image.size
        grey = image.convert("L").resize((size, size), Image.BILINEAR)
        return np.asarray(grey, dtype=np.float32), original


def thumbnails(paths, size: int = THUMBNAIL_SIZE, *, progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Thumbnails of many images: ``(n, size, size)`` float32 and ``(n, 2)`` int original sizes."""
    from tqdm.auto import tqdm

    paths = list(paths)
    out = np.empty((len(paths), size, size), dtype=np.float32)
    sizes = np.empty((len(paths), 2), dtype=np.int64)
    for i, path in enumerate(tqdm(paths, desc="thumbnails", unit="img", mininterval=2.0, disable=not progress)):
        out[i], sizes[i] = thumbnail(path, size)
    return out, sizes


def _standardise(rows: np.ndarray) -> np.ndarray:
    """Centre each row and scale it to unit norm, so dot products are Pearson correlations.

    A constant thumbnail (all one grey) has no defined correlation; its row is
    left at zero, so it is linked to nothing.
    """
    z = rows.reshape(len(rows), -1).astype(np.float64)
    z -= z.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(z, axis=1, keepdims=True)
    np.divide(z, norms, out=z, where=norms > 1e-9)
    z[norms[:, 0] <= 1e-9] = 0.0
    return z.astype(np.float32)  # float32 products: r to ~1e-7, half the memory and time


def near_duplicate_groups(
    thumbs: np.ndarray,
    *,
    threshold: float = THRESHOLD,
    flips: bool = False,
    block: int = 1024,
) -> np.ndarray:
    """Connected components of "thumbnail correlation >= ``threshold``".

    Parameters
    ----------
    thumbs : ndarray, shape (n, h, w)
        Grey thumbnails (see :func:`thumbnails`).
    threshold : float
        Pearson r at or above which two images are linked, in (0, 1].
    flips : bool
        Also link an image to the left-right, up-down and both-ways mirror of
        another (so a flipped copy joins its original). ``False`` is the rule
        the shared ``splits.csv`` was made with.
    block : int
        Rows per block of the correlation matrix (memory ~ ``block * n * 8`` bytes).

    Returns
    -------
    ndarray of int, shape (n,)
        Group number per image, ``0 .. n_groups - 1``, numbered by first appearance.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    thumbs = np.asarray(thumbs)
    if thumbs.ndim != 3:
        raise ValueError(f"thumbs must have shape (n, h, w), got {thumbs.shape}")
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1], got {threshold!r}")
    if block < 1:
        raise ValueError(f"block must be positive, got {block!r}")
    n = len(thumbs)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    z = _standardise(thumbs)
    variants = [thumbs]
    if flips:
        variants += [thumbs[:, :, ::-1], thumbs[:, ::-1, :], thumbs[:, ::-1, ::-1]]
    targets = [z] + [_standardise(v) for v in variants[1:]]
    rows, cols = [], []
    for start in range(0, n, block):
        stop = min(start + block, n)
        best = np.full((stop - start, n), -np.inf, dtype=np.float32)
        for target in targets:
            np.maximum(best, z[start:stop] @ target.T, out=best)
        i, j = np.nonzero(best >= threshold)
        keep = i + start < j  # the graph is symmetric; one triangle suffices
        rows.append(i[keep] + start)
        cols.append(j[keep])
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    graph = coo_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    # Number groups by the first image in each, so the numbering follows the index order.
    _, first = np.unique(labels, return_index=True)
    order = np.empty(len(first), dtype=np.int64)
    order[np.argsort(np.argsort(first))] = np.arange(len(first))
    return order[labels]


def index_image_folder(folder: str | os.PathLike) -> pd.DataFrame:
    """One row per image of an acne-style folder: ``class_name, filename, roboflow_split, path``.

    Two layouts are read:

    * class folders, ``<folder>/<Class>/<image>`` (the shared copy); the export
      split comes from the Roboflow label files ``_{train,valid,test}_classes.csv``
      when ``<folder>/roboflow_export/`` has them (else ``roboflow_split`` is empty);
    * the export's split folders, ``<folder>/{train,valid,test}/``, each holding
      either class folders or flat images with Roboflow's one-hot ``_classes.csv``.

    Only regular, non-hidden image files are read. Sorted by class, then file name.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: image folder not found")
    split_folders = [folder / s for s in ROBOFLOW_SPLITS if (folder / s).is_dir()]
    rows = []
    if split_folders:
        for split_folder in split_folders:
            labels = split_folder / "_classes.csv"
            if labels.is_file():
                classes = _one_hot_classes(labels)
                for path in image_files(split_folder):
                    if path.name not in classes:
                        raise DataError(f"{labels}: no row for the image {path.name}")
                    rows.append((classes[path.name], path.name, split_folder.name, path))
            else:
                for class_folder in sorted(p for p in split_folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
                    rows += [(class_folder.name, p.name, split_folder.name, p) for p in image_files(class_folder)]
    else:
        export = {}
        for split in ROBOFLOW_SPLITS:
            labels = folder / "roboflow_export" / f"_{split}_classes.csv"
            if labels.is_file():
                export.update({name: split for name in _one_hot_classes(labels)})
        for class_folder in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
            rows += [(class_folder.name, p.name, export.get(p.name, ""), p) for p in image_files(class_folder)]
    if not rows:
        raise DataError(f"{folder}: no images found (expected <Class>/ or train|valid|test/ subfolders)")
    index = pd.DataFrame(rows, columns=["class_name", "filename", "roboflow_split", "path"])
    duplicated = index.duplicated(["class_name", "filename"])
    if duplicated.any():
        first = index[duplicated].iloc[0]
        raise DataError(f"{folder}: the file name {first['filename']} appears twice in class {first['class_name']}")
    return index.sort_values(["class_name", "filename"], ignore_index=True)


def _one_hot_classes(path: Path) -> dict[str, str]:
    """Roboflow's ``_classes.csv`` (``filename`` + one 0/1 column per class) -> {filename: class}."""
    try:
        frame = pd.read_csv(path, index_col=False, skipinitialspace=True)
    except (pd.errors.EmptyDataError, pd.errors.ParserError) as error:
        raise DataError(f"{path}: not a Roboflow label file ({error})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    if "filename" not in frame.columns or frame.shape[1] < 3:
        raise DataError(f"{path}: expected a 'filename' column and one 0/1 column per class")
    onehot = frame.drop(columns="filename")
    per_row = onehot.sum(axis=1)
    if not (per_row == 1).all():
        row = int(np.flatnonzero((per_row != 1).to_numpy())[0])
        raise DataError(f"{path}: row {row + 2} ({frame['filename'].iloc[row]}) has {int(per_row.iloc[row])} labels, expected 1")
    return dict(zip(frame["filename"], onehot.idxmax(axis=1)))


def build_splits(
    folder: str | os.PathLike,
    output: str | os.PathLike | None = None,
    *,
    threshold: float = THRESHOLD,
    flips: bool = False,
    progress: bool = False,
) -> pd.DataFrame:
    """Near-duplicate groups of every image under ``folder``, as a ``splits.csv`` table.

    Parameters
    ----------
    folder : path
        An image folder in one of the layouts of :func:`index_image_folder`;
        images of any size and of the usual formats (JPEG, PNG, BMP).
    output : path, optional
        Where to write the CSV (atomically); nothing is written when ``None``.
    threshold, flips
        See :func:`near_duplicate_groups`.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`~lossbook.core.data.SPLITS_COLUMNS`, one row per image,
        sorted by class then file name. The package does not resize files, so
        ``orig_*`` and the plain ``width``/``height``/``bytes``/``sha256``
        columns both describe the file read.
    """
    index = index_image_folder(folder)
    thumbs, sizes = thumbnails(index["path"], progress=progress)
    table = index[["class_name", "filename", "roboflow_split"]].copy()
    table["near_dup_group"] = near_duplicate_groups(thumbs, threshold=threshold, flips=flips)
    table["width"], table["height"] = sizes[:, 0], sizes[:, 1]
    table["bytes"] = [os.stat(p).st_size for p in index["path"]]
    table["sha256"] = [sha256_file(p) for p in index["path"]]
    for column in ("width", "height", "bytes", "sha256"):
        table[f"orig_{column}"] = table[column]
    table = table[list(SPLITS_COLUMNS)]
    if output is not None:
        write_text_atomic(output, table.to_csv(index=False, lineterminator="\n"))
    return table


def group_agreement(groups, reference) -> dict:
    """How far two groupings of the same images agree.

    Returns ``adjusted_rand_index`` (1 = identical partitions, ~0 = chance),
    ``share_differing`` (fraction of images whose group, as a set of images,
    is not the same in both) and the two numbers of groups.
    """
    from sklearn.metrics import adjusted_rand_score

    groups, reference = np.asarray(groups), np.asarray(reference)
    if groups.shape != reference.shape or groups.ndim != 1:
        raise ValueError(f"groups and reference must be 1-D of one length, got {groups.shape} and {reference.shape}")
    pairs = pd.DataFrame({"ours": groups, "ref": reference})
    both = pairs.groupby(["ours", "ref"])["ours"].transform("size")
    same = (both == pairs.groupby("ours")["ours"].transform("size")) & (both == pairs.groupby("ref")["ref"].transform("size"))
    return {
        "adjusted_rand_index": float(adjusted_rand_score(reference, groups)),
        "share_differing": float(1 - same.mean()),
        "n_differing": int((~same).sum()),
        "n_groups": int(pairs["ours"].nunique()),
        "n_reference_groups": int(pairs["ref"].nunique()),
    }


def crossing_share(groups, splits, split: str) -> float:
    """Share of the images in ``split`` whose group also has members in another split (a leak).

    ``groups`` and ``splits``: one entry per image (group id, split name).
    """
    groups, splits = np.asarray(groups), np.asarray(splits)
    if groups.shape != splits.shape or groups.ndim != 1:
        raise ValueError(f"groups and splits must be 1-D of one length, got {groups.shape} and {splits.shape}")
    spans = pd.Series(splits).groupby(groups).transform("nunique").to_numpy()
    return float((spans[splits == split] > 1).mean())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lossbook.core.near_duplicates",
        description="Build splits.csv (near-duplicate groups) for an acne-style image folder.",
    )
    parser.add_argument("folder", type=Path)
    parser.add_argument("--output", type=Path, default=None, help="default: FOLDER/splits.csv")
    parser.add_argument("--threshold", type=float, default=THRESHOLD)
    parser.add_argument("--flips", action="store_true", help="also link mirrored copies")
    args = parser.parse_args(argv)
    try:
        table = build_splits(args.folder, args.output or args.folder / "splits.csv",
                             threshold=args.threshold, flips=args.flips, progress=True)
    except (DataError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"{len(table)} images, {table['near_dup_group'].nunique()} near-duplicate groups")
    return 0


if __name__ == "__main__":
    sys.exit(main())
