"""Fine-tuning backbone and head together (lossbook.studies.acne_finetune), on a few tiny synthetic images.

The real chapter fine-tunes on a GPU; here each test trains EfficientNet-Lite1 at
48 px for a handful of steps on the CPU, enough to check the mechanics: the
backbone's weights move (its batch-norm statistics do not), results are
reproducible and cached, and the chapter's scoring accepts what comes back.
"""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("efficientnet_lite_pytorch")
import torch
from PIL import Image

from lossbook.core.cache import DiskCache
from lossbook.nets import embeddings as lbemb
from lossbook.studies import acne
from lossbook.studies import acne_finetune as finetune

SIZE = 48


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """Two classes of 8 images each: reddish or bluish noise (an easy task)."""
    folder = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    paths, labels = [], []
    for i in range(16):
        label = i % 2
        pixels = rng.integers(0, 120, size=(SIZE, SIZE, 3))
        pixels[..., 0 if label == 0 else 2] += 120
        path = folder / f"img{i}.png"
        Image.fromarray(pixels.astype(np.uint8)).save(path)
        paths.append(str(path))
        labels.append(label)
    return paths, [f"{i:064x}" for i in range(16)], np.array(labels)


def _jobs(scenarios=("A", "B")):
    rows = np.arange(16)
    split = acne.Split("random", 0, train=rows[:10], val=rows[10:13], test=rows[13:])
    return [acne.HeadJob(split, scenario, 5) for scenario in scenarios]


CONFIG = acne.HeadConfig(epochs=2, batch_size=4, hidden_units=8, learning_rate=1e-2)


def _run(images, cache, jobs=None, **kw):
    paths, sha, y = images
    return finetune.fine_tune_jobs(paths, sha, y, jobs or _jobs(), config=CONFIG, input_size=SIZE, device="cpu",
                                   cache=cache, progress=False, **kw)


def test_fine_tuning_returns_what_the_chapter_scores_and_is_cached(images, tmp_path):
    cache = DiskCache("ft", root=tmp_path)
    first = _run(images, cache)
    assert [p.shape for p in first.test_proba] == [(3, 2), (3, 2)]
    for proba in first.test_proba:
        np.testing.assert_allclose(proba.sum(-1), 1.0, rtol=1e-5)
    assert list(first.history["epoch"]) == [1, 2, 1, 2]
    assert np.isfinite(first.history[["train_loss", "val_loss", "val_accuracy"]].to_numpy()).all()
    assert first.class_weights[0] is None and len(first.class_weights[1]) == 2  # B: balanced weights
    scores = acne.score_jobs(first, images[2], ["red", "blue"])
    assert set(scores["scenario"]) == {"A", "B"} and scores["accuracy"].between(0, 1).all()
    assert len(list(tmp_path.glob("*"))) == 2  # one cache entry per job

    # a second run reads the cache; a fresh one (other cache) trains again and gets the same numbers
    again = _run(images, cache)
    fresh = _run(images, DiskCache("ft", root=tmp_path / "other"))
    for a, b, c in zip(first.test_proba, again.test_proba, fresh.test_proba):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(a, c, atol=1e-5)


def test_a_changed_parameter_is_not_served_from_the_cache(images, tmp_path):
    cache = DiskCache("ft", root=tmp_path)
    _run(images, cache, jobs=_jobs(("A",)))
    _run(images, cache, jobs=_jobs(("A",)), backbone_learning_rate=5e-4)
    assert len(list(tmp_path.glob("*"))) == 2


def test_the_backbone_trains_but_its_batch_norm_statistics_stay(images):
    paths, sha, y = images
    net = finetune.Network(lbemb.lite1_imagenet(SIZE), 1280, 8, 2, 0.3, seed=1)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    optimiser = torch.optim.Adam(net.parameters(), lr=1e-3)
    net.train()
    assert net.hidden.training and not any(
        m.training for m in net.backbone.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm))
    pixels = np.stack([np.asarray(Image.open(p)) for p in paths[:4]])
    loss = torch.nn.functional.cross_entropy(net(lbemb.lite1_input(pixels, "cpu")), torch.from_numpy(y[:4]))
    loss.backward()
    optimiser.step()
    after = net.state_dict()
    conv = next(k for k in before if k.startswith("backbone.") and k.endswith("weight") and before[k].ndim == 4)
    assert not torch.equal(before[conv], after[conv])  # backbone weights moved
    stats = [k for k in before if k.endswith("running_mean")]
    assert stats and all(torch.equal(before[k], after[k]) for k in stats)  # statistics did not


def test_bad_requests_say_what_is_wrong(images):
    paths, sha, y = images
    with pytest.raises(ValueError, match="efficientnet_lite1_torch"):
        finetune.fine_tune_jobs(paths, sha, y, _jobs(), backbone="efficientnet_b1_keras")
    with pytest.raises(ValueError, match="one entry per image"):
        finetune.fine_tune_jobs(paths[:3], sha, y, _jobs())
    with pytest.raises(ValueError, match="device"):
        finetune.pick_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA GPU"):
            finetune.pick_device("cuda")
