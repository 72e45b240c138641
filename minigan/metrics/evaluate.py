"""Evaluate a training checkpoint: draw samples from its generator and compute the metrics that fit its data.

- toy data: mode coverage (mixtures only), Gaussian-kernel MMD, C2ST, DRS;
- images: Fréchet distance and FD∞, KID, Inception-style score,
  precision/recall, density/coverage (all on the features of the digits
  classifier unless a feature function is given), C2ST, DRS.

With DRS the quality metrics are computed twice, on plain samples and on
samples accepted by discriminator rejection sampling, and every result
carries its sample counts. ``format_table`` prints the results,
``write_eval_json`` saves them.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

import minigan as mg
from minigan.metrics.c2st import classifier_two_sample_test, seeded
from minigan.metrics.features import load_digits_classifier
from minigan.metrics.frechet import frechet_distance, frechet_distance_infinity
from minigan.metrics.kernel import gaussian_mmd2, kid
from minigan.metrics.manifold import density_coverage, precision_recall
from minigan.metrics.modes import mode_coverage
from minigan.metrics.rejection import discriminator_rejection_sampling
from minigan.metrics.scores import inception_score

__all__ = ["TOY_METRICS", "IMAGE_METRICS", "evaluate_checkpoint", "evaluate_models", "score_samples",
           "format_table", "write_eval_json"]

TOY_METRICS = ("mode_coverage", "mmd", "c2st", "drs")
IMAGE_METRICS = ("fd", "fd_infinity", "kid", "inception_score", "precision_recall", "density_coverage", "c2st", "drs")
BATCH = 1000  # samples per forward pass of G or D
MIN_DRS_SAMPLES = 50  # fewer accepted samples than this are too few to score


def evaluate_checkpoint(path, n: int = 5000, metrics=None, seed: int = 0, features: Callable | None = None,
                        probabilities: Callable | None = None) -> dict:
    """Metrics of the generator saved in a training checkpoint (its EMA weights when it has them).

    ``metrics`` is a list of names from :data:`TOY_METRICS` or :data:`IMAGE_METRICS`
    (default: all that fit the data). ``features`` (images ``(N, C, H, W)`` ->
    ``(N, D)``) and ``probabilities`` (-> ``(N, K)``) replace the digits
    classifier for other image data; a ``name`` attribute on ``features``
    names them in reports (the Fréchet distance is called FID only when that
    name says Inception). Same checkpoint and seed, same numbers.
    """
    from minigan.train.checkpoint import load_checkpoint
    from minigan.train.setup import build_data, build_models

    state = load_checkpoint(path)
    config = state["config"]
    with seeded(seed):  # model construction draws initial weights: keep the caller's random state intact
        source = build_data(config)
        G, D = build_models(config, source.shape, source.kind)
    G.load_state_dict(state["G_ema"] if state.get("G_ema") else state["G"])
    D.load_state_dict(state["D"])
    scores = evaluate_models(G, D, source, n, metrics, seed, features, probabilities)
    scores["data"] = config["data"]["name"]  # the dataset's name, where evaluate_models knows only its kind
    return {"checkpoint": str(path), "recipe": config.get("recipe", ""), "step": int(state["step"]), **scores}


def evaluate_models(G, D, source, n: int = 5000, metrics=None, seed: int = 0, features: Callable | None = None,
                    probabilities: Callable | None = None) -> dict:
    """Metrics of generator ``G`` (with discriminator ``D`` for DRS) against the real data of ``source``.

    ``source`` is a :class:`minigan.train.setup.DataSource`; toy data are
    compared with ``n`` fresh samples of the true distribution, images with
    the training images.
    """
    names = _chosen_metrics(source, metrics)
    latent_dim = _latent_dim(G)
    real = source.toy.sample(n, np.random.default_rng(seed + 1)) if source.kind == "toy" else source.loader.data
    if source.kind == "image" and features is None:
        features, probabilities = _digits_features(source.shape)
    fake = generate(G, n, latent_dim, mg.Generator(seed))
    quality = [m for m in names if m != "drs"]
    results = {"data": source.toy.name if source.toy else "images", "kind": source.kind, "seed": seed,
               "n_generated": n, "n_real": len(real),
               "features": None if source.kind == "toy" else _features_name(features),
               "metrics": score_samples(fake, real, quality, seed, source.toy, features, probabilities)}
    if "drs" in names:
        results["drs"] = _rejection_sampling(G, D, real, n, latent_dim, seed, source.loader.batch_size)
        accepted = results["drs"].pop("samples", None)
        if accepted is not None and len(accepted) >= MIN_DRS_SAMPLES:
            results["drs"]["metrics"] = score_samples(accepted, real, quality, seed, source.toy, features,
                                                      probabilities)
    return results


def score_samples(fake, real, names, seed: int = 0, toy=None, features: Callable | None = None,
                  probabilities: Callable | None = None) -> dict:
    """The named metrics of generated samples against real ones, each a dict with its sample counts.

    Toy samples are compared as points; images through ``features`` (and
    ``probabilities`` for the Inception-style score).
    """
    real_f, fake_f = (_flat(real), _flat(fake)) if features is None else (features(real), features(fake))
    pr_real, pr_fake = _equal_sizes(real_f, fake_f, seed)  # k-NN radii depend on N: compare at N = M
    metric_fns = {
        "mode_coverage": lambda: mode_coverage(fake, toy.centres, toy.std),
        "mmd": lambda: gaussian_mmd2(real_f, fake_f),
        "fd": lambda: {"fd": frechet_distance(real_f, fake_f), "n_real": len(real_f), "n_generated": len(fake_f)},
        "fd_infinity": lambda: frechet_distance_infinity(real_f, fake_f, seed=seed),
        "kid": lambda: kid(real_f, fake_f, seed=seed),
        "inception_score": lambda: inception_score(probabilities(fake)),
        "precision_recall": lambda: precision_recall(pr_real, pr_fake),
        "density_coverage": lambda: density_coverage(pr_real, pr_fake),
        "c2st": lambda: classifier_two_sample_test(real_f, fake_f, seed=seed),
    }
    return {name: metric_fns[name]() for name in names}


def generate(G, n: int, latent_dim: int, generator: mg.Generator) -> np.ndarray:
    """``n`` samples of ``G`` in eval mode from latents drawn with ``generator``, as one array."""
    mode = G.training
    G.eval()
    try:
        with mg.no_grad():
            return np.concatenate([G(mg.randn(min(BATCH, n - i), latent_dim, generator=generator)).numpy()
                                   for i in range(0, n, BATCH)])
    finally:
        G.train(mode)


def _rejection_sampling(G, D, real, n, latent_dim, seed, batch_size) -> dict:
    """DRS with D's logit recalibrated on real vs generated samples; the accepted samples under ``samples``."""
    pack = getattr(D, "pack", 1)
    if pack > 1:
        return {"skipped": f"D judges packs of {pack} samples (PacGAN), not single samples"}
    z_source = mg.Generator(seed + 2)

    def sample(m):
        return generate(G, m, latent_dim, z_source)

    raw_logit = _discriminator_logit(D, batch_size)
    scale, offset = _calibrate(raw_logit(real[:n]), raw_logit(sample(min(n, len(real)))))
    result = discriminator_rejection_sampling(sample, lambda x: scale * raw_logit(x) + offset, n, seed=seed)
    return {"samples": result.samples, "acceptance_rate": result.acceptance_rate, "n_proposed": result.n_proposed,
            "n_accepted": len(result.samples), "calibration": {"scale": scale, "offset": offset}}


