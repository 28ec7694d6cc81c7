"""Fine-tuning the acne backbone end to end (``fine_tune=True``): for a machine with a GPU.

The published acne chapter freezes the backbone and trains heads on cached
embeddings (:mod:`lossbook.studies.acne`, :mod:`lossbook.nets.embeddings`). This module is the
other reading of the paper's "transfer learning": the ImageNet backbone and the
head are trained together, one job (split, scenario, seed) at a time, with

* the same head (dense ReLU -> dropout -> dense -> softmax, Glorot-uniform
  weights), the same scenario losses and class-balanced sampling as the frozen
  heads (:func:`lossbook.studies.acne.loss_for_job`, :func:`lossbook.studies.acne.epoch_rows`);
* Adam with two learning rates: ``backbone_learning_rate`` for the backbone (small,
  so the ImageNet features are adjusted rather than overwritten) and the head's
  ``learning_rate``;
* the backbone's batch-normalisation statistics frozen (its layers stay in
  inference mode), the usual practice when fine-tuning EfficientNets on small data;
* a fresh augmented view of every training image in every epoch (epoch ``e``
  uses view ``e + 1`` of :func:`lossbook.nets.embeddings.augment`, so it is
  reproducible); validation and test images are never augmented.

It returns :class:`lossbook.studies.acne.HeadResults`, so the chapter scores it the same
way. Each finished job is cached on disk (keyed by everything that affects it,
the device kind included: GPU and CPU arithmetic differ), so an interrupted run
resumes where it stopped.

Only the PyTorch EfficientNet-Lite1 backbone can be fine-tuned here. On this
book's 2-core CPU a training step at 150 px and batch 32 takes about a second,
so a full run (120 jobs of about 100 steps x 25 epochs) is a GPU job; the tests
run it on a few tiny images. GPU results are not bit-identical to CPU ones
(the run asks cuDNN for deterministic algorithms).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from lossbook.core.cache import DiskCache, cache_key
from lossbook.core.losses import make
from lossbook.core.seeding import derive_seed
from lossbook.nets.embeddings import FINE_TUNABLE, Augmentation, augment, lite1_imagenet, lite1_input, load_image
from lossbook.studies.acne import HeadConfig, HeadJob, HeadResults, epoch_rows, loss_for_job

__all__ = ["FINE_TUNABLE", "Network", "pick_device", "fine_tune_jobs"]

def pick_device(device: str = "auto") -> str:
    """``"cuda"`` when asked for or available (with ``"auto"``), else ``"cpu"``."""
    if device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', got {device!r}")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' was asked for, but torch sees no CUDA GPU; use device='auto' or 'cpu'")
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


class Network(torch.nn.Module):
    """Backbone -> global average pool -> dense(``hidden``, ReLU) -> dropout -> dense(k) logits."""

    def __init__(self, backbone: torch.nn.Module, dim: int, hidden: int, k: int, dropout: float, seed: int):
        super().__init__()
        self.backbone = backbone
        self.hidden = torch.nn.Linear(dim, hidden)
        self.out = torch.nn.Linear(hidden, k)
        self.dropout = dropout
        gen = torch.Generator().manual_seed(seed)
        with torch.no_grad():  # Keras' defaults: Glorot-uniform kernels, zero biases
            for layer in (self.hidden, self.out):
                fan_out, fan_in = layer.weight.shape
                limit = float(np.sqrt(6.0 / (fan_in + fan_out)))
                layer.weight.copy_((torch.rand(layer.weight.shape, generator=gen) * 2 - 1) * limit)
                layer.bias.zero_()

    def train(self, mode: bool = True):
        super().train(mode)
        for module in self.backbone.modules():  # batch-norm statistics stay frozen
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                module.eval()
        return self

    def forward(self, x):
        features = self.backbone.extract_features(x).mean(dim=(2, 3))
        h = torch.nn.functional.dropout(torch.relu(self.hidden(features)), self.dropout, self.training)
        return self.out(h)


def fine_tune_jobs(
    paths: Sequence[str],
    sha256: Sequence[str],
    y: np.ndarray,
    jobs: Sequence[HeadJob],
    *,
    config: HeadConfig = HeadConfig(),
    backbone: str = "efficientnet_lite1_torch",
    input_size: int = 150,
    backbone_learning_rate: float = 1e-4,
    augmentation: Augmentation = Augmentation(),
    device: str = "auto",
    cache: DiskCache | None = None,
    progress: bool = True,
) -> HeadResults:
    """Fine-tune backbone and head for each job; return their test probabilities and histories.

    Parameters
    ----------
    paths, sha256 : sequences of length n_images
        Image files and their checksums (rows of ``y``).
    y : array (n_images,) of int labels 0..k-1
    jobs : the (split, scenario, seed) runs; ``job.split`` indexes rows of ``y``.
    config : the head, its optimiser (``learning_rate``) and the epochs, as for frozen heads.
    backbone_learning_rate : Adam learning rate of the backbone's weights.
    device : "auto" (a CUDA GPU when torch sees one), "cuda" or "cpu".

    ``HeadResults.test_proba[j]`` has shape (len(jobs[j].split.test), k).
    """
    from tqdm.auto import tqdm

    if backbone not in FINE_TUNABLE:
        raise ValueError(f"fine-tuning is implemented for backbone {FINE_TUNABLE}, got {backbone!r}")
    if len(paths) != len(y) or len(sha256) != len(y):
        raise ValueError(f"paths ({len(paths)}), sha256 ({len(sha256)}) and y ({len(y)}) must have one entry per image")
    if not jobs:
        raise ValueError("no jobs to fine-tune")
    device = pick_device(device)
    y = np.asarray(y, dtype=np.int64)
    k = int(y.max()) + 1
    cache = cache or DiskCache("acne-finetune", code=__name__)
    images_key = cache_key({"sha256": list(sha256)}, code=__name__)
    settings = {"config": config.__dict__, "backbone": backbone, "input_size": input_size,
                "backbone_learning_rate": backbone_learning_rate, "augmentation": augmentation.__dict__,
                "device": device, "images": images_key}

    def job_key(job: HeadJob) -> dict:
        split = {name: cache_key({"rows": getattr(job.split, name).tolist()}, code=__name__) for name in ("train", "val", "test")}
        return {"study": "acne-finetune", **settings, "split": split, "scenario": job.scenario, "seed": job.seed}

    todo = [job for job in jobs if cache.get(job_key(job)) is None]
    pixels = None
    steps = sum(-(-len(job.split.train) // config.batch_size) for job in todo)
    bar = tqdm(total=steps * config.epochs, desc=f"fine-tuning {len(todo)} jobs on {device}",
               unit="step", mininterval=5.0, disable=not progress or not todo)
    for job in todo:
        if pixels is None:  # decode every image once, at the working size
            pixels = np.stack([np.asarray(load_image(p, input_size), dtype=np.uint8) for p in paths])
        entry = _fine_tune_one(job, pixels, y, k, list(sha256), config=config, input_size=input_size,
                               backbone_learning_rate=backbone_learning_rate, augmentation=augmentation,
                               device=device, on_step=bar.update)
        cache.put(job_key(job), entry)
    bar.close()

    entries = [cache.get(job_key(job)) for job in jobs]
    history = pd.DataFrame([row for entry in entries for row in entry["history"]])
    return HeadResults(list(jobs), [np.asarray(e["test_proba"]) for e in entries], history,
                       [e["class_weights"] for e in entries])


def _fine_tune_one(job: HeadJob, pixels, y, k, sha256, *, config: HeadConfig, input_size, backbone_learning_rate,
                   augmentation, device, on_step) -> dict:
    """Train one job from the ImageNet weights; its test probabilities, history and class weights."""
    from PIL import Image

    torch.manual_seed(derive_seed(job.seed, 3))  # dropout masks
    if device == "cuda":
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
    rng = np.random.default_rng(derive_seed(job.seed, 1))  # batch order and sampling, as the frozen heads
    net = Network(lite1_imagenet(input_size), 1280, config.hidden_units, k, config.dropout, derive_seed(job.seed, 2)).to(device)
    optimiser = torch.optim.Adam([
        {"params": net.backbone.parameters(), "lr": backbone_learning_rate},
        {"params": [*net.hidden.parameters(), *net.out.parameters()], "lr": config.learning_rate},
    ])
    name, kw = loss_for_job(job, y, config)
    loss_fn = make(name, "torch", axis=-1, from_logits=True, **dict(kw))
    batch = config.batch_size
    steps = -(-len(job.split.train) // batch)

    def predict(rows):
        net.eval()
        out = []
        with torch.no_grad():
            for start in range(0, len(rows), 2 * batch):
                out.append(torch.softmax(net(lite1_input(pixels[rows[start:start + 2 * batch]], device)), -1).cpu())
        return torch.cat(out).numpy()

    history, best_state, best_loss = [], None, np.inf
    for epoch in range(1, config.epochs + 1):
        net.train()
        rows = epoch_rows(job, y, steps * batch, rng)
        loss_sum, correct = 0.0, 0.0
        for s in range(steps):
            idx = rows[s * batch:(s + 1) * batch]
            if config.augment:
                images = np.stack([np.asarray(augment(Image.fromarray(pixels[i]), sha256=sha256[i], view=epoch,
                                                      spec=augmentation)) for i in idx])
            else:
                images = pixels[idx]
            logits = net(lite1_input(images, device))
            target = torch.from_numpy(y[idx]).to(device)
            loss = loss_fn(target, logits)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            loss_sum += float(loss.detach())
            correct += float((logits.detach().argmax(-1) == target).float().mean())
            on_step(1)
        val = predict(job.split.val)
        val_truth = y[job.split.val]
        val_loss = float(-np.mean(np.log(np.clip(val[np.arange(len(val_truth)), val_truth], 1e-12, None))))
        history.append({"kind": job.split.kind, "repeat": job.split.repeat, "scenario": job.scenario, "epoch": epoch,
                        "train_loss": loss_sum / steps, "train_accuracy": correct / steps,
                        "val_loss": val_loss, "val_accuracy": float(np.mean(val.argmax(-1) == val_truth))})
        if config.select_epoch == "best_val_loss" and val_loss < best_loss:
            best_loss = val_loss
            best_state = {name: t.detach().clone() for name, t in net.state_dict().items()}
    if best_state is not None:
        net.load_state_dict(best_state)
    weights = dict(kw).get("class_weights")
    return {"test_proba": predict(job.split.test), "history": history,
            "class_weights": None if weights is None else tuple(float(w) for w in weights)}
