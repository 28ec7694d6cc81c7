"""Tests for lossbook.nets.embeddings: augmentation, the on-disk cache, backbones."""
from __future__ import annotations

import sys
import types

import numpy as np
import pytest
from PIL import Image

from lossbook.core import cache
from lossbook.core.data import DataError
from lossbook.nets import embeddings as emb


@pytest.fixture()
def images(tmp_path):
    """Three small JPEGs with different colours and a gradient, so views differ."""
    paths = []
    ramp = np.linspace(0, 255, 48, dtype=np.uint8)
    for i, colour in enumerate([(200, 30, 30), (30, 200, 30), (30, 30, 200)]):
        pixels = np.zeros((48, 48, 3), dtype=np.uint8) + np.array(colour, dtype=np.uint8)
        pixels[:, :, i] = ramp[None, :]
        path = tmp_path / f"img{i}.jpg"
        Image.fromarray(pixels).save(path, quality=95)
        paths.append(path)
    return paths


def fake_backbone(size=32, calls=None):
    """Mean and spatial gradients per channel: dim 9, enough to tell views apart."""

    def embed(batch):
        if calls is not None:
            calls.append(len(batch))
        x = batch.astype(np.float32) / 255
        gx = (x[:, :, 1:] - x[:, :, :-1]).mean(axis=(1, 2))
        gy = (x[:, 1:] - x[:, :-1]).mean(axis=(1, 2))
        return np.concatenate([x.mean(axis=(1, 2)), gx, gy], axis=1)

    return emb.Backbone("efficientnet_lite1_torch", size, 9, embed)


def test_augment_is_reproducible_and_depends_on_view():
    image = Image.fromarray(np.tile(np.linspace(0, 255, 40, dtype=np.uint8)[None, :, None], (40, 1, 3)))
    spec = emb.Augmentation()
    a = np.asarray(emb.augment(image, sha256="ab" * 32, view=1, spec=spec))
    b = np.asarray(emb.augment(image, sha256="ab" * 32, view=1, spec=spec))
    c = np.asarray(emb.augment(image, sha256="ab" * 32, view=2, spec=spec))
    d = np.asarray(emb.augment(image, sha256="ab" * 32, view=1, spec=emb.Augmentation(seed=1)))
    assert a.shape == (40, 40, 3)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert not np.array_equal(a, d)
    with pytest.raises(ValueError, match="numbered from 1"):
        emb.augment(image, sha256="ab" * 32, view=0, spec=spec)


def test_augmentation_ranges_are_checked():
    with pytest.raises(ValueError, match="zoom"):
        emb.Augmentation(zoom=1.5)
    with pytest.raises(ValueError, match="rotation_deg"):
        emb.Augmentation(rotation_deg=-1)


def test_embed_images_caches_per_image_and_view(images, tmp_path):
    calls = []
    model = fake_backbone(calls=calls)
    first = emb.embed_images(images, backbone=model, n_views=2, cache_root=tmp_path / "c", batch_size=4, progress=False)
    assert first.features.shape == (3, 3, 9)
    assert first.computed == 9 and first.reused == 0
    assert calls == [4, 4, 4]  # fixed-size passes, the last padded
    # view 0 is the plain resized image; augmented views differ from it
    plain = np.stack([np.asarray(emb.load_image(p, 32)) for p in images])
    assert np.allclose(first.features[:, 0], model.embed(plain))
    assert not np.allclose(first.features[:, 0], first.features[:, 1])

    calls.clear()
    again = emb.embed_images(images, backbone=model, n_views=2, cache_root=tmp_path / "c", progress=False)
    assert calls == [] and again.reused == 9
    assert np.array_equal(first.features, again.features)

    # one more view reuses the cached ones and computes only the new view
    more = emb.embed_images(images, backbone=model, n_views=3, cache_root=tmp_path / "c", progress=False)
    assert more.computed == 3 and np.array_equal(more.features[:, :3], first.features)

    # another augmentation seed is another cache entry
    other = emb.embed_images(images, backbone=model, n_views=1, augmentation=emb.Augmentation(seed=5),
                             cache_root=tmp_path / "c", progress=False)
    assert other.computed == 6


