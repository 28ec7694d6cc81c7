"""Data loading: the real files load and check out; bad input gets a clear error."""
from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from lossbook.core import data
from lossbook.core.data import DataError

# -- the real data ------------------------------------------------------------

def test_real_dia_matches_published_counts_and_checksums(data_root):
    train = data.load_dia("train", data_root / "dia", verify_checksum=True)
    test = data.load_dia("test", data_root / "dia", verify_checksum=True)
    assert train.X.shape == (477, 196) and int(train.y.sum()) == 118
    assert test.X.shape == (120, 196) and int(test.y.sum()) == 30
    assert "SMILES" not in train.X.columns and "Label" not in train.X.columns
    assert list(train.X.columns) == list(test.X.columns)


def test_env_variable_is_used_when_no_dir_given(data_root, monkeypatch):
    monkeypatch.setenv("LOSSBOOK_DATA_DIR", str(data_root))
    assert data.dia_dir() == data_root / "dia"


def test_real_acne_index(data_root):
    index = data.load_acne_index(data_root / "acne", classes=data.ACNE_CLASSES, check_images=False)
    assert len(index) == 4607
    assert index.groupby("class_name").size()["Whiteheads"] == 299
    assert index["near_dup_group"].notna().all()
    assert set(index["label"]) == {0, 1, 2, 3, 4}


# -- bad DIA input ------------------------------------------------------------

def _write_dia(folder: Path, frame: pd.DataFrame, **to_csv) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / data.DIA_FILES["train"][0]
    frame.to_csv(path, index=False, **to_csv)
    (folder / data.DIA_FILES["test"][0]).write_text(path.read_text())
    return path


def _frame(n=6):
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "Label": [0, 1] * (n // 2),
        "SMILES": [f"C{i}" for i in range(n)],
        "MolWt": rng.normal(size=n),
        "TPSA": rng.normal(size=n),
    })


def test_valid_small_file_loads(tmp_path):
    _write_dia(tmp_path, _frame())
    loaded = data.load_dia("train", tmp_path)
    assert loaded.X.shape == (6, 2) and loaded.y.tolist() == [0, 1] * 3


def test_checksum_mismatch_is_reported_when_asked(tmp_path):
    path = _write_dia(tmp_path, _frame())
    with pytest.raises(DataError, match=rf"{path.name}.*does not match"):
        data.load_dia("train", tmp_path, verify_checksum=True)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda f: f.rename(columns={"Label": "Labels"}), r"no 'Label' column.*Did you mean 'Labels'"),
        (lambda f: f.drop(columns="Label"), r"no 'Label' column"),
        (lambda f: f.assign(Label=[0, 1, 2, 0, 1, 0]), r"only 0 and 1; row 4 has 2"),
        (lambda f: f.assign(Label=["no", "yes"] * 3), r"only 0 and 1"),
        (lambda f: f.assign(TPSA=[1.0, np.nan, 2, 3, 4, 5]), r"column 'TPSA'.*missing or infinite.*row 3"),
        (lambda f: f.assign(TPSA=[1.0, np.inf, 2, 3, 4, 5]), r"column 'TPSA'.*infinite"),
        (lambda f: f.assign(MolWt=["a", 1, 2, 3, 4, 5]), r"column 'MolWt'.*non-numeric.*'a'"),
        (lambda f: f.iloc[:0], r"header but no rows"),
        (lambda f: f.assign(Label=0), r"only the class 0; a classifier needs both"),
    ],
)
def test_bad_descriptor_files_name_file_and_problem(tmp_path, mutate, message):
    path = _write_dia(tmp_path, mutate(_frame()))
    with pytest.raises(DataError, match=message) as info:
        data.load_dia("train", tmp_path)
    assert str(path) in str(info.value)


