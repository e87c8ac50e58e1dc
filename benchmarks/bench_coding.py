"""Throughput of lexicon coding and sentence embedding; writes results/bench/coding.json.

Usage: python benchmarks/bench_coding.py [--texts N] [--embed N]
Texts come from the simulator's phrase bank (tlsurvey.simulate.text), so no data is needed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd

from tlsurvey.io import write_text
from tlsurvey.provenance import peak_memory_mib

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]


def synthetic_texts(n: int, seed: int = 0) -> pd.DataFrame:
    from tlsurvey.simulate.text import PHRASES, compose

    rng = np.random.default_rng(seed)
    texts = [
        compose(
            rng,
            list(rng.choice(list(PHRASES), size=int(rng.integers(1, 4)), replace=False)),
            source="imagenet",
            case="xray",
        )[0]
        for _ in range(n)
    ]
    return pd.DataFrame(
        {
            "text_id": [f"t{i:06d}" for i in range(n)],
            "field": "rationale",
            "text": [f"{t} ({i})" for i, t in enumerate(texts)],
        }
    )


def bench_lexicon(texts: pd.DataFrame) -> float:
    from tlsurvey.coding.lexicon import load_lexicon, match_texts

    lexicon = load_lexicon(ROOT / "config/lexicon.yaml")
    match_texts(texts.head(50), lexicon)  # build matchers, warm up
    start = time.perf_counter()
    match_texts(texts, lexicon)
    return len(texts) / (time.perf_counter() - start)


def bench_embedding(texts: pd.DataFrame) -> float:
    from tlsurvey.coding.topics import sentence_encoder

    encode = sentence_encoder()
    encode(["warm up"])
    start = time.perf_counter()
    encode(texts["text"].tolist())
    return len(texts) / (time.perf_counter() - start)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=5000, help="texts for lexicon coding")
    parser.add_argument("--embed", type=int, default=300, help="texts for embedding")
    parser.add_argument("--out", default=str(ROOT / "results/bench/coding.json"))
    args = parser.parse_args(argv)
    texts = synthetic_texts(max(args.texts, args.embed))
    result = {
        "lexicon_texts_per_s": round(bench_lexicon(texts.head(args.texts)), 1),
        "embedding_texts_per_s": round(bench_embedding(texts.head(args.embed)), 1),
        "n_lexicon": args.texts,
        "n_embedding": args.embed,
        "peak_memory_mib": peak_memory_mib(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
    }
    print(f"lexicon coding: {result['lexicon_texts_per_s']:.0f} texts/s ({args.texts} texts)")
    print(f"embedding:      {result['embedding_texts_per_s']:.1f} texts/s ({args.embed} texts)")
    print(f"peak memory:    {result['peak_memory_mib']:.0f} MiB")
    out = Path(args.out)
    write_text(json.dumps(result, indent=2) + "\n", out)
    return result


if __name__ == "__main__":
    main()
