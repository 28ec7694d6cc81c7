"""Data loading: the real files load and check out; bad input gets a clear error."""
from __future__ import annotations

import io
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
