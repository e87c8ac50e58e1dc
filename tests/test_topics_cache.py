"""Embedding cache storage (one float32 matrix, old list format still read), length-sorted
encoder chunks, vectorised topic centroids and representative texts."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_coding_topics import CountingEncoder, wave

from tlsurvey.coding import topics as topics_module
from tlsurvey.coding.topics import EmbeddingCache, text_key, topic_centroids, topic_info
from tlsurvey.errors import InputError


class RecordingEncoder(CountingEncoder):
    """A :class:`CountingEncoder` that keeps the texts of each call."""

    def __init__(self):
        super().__init__(dim=16)
        self.batches = []

    def __call__(self, texts):
        self.batches.append(list(texts))
        return super().__call__(texts)


def test_cache_round_trip_is_exact_and_float32_matrix(tmp_path):
    texts = wave("w", 40)["text"].tolist()
    first = EmbeddingCache(tmp_path, CountingEncoder(), "t/m")
    vectors = first.encode(texts)
    again = EmbeddingCache(tmp_path, CountingEncoder(), "t/m")
    assert len(again) == 40
    np.testing.assert_array_equal(again.encode(texts), vectors)
    assert again.n_encoded == 0 and again.encoder.texts == 0
    schema = pq.read_schema(first.path)
    assert schema.field("vector").type == pa.list_(pa.float32(), 32)
    keys = pq.read_table(first.path)["key"].to_pylist()
    assert keys == sorted(text_key("t/m", t) for t in texts)
    other = tmp_path / "other"
    EmbeddingCache(other, CountingEncoder(), "t/m").encode(texts[::-1])
    assert (other / first.path.name).read_bytes() == first.path.read_bytes()  # deterministic


def test_old_list_format_is_read_and_rewritten(tmp_path):
    """A cache written as float64 lists (``vector.tolist()``) gives the same float32 vectors;
    the next save rewrites it as a float32 matrix with old and new vectors."""
    encoder = CountingEncoder()
    texts = wave("w", 6)["text"].tolist()
    vectors = encoder(texts)
    old = pd.DataFrame({"model_id": "t/m", "key": [text_key("t/m", t) for t in texts],
                        "vector": [v.tolist() for v in vectors]})
    old = pd.concat([old, old.head(1).assign(model_id="t/other", vector=[[0.5] * 3])])
    path = tmp_path / "t_m.parquet"
    old.to_parquet(path, index=False)
    cache = EmbeddingCache(tmp_path, CountingEncoder(), "t/m")
    assert cache.path == path and len(cache) == 6
    np.testing.assert_array_equal(cache.encode(texts[::-1]), vectors[::-1])
    assert cache.n_encoded == 0
    cache.encode(["a new answer"])
    assert pq.read_schema(path).field("vector").type == pa.list_(pa.float32(), 32)
    reread = EmbeddingCache(tmp_path, CountingEncoder(), "t/m")
    np.testing.assert_array_equal(reread.encode(texts), vectors)
    assert len(reread) == 7 and reread.n_encoded == 0


def test_ragged_vectors_are_an_input_error(tmp_path):
    pd.DataFrame({"model_id": "t/m", "key": ["a", "b"], "vector": [[1.0, 2.0], [1.0]]}) \
        .to_parquet(tmp_path / "t_m.parquet", index=False)
    with pytest.raises(InputError, match=r"t_m\.parquet:column vector: vectors of different"):
        EmbeddingCache(tmp_path, CountingEncoder(), "t/m")


def test_save_keeps_vectors_another_step_added(tmp_path):
    texts = wave("w", 8)["text"].tolist()
    first = EmbeddingCache(tmp_path, CountingEncoder(), "t/m")
    second = EmbeddingCache(tmp_path, CountingEncoder(), "t/m")
    first.encode(texts[:4])
    second.encode(texts[4:])
    merged = EmbeddingCache(tmp_path, CountingEncoder(), "t/m")
    assert len(merged) == 8
    np.testing.assert_array_equal(merged.encode(texts), CountingEncoder()(texts))


def test_unseen_texts_are_encoded_once_in_length_sorted_chunks(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(topics_module, "CHUNK", 4)
    texts = [f"answer {'word ' * (i % 5)}{i}" for i in range(10)]
    encoder = RecordingEncoder()
    cache = EmbeddingCache(tmp_path, encoder, "t/m")
    with caplog.at_level("INFO", logger="tlsurvey.coding.topics"):
        vectors = cache.encode(texts + texts[:3])  # repeated texts are encoded once
    assert [len(b) for b in encoder.batches] == [4, 4, 2]
    flat = [t for b in encoder.batches for t in b]
    assert sorted(flat) == sorted(texts) and [len(t) for t in flat] == sorted(map(len, texts))
    np.testing.assert_array_equal(vectors, CountingEncoder(16)(texts + texts[:3]))
    progress = [r.getMessage() for r in caplog.records if r.getMessage().startswith("embedded")]
    assert progress == ["embedded 4/10 new texts", "embedded 8/10 new texts",
                        "embedded 10/10 new texts"]


def test_centroids_equal_the_per_topic_means():
    rng = np.random.default_rng(3)
    embeddings = rng.normal(size=(500, 24)).astype(np.float32)
    topics = rng.integers(-1, 40, size=500)
    ids = sorted(set(topics.tolist()) - {-1})
    loop = np.vstack([embeddings[topics == t].mean(axis=0) for t in ids])
    centroids = topic_centroids(topics, embeddings, ids)
    assert centroids.shape == loop.shape and centroids.dtype == np.float32
    np.testing.assert_array_equal(centroids, loop)


def test_topic_info_representatives_bertopic_first_then_probability():
    chosen = {0: ["text b", "text a"], 1: ["text e"]}
    words = {0: [("alpha", 0.5), ("beta", 0.25)]}
    texts = pd.DataFrame({"text_id": list("abcdef"), "text": [f"text {c}" for c in "abcdef"]})
    table = pd.DataFrame({"text_id": list("fedcba"), "topic": [-1, 1, 0, 0, 0, 0],
                          "probability": [0.0, 0.9, 0.8, 0.7, 0.1, 0.2]})
    mapping = {0: ("code_x", "code_x", 0.7), 1: ("unmapped", "code_y", 0.2)}
    info = topic_info(words, chosen, texts, table, "m", mapping).set_index("topic")
    assert info.loc[0, "representative_text_ids"] == "b; a; d"
    assert info.loc[0, "representative_texts"] == "text b || text a || text d"
    assert info.loc[0, "label"] == "0_alpha_beta" and info.loc[0, "count"] == 4
    assert info.loc[1, "representative_text_ids"] == "e" and info.loc[1, "label"] == "1"
    assert info.loc[1, "code"] == "unmapped" and info.loc[1, "code_similarity"] == 0.2
    assert pd.isna(info.loc[-1, "code"]) and np.isnan(info.loc[-1, "code_similarity"])
    assert list(info.index) == [-1, 0, 1]


def test_bertopic_imported_without_its_unused_optional_dependencies():
    """import_bertopic loads no torch, sentence-transformers, transformers, spaCy or plotly, and
    leaves them importable afterwards (run in a fresh interpreter)."""
    import subprocess
    import sys

    code = ("import sys\n"
            "from tlsurvey.coding.topics import BERTOPIC_UNUSED, import_bertopic\n"
            "assert import_bertopic().BERTopic.__name__ == 'BERTopic'\n"
            "print(sorted(set(BERTOPIC_UNUSED) & set(sys.modules)))\n"
            "import plotly\n"
            "print(plotly.__name__)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["[]", "plotly"]


def test_cosine_knn_equals_brute_force_neighbours():
    """cosine_knn: each point first at distance 0, then the same neighbours and distances as
    scikit-learn's brute-force cosine search."""
    from sklearn.neighbors import NearestNeighbors

    from tlsurvey.coding.topics import cosine_knn

    vectors = np.random.default_rng(3).normal(size=(500, 16))
    indices, distances = cosine_knn(vectors, 6, chunk=97)
    brute_dist, brute_idx = NearestNeighbors(n_neighbors=6, metric="cosine",
                                             algorithm="brute").fit(vectors).kneighbors(vectors)
    assert (indices[:, 0] == np.arange(500)).all() and (distances[:, 0] == 0).all()
    assert (indices == brute_idx).all()
    np.testing.assert_allclose(distances, brute_dist, atol=1e-6)