def test_duplicated_rows_are_kept_with_a_warning(tmp_path):
    frame = _frame()
    path = _write_dia(tmp_path, pd.concat([frame, frame.iloc[:2]]))
    with pytest.warns(UserWarning, match=rf"{path.name}: 2 row\(s\) duplicate"):
        loaded = data.load_dia("train", tmp_path)
    assert len(loaded.y) == 8


def test_wrong_delimiter_is_named(tmp_path):
    _write_dia(tmp_path, _frame(), sep=";")
    with pytest.raises(DataError, match="another delimiter"):
        data.load_dia("train", tmp_path)


def test_wrong_encoding_is_named(tmp_path):
    path = _write_dia(tmp_path, _frame())
    path.write_bytes(path.read_bytes().replace(b"C1", "C\u00e9".encode("latin-1")))
    with pytest.raises(DataError, match="not UTF-8"):
        data.load_dia("train", tmp_path)


def test_empty_and_missing_files(tmp_path):
    with pytest.raises(DataError, match="missing DIA_trainingset"):
        data.load_dia("train", tmp_path)
    _write_dia(tmp_path, _frame())
    (tmp_path / data.DIA_FILES["train"][0]).write_text("")
    with pytest.raises(DataError, match="file is empty"):
        data.load_dia("train", tmp_path)


def test_unknown_split_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="split must be one of"):
        data.load_dia("validation", tmp_path)


# -- download route -----------------------------------------------------------

def _zip_bytes(members: dict[str, bytes]) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, payload in members.items():
            zf.writestr(name, payload)
    buffer.seek(0)
    return buffer


def test_zip_with_escaping_member_is_refused_and_nothing_installed(tmp_path):
    archive = _zip_bytes({"../evil.csv": b"x", "DIA_trainingset_RDKit_descriptors.csv": b"x"})
    target = tmp_path / "cache" / "dia"
    with pytest.raises(DataError, match="outside"):
        data.install_dia_zip(archive, target)
    assert not target.exists() and not (tmp_path / "cache" / "evil.csv").exists()


def test_zip_with_wrong_checksum_installs_nothing(tmp_path):
    archive = _zip_bytes({name: b"Label,x\n0,1\n" for name, _ in data.DIA_FILES.values()})
    target = tmp_path / "dia"
    with pytest.raises(DataError, match="sha256.*expected"):
        data.install_dia_zip(archive, target)
    assert not target.exists()


def test_real_zip_round_trip_installs_checked_files(data_root, tmp_path):
    members = {f"nested/{name}": (data_root / "dia" / name).read_bytes() for name, _ in data.DIA_FILES.values()}
    target = tmp_path / "dia"
    data.install_dia_zip(_zip_bytes(members), target)
    assert sorted(p.name for p in target.iterdir()) == sorted(n for n, _ in data.DIA_FILES.values())