def test_cache_is_keyed_by_content_not_path(images, tmp_path):
    model = fake_backbone()
    emb.embed_images(images[:1], backbone=model, n_views=1, cache_root=tmp_path / "c", progress=False)
    copy = tmp_path / "renamed.jpg"
    copy.write_bytes(images[0].read_bytes())
    again = emb.embed_images([copy], backbone=model, n_views=1, cache_root=tmp_path / "c", progress=False)
    assert again.computed == 0


def test_corrupt_cache_entry_is_recomputed(images, tmp_path):
    model = fake_backbone()
    first = emb.embed_images(images[:1], backbone=model, n_views=0, cache_root=tmp_path / "c", progress=False)
    store = emb.EmbeddingStore(model.name, model.input_size, emb.Augmentation(), tmp_path / "c")
    store.path(first.sha256[0], 0).write_bytes(b"not an npy file")
    with pytest.warns(cache.CacheWarning, match="could not be read"):
        again = emb.embed_images(images[:1], backbone=model, n_views=0, cache_root=tmp_path / "c", progress=False)
    assert again.computed == 1 and np.array_equal(again.features, first.features)


def test_bad_arguments_name_the_parameter(images):
    with pytest.raises(ValueError, match="n_views"):
        emb.embed_images(images, backbone=fake_backbone(), n_views=-1, progress=False)
    with pytest.raises(ValueError, match="backbone must be one of"):
        emb.embed_images(images, backbone="resnet", progress=False)
    with pytest.raises(ValueError, match="sha256 has 1 entries"):
        emb.embed_images(images, backbone=fake_backbone(), sha256=["x"], progress=False)
    with pytest.raises(ValueError, match="input_size"):
        emb.load_backbone("efficientnet_lite1_torch", input_size=8)


def test_keras_backbone_offline_gives_instructions(monkeypatch):
    def refuse(**kwargs):
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: Name or service not known")

    fake = types.ModuleType("keras")
    fake.applications = types.SimpleNamespace(EfficientNetB1=refuse)
    monkeypatch.setitem(sys.modules, "keras", fake)
    with pytest.raises(emb.BackboneUnavailable) as info:
        emb.load_backbone("efficientnet_b1_keras")
    message = str(info.value)
    assert "efficientnetb1_notop.h5" in message and "internet" in message
    assert "efficientnet_lite1_torch" in message


def test_lite1_loads_offline_and_embeds_deterministically():
    model = emb.load_backbone("efficientnet_lite1_torch", input_size=64, threads=1)
    rng = np.random.default_rng(0)
    batch = rng.integers(0, 256, size=(2, 64, 64, 3), dtype=np.uint8)
    a, b = model.embed(batch), model.embed(batch)
    assert a.shape == (2, 1280) and a.dtype == np.float32
    assert np.isfinite(a).all() and np.array_equal(a, b)
    assert (a >= 0).all()  # ReLU6 features, average-pooled
    assert not np.allclose(a[0], a[1])


def test_an_embedding_does_not_depend_on_its_batch_mates(images):
    """Lite1 on the CPU, fixed-size passes: a subset run gives bitwise the features of a full run."""
    pytest.importorskip("efficientnet_lite_pytorch")
    model = emb.load_backbone("efficientnet_lite1_torch", input_size=64)
    many = images * 3  # nine rows: passes of 4, 4 and a padded 1
    full = emb.embed_images(many, backbone=model, n_views=1, batch_size=4, use_cache=False, progress=False)
    part = emb.embed_images([many[5], many[8]], backbone=model, n_views=1, batch_size=4, use_cache=False, progress=False)
    assert np.array_equal(part.features, full.features[[5, 8]])