def _discriminator_logit(D, batch_size: int) -> Callable[[np.ndarray], np.ndarray]:
    """``x -> D(x)`` as in training: train mode (batch statistics) on batches of one kind of sample."""
    def logit(x):
        mode = D.training
        D.train()
        try:
            with mg.no_grad():  # near-equal chunks of about batch_size: no batch of one sample
                chunks = np.array_split(x, max(1, round(len(x) / batch_size)))
                return np.concatenate([D(mg.tensor(c)).numpy().reshape(-1) for c in chunks]).astype(np.float64)
        finally:
            D.train(mode)
    return logit


def _calibrate(real_logits: np.ndarray, fake_logits: np.ndarray) -> tuple[float, float]:
    r"""Platt scaling: :math:`a, b` so that :math:`\sigma(a\,\tilde D + b)` best separates real from generated.

    DRS needs :math:`\tilde D \approx \log p_{data}/p_g`; a BCE-trained D is close
    (:math:`a \approx 1, b \approx 0`), while WGAN or hinge critics are on another
    scale. Azadi et al. fine-tune D instead; a 1-D logistic fit is the lighter fix.
    """
    from sklearn.linear_model import LogisticRegression

    x = np.concatenate([real_logits, fake_logits])[:, None]
    y = np.repeat([1, 0], [len(real_logits), len(fake_logits)])
    fit = LogisticRegression(C=1e6).fit(x, y)
    return float(fit.coef_[0, 0]), float(fit.intercept_[0])


def _chosen_metrics(source, metrics) -> list[str]:
    fitting = TOY_METRICS if source.kind == "toy" else IMAGE_METRICS
    if source.kind == "toy" and source.toy.centres is None:
        fitting = tuple(m for m in fitting if m != "mode_coverage")  # a curve has no modes to count
    if metrics is None:
        return list(fitting)
    unknown = [m for m in metrics if m not in fitting]
    if unknown:
        raise ValueError(f"metrics {', '.join(unknown)} do not apply to {source.kind} data; "
                         f"choose from {', '.join(fitting)}")
    return list(dict.fromkeys(metrics))


def _digits_features(shape) -> tuple[Callable, Callable]:
    if tuple(shape) != (1, 8, 8):
        raise ValueError(f"the bundled feature network is for 8x8 digits, but these images are {tuple(shape)}; "
                         "pass features= (and probabilities=) for other data")
    net = load_digits_classifier()
    return net.features, net.probabilities


