"""Near-duplicate groups built from an image folder: known copies are found, distinct images are not joined."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from lossbook.core import data
from lossbook.core import near_duplicates as nd
from lossbook.core.data import DataError


def _photo(seed: int, size: int = 200) -> Image.Image:
    """A smooth random picture: an 8x8 colour grid blown up, so thumbnails carry structure."""
    grid = np.random.default_rng(seed).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    return Image.fromarray(grid).resize((size, size), Image.BICUBIC)


# name -> (base photo, how the copy was made)
COPIES = {
    "a_original.jpg": (0, "original"),
    "a_reencoded.jpg": (0, "re-encoded at quality 40"),
    "a_resized.png": (0, "resized to 640 px, saved as PNG"),
    "a_small.bmp": (0, "resized to 64 px, BMP"),
    "a_flipped.jpg": (0, "mirrored left-right"),
    "b_original.jpg": (1, "original"),
    "b_flipped_ud.jpg": (1, "mirrored top-bottom"),
    "c_original.png": (2, "original"),
    "d_original.jpg": (3, "original"),
    "e_original.jpg": (4, "original"),
}


def _make(name: str, path):
    seed, how = COPIES[name]
    image = _photo(seed)
    if "quality 40" in how:
        image.save(path, quality=40)
    elif "640" in how:
        image.resize((640, 640), Image.BILINEAR).save(path)
    elif "64 px" in how:
        image.resize((64, 64), Image.BILINEAR).save(path)
    elif "left-right" in how:
        image.transpose(Image.FLIP_LEFT_RIGHT).save(path, quality=90)
    elif "top-bottom" in how:
        image.transpose(Image.FLIP_TOP_BOTTOM).save(path, quality=90)
    else:
        image.save(path, **({"quality": 90} if path.suffix == ".jpg" else {}))


@pytest.fixture()
def folder(tmp_path):
    """Two class folders; the copies of photo 0 straddle them, as in the acne export."""
    root = tmp_path / "images"
    for i, name in enumerate(sorted(COPIES)):
        cls = root / ("Cyst" if i % 2 else "Papules")
        cls.mkdir(parents=True, exist_ok=True)
        _make(name, cls / name)
    return root


def _groups_by_name(table: pd.DataFrame) -> dict[str, int]:
    return dict(zip(table["filename"], table["near_dup_group"]))


def _partition(groups: dict[str, int]) -> set[frozenset]:
    members: dict[int, set] = {}
    for name, group in groups.items():
        members.setdefault(group, set()).add(name)
    return {frozenset(m) for m in members.values()}


def test_correlation_rule_joins_reencoded_and_resized_copies_only(folder):
    groups = _groups_by_name(nd.build_splits(folder))
    assert _partition(groups) == {
        frozenset({"a_original.jpg", "a_reencoded.jpg", "a_resized.png", "a_small.bmp"}),
        frozenset({"a_flipped.jpg"}), frozenset({"b_original.jpg"}), frozenset({"b_flipped_ud.jpg"}),
        frozenset({"c_original.png"}), frozenset({"d_original.jpg"}), frozenset({"e_original.jpg"}),
    }


def test_with_flips_mirrored_copies_join_their_original(folder):
    groups = _groups_by_name(nd.build_splits(folder, flips=True))
    assert _partition(groups) == {
        frozenset({"a_original.jpg", "a_reencoded.jpg", "a_resized.png", "a_small.bmp", "a_flipped.jpg"}),
        frozenset({"b_original.jpg", "b_flipped_ud.jpg"}),
        frozenset({"c_original.png"}), frozenset({"d_original.jpg"}), frozenset({"e_original.jpg"}),
    }


def test_splits_csv_has_the_shared_columns_and_loads(folder):
    out = folder / "splits.csv"
    table = nd.build_splits(folder, out)
    written = pd.read_csv(out)
    assert list(written.columns) == list(data.SPLITS_COLUMNS)
    assert len(written) == len(COPIES)
    sizes = dict(zip(written["filename"], zip(written["width"], written["height"])))
    assert sizes["a_resized.png"] == (640, 640) and sizes["a_small.bmp"] == (64, 64)
    assert written["sha256"].tolist() == [data.sha256_file(folder / c / f) for c, f in zip(table.class_name, table.filename)]
    index = data.load_acne_index(folder)  # the loader accepts what the builder wrote
    assert index["near_dup_group"].tolist() == table["near_dup_group"].tolist()


def test_groups_are_numbered_in_index_order_and_independent_of_block_size(folder):
    index = nd.index_image_folder(folder)
    thumbs, _ = nd.thumbnails(index["path"])
    whole = nd.near_duplicate_groups(thumbs, block=1024)
    assert whole[0] == 0 and set(np.diff(np.maximum.accumulate(whole))) <= {0, 1}
    for block in (1, 3, 7):
        assert np.array_equal(nd.near_duplicate_groups(thumbs, block=block), whole)


def test_threshold_one_still_joins_exact_copies_and_constant_images_join_nothing():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(32, 32)).astype(np.float32)
    thumbs = np.stack([base, base.copy(), base * 2 + 5, rng.normal(size=(32, 32)), np.zeros((32, 32)), np.zeros((32, 32))])
    groups = nd.near_duplicate_groups(thumbs.astype(np.float32), threshold=0.98)
    assert groups[0] == groups[1] == groups[2]  # Pearson r ignores brightness and contrast
    assert len(set(groups[3:])) == 3 and groups[3] != groups[0]


def test_export_layout_with_split_folders_and_one_hot_labels(tmp_path):
    root = tmp_path / "export"
    for split, names in {"train": ["a_original.jpg", "c_original.png"], "valid": ["a_reencoded.jpg"], "test": ["d_original.jpg"]}.items():
        (root / split).mkdir(parents=True)
        for name in names:
            _make(name, root / split / name)
        rows = [f"{n}, {int(n[0] == 'a')}, {int(n[0] != 'a')}" for n in names]
        (root / split / "_classes.csv").write_text("filename, Cyst, Papules\n" + "\n".join(rows) + "\n")
    table = nd.build_splits(root)
    assert table[["class_name", "filename", "roboflow_split"]].values.tolist() == [
        ["Cyst", "a_original.jpg", "train"], ["Cyst", "a_reencoded.jpg", "valid"],
        ["Papules", "c_original.png", "train"], ["Papules", "d_original.jpg", "test"],
    ]
    assert table["near_dup_group"].tolist() == [0, 0, 1, 2]


def test_broken_image_in_the_folder_is_named(folder):
    (folder / "Cyst" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    with pytest.raises(DataError, match="broken.jpg: not a readable image"):
        nd.build_splits(folder)


def test_agreement_of_two_groupings():
    same = nd.group_agreement([0, 0, 1, 2], [5, 5, 7, 9])
    assert same["adjusted_rand_index"] == 1.0 and same["share_differing"] == 0.0
    merged = nd.group_agreement([0, 0, 0, 2], [5, 5, 7, 9])  # image 2 joined the first group
    assert merged["n_differing"] == 3 and merged["share_differing"] == 0.75
    assert merged["adjusted_rand_index"] < 1
    with pytest.raises(ValueError, match="one length"):
        nd.group_agreement([0, 1], [0])


def test_command_line_writes_splits_csv(folder, capsys):
    assert nd.main([str(folder)]) == 0
    assert (folder / "splits.csv").is_file() and "near-duplicate groups" in capsys.readouterr().out
    assert nd.main([str(folder / "nowhere")]) == 2


@pytest.mark.slow
def test_rebuilds_the_shared_groups_exactly(data_root):
    """The recipe in the package gives the shared splits.csv's partition on the shared images."""
    table = nd.build_splits(data_root / "acne")
    shared = data.read_splits_csv(data_root / "acne" / "splits.csv").sort_values(["class_name", "filename"], ignore_index=True)
    assert table["filename"].tolist() == shared["filename"].tolist()
    assert (table["roboflow_split"] == shared["roboflow_split"]).all()
    assert nd.group_agreement(table["near_dup_group"], shared["near_dup_group"])["adjusted_rand_index"] == 1.0


def test_crossing_share_counts_images_whose_group_spans_splits():
    groups = [0, 0, 1, 2, 2, 3]
    splits = ["train", "test", "test", "test", "test", "valid"]
    assert nd.crossing_share(groups, splits, "test") == 0.25  # of four test images, group 0 spans two splits
    assert nd.crossing_share(groups, splits, "train") == 1.0
    with pytest.raises(ValueError, match="one length"):
        nd.crossing_share([0, 1], ["a"], "a")