def test_keras_b1_route_embeds_raw_pixels(monkeypatch, images):
    """Everything of the paper's backbone route except the download: Keras' real EfficientNetB1,
    built with random weights in place of ImageNet's, fed raw 0..255 pixels."""
    keras = pytest.importorskip("keras")
    real = keras.applications.EfficientNetB1
    seen = {}

    def without_download(**kwargs):
        seen.update(kwargs)
        return real(**{**kwargs, "weights": None})

    monkeypatch.setattr(keras.applications, "EfficientNetB1", without_download)
    model = emb.load_backbone("efficientnet_b1_keras", input_size=64)
    assert seen["weights"] == "imagenet" and seen["include_top"] is False and seen["pooling"] == "avg"
    assert model.dim == 1280 and "raw" in model.preprocessing
    out = emb.embed_images(images, backbone=model, n_views=1, use_cache=False, progress=False)
    assert out.features.shape == (3, 2, 1280) and np.isfinite(out.features).all()
    pixels = np.stack([np.asarray(emb.load_image(p, 64)) for p in images])
    np.testing.assert_allclose(model.embed(pixels), out.features[:, 0], rtol=1e-4, atol=1e-5)


# -- cache integrity and decoding errors --------------------------------------

def _store(model, tmp_path):
    return emb.EmbeddingStore(model.name, model.input_size, emb.Augmentation(), tmp_path / "c", dim=model.dim)


@pytest.mark.parametrize("vector", [
    np.zeros(5, dtype=np.float32),          # wrong length: would fail to broadcast
    np.zeros((9, 2), dtype=np.float32),     # wrong rank
    np.zeros(9, dtype=np.float64),          # wrong dtype
    np.full(9, np.nan, dtype=np.float32),   # not finite
])
def test_cached_vector_of_the_wrong_shape_or_kind_is_corrupt(images, tmp_path, vector):
    model = fake_backbone()
    first = emb.embed_images(images[:2], backbone=model, n_views=0, cache_root=tmp_path / "c", progress=False)
    store = _store(model, tmp_path)
    buffer = __import__("io").BytesIO()
    np.save(buffer, vector)
    path = store.path(first.sha256[0], 0)
    path.write_bytes(cache.seal(buffer.getvalue()))  # well sealed: only the content is wrong
    with pytest.warns(cache.CacheWarning, match=path.name):
        again = emb.embed_images(images[:2], backbone=model, n_views=0, cache_root=tmp_path / "c", progress=False)
    assert again.computed == 1 and np.array_equal(again.features, first.features)


def test_flipped_bits_in_an_embedding_entry_are_detected(images, tmp_path):
    model = fake_backbone()
    first = emb.embed_images(images[:1], backbone=model, n_views=0, cache_root=tmp_path / "c", progress=False)
    path = _store(model, tmp_path).path(first.sha256[0], 0)
    good = path.read_bytes()
    for position in range(0, len(good), 5):
        blob = bytearray(good)
        blob[position] ^= 0x01
        path.write_bytes(bytes(blob))
        with pytest.warns(cache.CacheWarning):
            again = emb.embed_images(images[:1], backbone=model, n_views=0, cache_root=tmp_path / "c", progress=False)
        assert again.computed == 1 and np.array_equal(again.features, first.features)


def test_unwritable_embedding_cache_returns_the_embeddings(images, tmp_path, monkeypatch):
    def refuse(path, data):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(cache, "write_bytes_atomic", refuse)
    model = fake_backbone()
    with pytest.warns(cache.CacheWarning, match="could not be written"):
        out = emb.embed_images(images, backbone=model, n_views=1, cache_root=tmp_path / "c", progress=False)
    assert out.features.shape == (3, 2, 9) and np.isfinite(out.features).all()


def test_a_truncated_image_is_named_when_embedded(images, tmp_path):
    broken = tmp_path / "cut.jpg"
    broken.write_bytes(images[0].read_bytes()[:-200])
    with pytest.raises(DataError, match=r"cut.jpg: not a readable image.*truncated"):
        emb.embed_images([images[1], broken], backbone=fake_backbone(), n_views=0, use_cache=False, progress=False)


def test_images_of_any_size_are_resized_in_the_embedding_step(images, tmp_path):
    """The original 640-px export and the shrunk copy give features of the same shape."""
    big = tmp_path / "big.jpg"
    Image.open(images[0]).resize((640, 640), Image.BILINEAR).save(big, quality=95)
    out = emb.embed_images([images[0], big], backbone=fake_backbone(size=32), n_views=1, use_cache=False, progress=False)
    assert out.features.shape == (2, 2, 9)
    assert np.allclose(out.features[0, 0], out.features[1, 0], atol=0.02)  # same picture, same features