def test_offline_download_says_where_to_put_files(tmp_path, monkeypatch, isolated_cache):
    monkeypatch.delenv("LOSSBOOK_DATA_DIR", raising=False)

    def refuse(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(data.urllib.request, "urlopen", refuse)
    with pytest.raises(DataError, match=r"could not be downloaded.*unzip.*into .*data/dia"):
        data.dia_dir()


# -- bad acne input -----------------------------------------------------------

def _image_folder(root: Path, counts: dict[str, int]) -> Path:
    for name, count in counts.items():
        (root / name).mkdir(parents=True)
        for i in range(count):
            Image.new("RGB", (8, 8), (i * 20, 0, 0)).save(root / name / f"{i}.jpg")
    return root


def test_acne_folder_indexes_classes_in_order(tmp_path):
    root = _image_folder(tmp_path / "acne", {"B": 2, "A": 3})
    index = data.load_acne_index(root)
    assert index.groupby("class_name").size().to_dict() == {"A": 3, "B": 2}
    assert index.loc[index.class_name == "A", "label"].unique().tolist() == [0]


def test_acne_empty_class_is_named(tmp_path):
    root = _image_folder(tmp_path / "acne", {"A": 2, "B": 2})
    (root / "Empty").mkdir()
    with pytest.raises(DataError, match=r"Empty: class folder has no images"):
        data.load_acne_index(root, classes=("A", "B", "Empty"))


def test_acne_corrupt_image_is_named(tmp_path):
    root = _image_folder(tmp_path / "acne", {"A": 2, "B": 2})
    (root / "B" / "broken.jpg").write_bytes(b"not an image at all")
    with pytest.raises(DataError, match=r"broken.jpg: not a readable image"):
        data.load_acne_index(root)


def test_acne_missing_folder_is_named(tmp_path, monkeypatch):
    with pytest.raises(DataError, match="acne data folder not found"):
        data.load_acne_index(tmp_path / "nowhere")
    monkeypatch.delenv("LOSSBOOK_DATA_DIR", raising=False)
    with pytest.raises(DataError, match="LOSSBOOK_DATA_DIR"):
        data.acne_dir()


# -- which column is which (DIA) ----------------------------------------------

def _write_text(folder: Path, text: str, split: str = "train") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / data.DIA_FILES[split][0]
    path.write_text(text)
    return path


GOOD_ROWS = ["0,C0,1.5,2.0", "1,C1,2.5,3.0", "0,C2,0.5,1.0", "1,C3,1.0,4.0"]


@pytest.mark.parametrize(
    "header, rows, message",
    [
        # a saved row index: an unnamed first column (pandas would call it 'Unnamed: 0')
        (",Label,SMILES,MolWt,TPSA", [f"{i},{r}" for i, r in enumerate(GOOD_ROWS)], r"unnamed column.*position.*\[1\].*row index"),
        # the index pandas wrote back after reading such a file
        ("Unnamed: 0,Label,SMILES,MolWt,TPSA", [f"{i},{r}" for i, r in enumerate(GOOD_ROWS)], r"unnamed column.*\[1\]"),
        # a saved index under a name
        ("index,Label,SMILES,MolWt,TPSA", [f"{i},{r}" for i, r in enumerate(GOOD_ROWS)], r"column 'index' holds the row numbers 0..3"),
        # a blank name in the middle
        ("Label,SMILES, ,TPSA", GOOD_ROWS, r"unnamed column.*\[3\]"),
        # a header ending in a comma, and rows too
        ("Label,SMILES,MolWt,TPSA,", [r + "," for r in GOOD_ROWS], r"unnamed column.*\[5\].*trailing comma"),
        # rows ending in a comma under a clean header: columns would shift
        ("Label,SMILES,MolWt,TPSA", [r + "," for r in GOOD_ROWS], r"line 2 has 5 fields but the header has 4.*trailing comma"),
        # a row one field short
        ("Label,SMILES,MolWt,TPSA", GOOD_ROWS[:2] + ["0,C2,0.5"] + GOOD_ROWS[3:], r"line 4 has 3 fields"),
        # a second Label (pandas would rename it Label.1 and keep it as a descriptor)
        ("Label,SMILES,MolWt,Label", GOOD_ROWS, r"duplicated column name.*\['Label'\]"),
        ("Label,SMILES,MolWt,MolWt", GOOD_ROWS, r"duplicated column name.*\['MolWt'\]"),
    ],
)
def test_header_and_row_width_are_checked_against_the_raw_header(tmp_path, header, rows, message):
    path = _write_text(tmp_path, "\n".join([header, *rows]) + "\n")
    with pytest.raises(DataError, match=message) as info:
        data.read_descriptor_csv(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("copy", [
    lambda f: f["Label"],                 # an exact copy under another name
    lambda f: 1 - f["Label"],             # its complement
    lambda f: f["Label"].astype(float),   # as floats
])
def test_a_column_copying_the_label_is_named(tmp_path, copy):
    frame = _frame()
    frame.insert(3, "leak", copy(frame))
    path = _write_dia(tmp_path, frame)
    with pytest.raises(DataError, match=r"\['leak'\] copy the label") as info:
        data.load_dia("train", tmp_path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("value", [1e308, -1e200, 2e154])
def test_values_whose_scaling_would_overflow_are_refused(tmp_path, value):
    frame = _frame()
    frame.loc[2, "TPSA"] = value
    _write_dia(tmp_path, frame)
    with pytest.raises(DataError, match=r"column 'TPSA' has values too large to scale.*row 4"):
        data.load_dia("train", tmp_path)


def test_large_but_scalable_values_load_and_scale(tmp_path):
    from sklearn.preprocessing import StandardScaler

    frame = _frame()
    frame.loc[2, "TPSA"] = 1e100
    _write_dia(tmp_path, frame)
    loaded = data.load_dia("train", tmp_path)
    assert np.isfinite(StandardScaler().fit_transform(loaded.X)).all()


def test_index_column_is_never_inferred(tmp_path):
    """A header one name short of the rows is refused, not read with the first column as index."""
    path = _write_text(tmp_path, "\n".join(["SMILES,MolWt,TPSA", *GOOD_ROWS]) + "\n")
    with pytest.raises(DataError, match="fields but the header has 3"):
        data.read_descriptor_csv(path)


def test_columns_keep_their_header_names_and_order(tmp_path):
    path = _write_text(tmp_path, "TPSA,Label,MolWt,SMILES\n1,0,2,C0\n2,1,3,C1\n")
    frame = data.read_descriptor_csv(path)
    assert list(frame.columns) == ["TPSA", "Label", "MolWt", "SMILES"]
    assert frame["Label"].tolist() == [0, 1]


def _pair(tmp_path, test_frame):
    folder = tmp_path / "dia"
    _write_dia(folder, _frame())
    test_frame.to_csv(folder / data.DIA_FILES["test"][0], index=False)
    return folder


@pytest.mark.parametrize("mutate, message", [
    (lambda f: f[["Label", "SMILES", "TPSA", "MolWt"]], r"column 3 is 'TPSA' where .* has 'MolWt'"),
    (lambda f: f.drop(columns="TPSA"), r"ends after 3 columns.*continues with 'TPSA'"),
    (lambda f: f.assign(extra=1.0), r"extra column 'extra'"),
    (lambda f: f.rename(columns={"MolWt": "molwt"}), r"column 3 is 'molwt' where .* has 'MolWt'"),
    (lambda f: f.drop(columns="SMILES"), r"column 2 is 'MolWt' where .* has 'SMILES'"),
])
def test_external_test_file_must_have_the_training_columns_in_order(tmp_path, mutate, message):
    folder = _pair(tmp_path, mutate(_frame()))
    with pytest.raises(DataError, match=message) as info:
        data.load_dia_pair(folder)
    assert str(folder / data.DIA_FILES["test"][0]) in str(info.value)


def test_matching_pair_loads(tmp_path):
    train, test = data.load_dia_pair(_pair(tmp_path, _frame()))
    assert list(train.X.columns) == list(test.X.columns) == ["MolWt", "TPSA"]
    data.check_same_columns(test, reference=train)


# -- images, folders and splits.csv -------------------------------------------

def _jpeg_bytes(size=64, seed=0) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width x height`` pixels (a decompression bomb's calling card)."""
    import struct
    import zlib

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


@pytest.mark.parametrize("name, payload, message", [
    ("truncated.jpg", _jpeg_bytes()[:-400], r"truncated.jpg: not a readable image.*truncated"),
    ("half.jpg", _jpeg_bytes()[: len(_jpeg_bytes()) // 2], r"half.jpg: not a readable image"),
    ("bomb.png", _png_header(100_000, 100_000), r"bomb.png: image too large.*decompression bomb"),
    ("warned.png", _png_header(10_000, 10_000), r"warned.png: image too large"),
    ("text.jpg", b"not an image at all", r"text.jpg: not a readable image"),
    ("empty.png", b"", r"empty.png: not a readable image"),
])
def test_broken_images_are_named_by_the_index_check_and_by_the_embedding_loader(tmp_path, name, payload, message):
    from lossbook.nets.embeddings import load_image

    root = _image_folder(tmp_path / "acne", {"A": 2, "B": 2})
    (root / "B" / name).write_bytes(payload)
    with pytest.raises(DataError, match=message):
        data.load_acne_index(root)
    with pytest.raises(DataError, match=message):
        load_image(root / "B" / name, 32)


def test_a_good_jpeg_passes_the_decoding_check(tmp_path):
    path = tmp_path / "ok.jpg"
    path.write_bytes(_jpeg_bytes(size=640))
    data.check_image(path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_only_regular_non_hidden_files_are_read(tmp_path):
    root = _image_folder(tmp_path / "acne", {"A": 2, "B": 2})
    os.mkfifo(root / "A" / "x.jpg")                      # would block a reader forever
    (root / "A" / ".hidden.jpg").write_bytes(b"junk")    # e.g. macOS ._ files
    (root / "A" / "folder.jpg").mkdir()
    index = data.load_acne_index(root)                   # returns, and ignores all three
    assert sorted(Path(p).name for p in index["path"]) == ["0.jpg", "0.jpg", "1.jpg", "1.jpg"]
    for read in (data.check_image, data.sha256_file):  # refused before any read could block
        with pytest.raises(DataError, match="x.jpg: not a regular file"):
            read(root / "A" / "x.jpg")


def test_empty_class_folder_is_an_error_not_dropped(tmp_path):
    root = _image_folder(tmp_path / "acne", {"A": 2, "C": 2})
    (root / "B").mkdir()
    with pytest.raises(DataError, match=r"acne/B: class folder has no images; remove it or pass classes="):
        data.load_acne_index(root)
    (root / "B" / ".DS_Store").write_bytes(b"x")  # hidden files do not make it a class
    with pytest.raises(DataError, match=r"acne/B: class folder has no images"):
        data.load_acne_index(root)


def test_a_folder_of_other_files_is_not_a_class(tmp_path):
    root = _image_folder(tmp_path / "acne", {"A": 2, "B": 2})
    (root / "roboflow_export").mkdir()
    (root / "roboflow_export" / "README.txt").write_text("about")
    assert sorted(data.load_acne_index(root)["class_name"].unique()) == ["A", "B"]


def test_a_class_with_a_single_image_is_named(tmp_path):
    root = _image_folder(tmp_path / "acne", {"A": 3, "B": 1})
    with pytest.raises(DataError, match=r"acne/B: class folder has 1 image\(s\); a stratified split needs at least 2"):
        data.load_acne_index(root)


def _splits(root: Path) -> pd.DataFrame:
    rows = [(c.name, p.name, "train", i) for i, c in enumerate(sorted(root.iterdir())) for p in sorted(c.iterdir())]
    return pd.DataFrame(rows, columns=["class_name", "filename", "roboflow_split", "near_dup_group"])


@pytest.mark.parametrize("write, message", [
    (lambda f, path: path.write_text(""), r"splits.csv: file is empty"),
    (lambda f, path: path.write_text("class_name,filename,roboflow_split,near_dup_group\n"), r"splits.csv: has a header but no rows"),
    (lambda f, path: f.drop(columns="near_dup_group").to_csv(path, index=False), r"splits.csv: missing column\(s\) \['near_dup_group'\]"),
    (lambda f, path: f.rename(columns={"filename": "file"}).to_csv(path, index=False), r"missing column\(s\) \['filename'\]"),
    (lambda f, path: pd.concat([f, f.iloc[:1]]).to_csv(path, index=False), r"splits.csv: 1 duplicated row\(s\); e.g. A/0.jpg"),
    (lambda f, path: f.assign(roboflow_split="dev").to_csv(path, index=False), r"roboflow_split must be one of.*'dev'"),
    (lambda f, path: f.assign(near_dup_group=["x", 1, 2, 3]).to_csv(path, index=False), r"near_dup_group must be an integer; row 2"),
    (lambda f, path: f.iloc[1:].to_csv(path, index=False), r"splits.csv: 1 image\(s\) have no row, e.g. A/0.jpg"),
    (lambda f, path: f.to_csv(path, index=False, sep=";"), r"splits.csv: missing column"),
])
def test_bad_splits_csv_is_named(tmp_path, write, message):
    root = _image_folder(tmp_path / "acne", {"A": 2, "B": 2})
    write(_splits(root), root / "splits.csv")
    with pytest.raises(DataError, match=message):
        data.load_acne_index(root)


def test_good_splits_csv_is_merged(tmp_path):
    root = _image_folder(tmp_path / "acne", {"A": 2, "B": 2})
    _splits(root).to_csv(root / "splits.csv", index=False)
    index = data.load_acne_index(root)
    assert index["near_dup_group"].tolist() == [0, 0, 1, 1] and index["near_dup_group"].dtype.kind == "i"


# -- the summaries the data chapter shows ---------------------------------------

def test_redundant_columns_finds_constant_and_copied_columns_across_frames():
    a = pd.DataFrame({"c": [1, 1], "x": [1, 2], "copy": [1, 2], "y": [3, 4], "k": [0, 0]})
    b = pd.DataFrame({"c": [1, 1], "x": [5, 6], "copy": [5, 6], "y": [3, 9], "k": [0, 1]})
    constant, duplicated = data.redundant_columns(a, b)
    assert constant == ["c"]  # k varies in b, so it is not constant over both
    assert duplicated == ["copy"]  # the first of two identical columns is kept


def test_describe_dia_pair_on_the_real_files(data_root):
    train, test = data.load_dia_pair(data_root / "dia")
    facts = data.describe_dia_pair(train, test)
    assert (facts["n_train"], facts["n_train_positive"], facts["n_test"], facts["n_test_positive"]) == (477, 118, 120, 30)
    assert facts["n_descriptors"] == 196
    assert (facts["constant_columns"], facts["duplicated_columns"]) == data.redundant_columns(train.X, test.X)
    assert facts["constant_columns"] == sorted(facts["constant_columns"])
    assert not set(facts["constant_columns"]) & set(facts["duplicated_columns"])


def test_acne_split_counts_orders_splits_and_adds_a_total():
    index = pd.DataFrame({"class_name": ["B", "A", "A", "A", "B"],
                          "roboflow_split": ["test", "train", "valid", "train", "train"]})
    counts = data.acne_split_counts(index)
    assert list(counts.columns) == ["train", "valid", "test", "total"]
    assert counts.index.name == "class" and list(counts.index) == ["A", "B"]
    assert counts.loc["A"].tolist() == [2, 1, 0, 3] and counts.loc["B"].tolist() == [1, 0, 1, 2]


def test_agreement_table_has_a_row_per_rule_and_measures_in_words():
    agreement = {"correlation": {"adjusted_rand_index": 0.99, "n_groups": 10, "odd_measure": 1.0},
                 "with_flips": {"adjusted_rand_index": 0.9, "n_groups": 8, "odd_measure": 2.0}}
    table = data.agreement_table(agreement, {"correlation": "rule as stated"})
    assert list(table.columns) == ["adjusted Rand index", "groups", "odd measure"]
    assert table.index.name == "rule" and list(table.index) == ["rule as stated", "with_flips"]
    assert table.loc["with_flips", "groups"] == 8 and table.loc["rule as stated", "adjusted Rand index"] == 0.99
    assert "adjusted_rand_index" in agreement["correlation"]