def _features_name(features) -> str:
    """How the features are named in reports: a ``name`` attribute of the function, if it has one."""
    owner = getattr(features, "__self__", None)
    if type(owner).__name__ == "DigitsClassifier":
        return "digits classifier"
    return getattr(features, "name", "custom features")


def _latent_dim(G) -> int:
    if not hasattr(G, "latent_dim"):
        raise ValueError(f"{type(G).__name__} has no latent_dim attribute; cannot draw latents for it")
    return G.latent_dim


def _equal_sizes(a: np.ndarray, b: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    m = min(len(a), len(b))
    rng = np.random.default_rng(seed)
    return a[np.sort(rng.choice(len(a), m, False))], b[np.sort(rng.choice(len(b), m, False))]


def _flat(x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x.reshape(len(x), -1)


# -- reporting ----------------------------------------------------------------------------

def _rows(features: str | None) -> list[tuple[str, str, Callable[[dict], str]]]:
    """(metric, label, how to show its value): the rows of the table, in order.

    FID, KID and Inception Score keep their names only on Inception features;
    on any other network the label names the network.
    """
    inception = features is not None and "inception" in features.lower()
    by = f" ({features})" if features and not inception else ""
    fd, fd_inf, score = (("FID", "FID∞", "Inception Score") if inception
                         else ("Fréchet distance", "FD∞", "Inception-style score"))
    return [
        ("mode_coverage", "modes covered", lambda r: f"{r['modes_covered']} / {r['n_modes']}"),
        ("mode_coverage", "high-quality fraction (within 3 std)", lambda r: f"{r['high_quality_fraction']:.3f}"),
        ("mode_coverage", "KL(mode histogram ‖ uniform)", lambda r: f"{r['kl_uniform']:.4f}"),
        ("mmd", "MMD² (Gaussian kernel, median bandwidth)", lambda r: f"{r['mmd2']:.3g}"),
        ("fd", f"{fd}{by}", lambda r: f"{r['fd']:.4g}"),
        ("fd_infinity", f"{fd_inf}{by}", lambda r: f"{r['fd_infinity']:.4g}"),
        ("kid", f"KID{by}", lambda r: f"{r['kid']:.3g} ± {r['kid_std']:.1g}"),
        ("inception_score", f"{score}{by}", lambda r: f"{r['score']:.3f} ± {r['std']:.2f}"),
        ("precision_recall", "precision (k=3)", lambda r: f"{r['precision']:.3f}"),
        ("precision_recall", "recall (k=3)", lambda r: f"{r['recall']:.3f}"),
        ("density_coverage", "density (k=5)", lambda r: f"{r['density']:.3f}"),
        ("density_coverage", "coverage (k=5)", lambda r: f"{r['coverage']:.3f}"),
        ("c2st", "C2ST held-out accuracy (p-value)", lambda r: f"{r['accuracy']:.3f} (p={r['p_value']:.1g})"),
    ]


def _counts(r: dict) -> tuple[str, str]:
    generated = (f"{r['sizes'][0]}–{r['sizes'][-1]}" if "sizes" in r else str(r.get("n_generated", "")))
    return str(r.get("n_real", "–")), generated


def format_table(results: dict) -> str:
    """The results of :func:`evaluate_checkpoint` as a plain-text table, with sample counts on every row."""
    plain, drs = results["metrics"], results.get("drs", {})
    with_drs = drs.get("metrics", {})
    header = ["metric", "value"] + (["with DRS"] if with_drs else []) + ["real", "generated"]
    table = [header]
    for metric, label, show in _rows(results.get("features")):
        if metric in plain:
            row = [label, show(plain[metric])] + ([show(with_drs[metric]) if metric in with_drs else "–"]
                                                  if with_drs else [])
            table.append(row + list(_counts(plain[metric])))
    head, *body = _align(table)
    lines = [_title(results), head, "-" * len(head), *body]
    if drs:
        lines.append(_drs_line(drs))
    return "\n".join(lines)


def _align(table: list[list[str]]) -> list[str]:
    """Rows of cells as lines: the first column left-aligned, the others right-aligned."""
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    return ["  ".join([row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)])
            .rstrip() for row in table]


def _title(results: dict) -> str:
    where = ", ".join(f"{k} {results[k]}" for k in ("recipe", "step") if results.get(k) not in (None, ""))
    return (results["data"] + (f" ({where})" if where else "")
            + f": {results['n_generated']} generated samples, {results['n_real']} real, seed {results['seed']}")


def _drs_line(drs: dict) -> str:
    if "skipped" in drs:
        return f"DRS skipped: {drs['skipped']}"
    return (f"DRS: {drs['n_accepted']} samples accepted of {drs['n_proposed']} proposed "
            f"({100 * drs['acceptance_rate']:.1f}%); D's logit recalibrated as "
            f"{drs['calibration']['scale']:.3g}·D {drs['calibration']['offset']:+.3g}")


def write_eval_json(results: dict, path) -> Path:
    """Save results as JSON, atomically (a temporary file in the same folder, then a rename); NaN becomes null."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(_jsonable(results), indent=2, allow_nan=False) + "\n"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