def test_large_reductions_use_exact_neighbours(monkeypatch):
    """From EXACT_KNN_FROM embeddings UMAP gets exact neighbours (no approximate search)."""
    from tlsurvey.coding import topics

    monkeypatch.setattr(topics, "EXACT_KNN_FROM", 100)
    vectors = np.random.default_rng(4).normal(size=(150, 8)).astype(np.float32)
    reduction = topics.SharedReduction(len(vectors), seed=1)
    reduced = reduction.fit_transform(vectors)
    assert reduced.shape == (150, 5) and np.isfinite(reduced).all()
    np.testing.assert_array_equal(reduction.umap.precomputed_knn[0],
                                  topics.cosine_knn(vectors, 15)[0])
    assert reduction.n_fits == 1 and reduction.fit_transform(vectors) is reduced


def test_exact_neighbours_equal_on_one_and_two_blas_threads():
    """The topic fit runs on one thread except the neighbour search, whose matrix products
    must give the same bits on any number of threads."""
    from threadpoolctl import threadpool_limits

    from tlsurvey.coding.topics import cosine_knn

    embeddings = np.random.default_rng(5).normal(size=(3000, 384)).astype(np.float32)
    runs = []
    for threads in (1, 2):
        with threadpool_limits(threads, user_api="blas"):
            runs.append(cosine_knn(embeddings, 15))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
