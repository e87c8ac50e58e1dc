"""Self-contained HTML report: figures as base64 PNG, tables as HTML, all user text escaped.

``build_report`` takes named input paths (the named inputs of rule ``report`` in
workflow/rules/report.smk); every section uses what is present and says so when an input is
missing, so the report builds at every stage of the workflow.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
import os
import platform
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd
import yaml

from tlsurvey import __version__, provenance
from tlsurvey.config import file_sha256, load_yaml, redact_private
from tlsurvey.figures.common import DPI  # of the embedded PNGs
from tlsurvey.io import read_table, write_text
from tlsurvey.report import sections
from tlsurvey.study import Study

CSS_PX_PER_INCH = 110  # display size: a 7 in figure is 770 px wide



@dataclass
class Inputs:
    """Named input files, read lazily; a missing name or file reads as ``None``.

    ``cache`` holds what was read or derived from them (tables, YAML, figure data, tables of
    :meth:`derived`); builds from the same inputs may share it (the report and its bundle copy).
    """

    paths: Mapping[str, Path]
    figures: Mapping[str, Path] = field(default_factory=dict)
    captions: Mapping[str, str] = field(default_factory=dict)
    config: Mapping = field(default_factory=dict)
    out: Path = Path("results/report/report.html")
    links: Mapping[str, str] = field(default_factory=dict)
    cache: dict = field(default_factory=dict)

    def has(self, name: str) -> bool:
        """True when input ``name`` was given and exists."""
        return name in self.paths and Path(self.paths[name]).exists()

    def table(self, name: str) -> pd.DataFrame | None:
        """Input ``name`` as a DataFrame (parquet or CSV), or None."""
        if not self.has(name):
            return None
        return self.derived(("table", name), lambda: read_table(self.paths[name]))

    def derived(self, key, build: Callable[[], object]):
        """``build()``, computed once per ``cache`` under ``key`` (a tuple naming what is
        derived); callers treat the result as read-only."""
        if key not in self.cache:
            self.cache[key] = build()
        return self.cache[key]

    @functools.cached_property
    def study(self) -> Study | None:
        """The study (input ``study``: ``study.json``), or None when not given."""
        return Study.load(self.paths["study"]) if self.has("study") else None

    def json(self, name: str) -> dict | None:
        """Input ``name`` read as JSON, or None."""
        return json.loads(Path(self.paths[name]).read_text(encoding="utf-8")) \
            if self.has(name) else None

    def yaml(self, name: str) -> dict | None:
        """Input ``name`` read as YAML, or None."""
        if not self.has(name):
            return None
        return self.derived(("yaml", name), lambda: load_yaml(self.paths[name]))

    def href(self, name: str) -> str | None:
        """Relative link from the report to input ``name`` (None when absent); ``links``
        overrides it (e.g. a copy beside the report)."""
        if not self.has(name):
            return None
        if name in self.links:
            return self.links[name]
        return os.path.relpath(Path(self.paths[name]).resolve(), self.out.resolve().parent)

    def figure(self, name: str) -> dict | None:
        """Figure block of ``<name>.png`` embedded as a data URI, or None when absent."""
        path = self.figures.get(name)
        if path is None or not Path(path).exists():
            return None
        src, width = self.derived(("figure", name), lambda: png_data(path))
        caption = self.captions.get(name, "")
        return {"kind": "figure", "name": name, "caption": caption, "alt": caption or name,
                "src": src, "width": round(width / DPI * CSS_PX_PER_INCH)}


def png_data(path) -> tuple[str, int]:
    """A PNG file as a base64 data URI, and its width in pixels (from its IHDR chunk)."""
    raw = Path(path).read_bytes()
    return ("data:image/png;base64," + base64.b64encode(raw).decode("ascii"),
            int.from_bytes(raw[16:20], "big"))


def caption_text(path) -> str:
    """Plain text of a reStructuredText caption (inline markup characters removed)."""
    text = " ".join(Path(path).read_text(encoding="utf-8").split())
    for token in ("**", "``", "*", "`"):
        text = text.replace(token, "")
    return text


def timestamp() -> str:
    """UTC build time; ``SOURCE_DATE_EPOCH`` fixes it for byte-identical rebuilds."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch else dt.datetime.now(dt.UTC)
    return when.strftime("%Y-%m-%d %H:%M:%S UTC")


def job_times(metadata_dir=".snakemake/metadata", exclude=(), since=-np.inf) -> pd.DataFrame:
    """Run time per rule of the jobs behind the present results, from Snakemake's job records.

    Snakemake keeps one JSON record per output file (named by the url-safe base64 of its path,
    split into ``@``-prefixed parts when long) with the job's start and end time. Records of files
    that no longer exist, rules named in ``exclude`` and jobs started before ``since`` (POSIX
    seconds) are ignored; a job with several outputs (same job hash) counts once.

    Returns
    -------
    pandas.DataFrame
        rule, jobs, seconds (summed job run time), start and end (POSIX seconds), by start;
        empty when there are no records (e.g. outside a workflow run).
    """
    jobs = {}
    root = Path(metadata_dir)
    for record in sorted(root.rglob("*")) if root.is_dir() else []:
        parts = record.relative_to(root).parts
        try:
            name = "".join(part.removeprefix("@") for part in parts)
            output = base64.urlsafe_b64decode(name).decode()
            meta = json.loads(record.read_text(encoding="utf-8"))
        except (ValueError, OSError, UnicodeDecodeError):
            continue  # a directory part or a record in another format
        timed = meta.get("starttime") and meta.get("endtime")
        if not timed or meta.get("rule") in exclude or not Path(output).exists():
            continue
        key = (meta["rule"], meta.get("job_hash"))
        start, end = jobs.get(key, (np.inf, -np.inf))
        jobs[key] = (min(start, meta["starttime"]), max(end, meta["endtime"]))
    frame = pd.DataFrame([(rule, *span) for (rule, _), span in jobs.items() if span[0] >= since],
                         columns=["rule", "start", "end"])
    frame["seconds"] = frame["end"] - frame["start"]
    table = frame.groupby("rule", as_index=False).agg(
        jobs=("seconds", "size"), seconds=("seconds", "sum"), start=("start", "min"),
        end=("end", "max"))
    return table.sort_values("start", ignore_index=True)


def run_time_info(times: pd.DataFrame | None) -> dict | None:
    """Rows and totals of :func:`job_times` for the methods section (None without records)."""
    if times is None or times.empty:
        return None
    rows = [(r.rule, int(r.jobs), f"{r.seconds:.1f}") for r in times.itertuples()]
    return {"rows": rows, "jobs": int(times["jobs"].sum()),
            "seconds": f"{times['seconds'].sum():.1f}",
            "wall": f"{times['end'].max() - times['start'].min():.1f}"}


def provenance_info(inp: Inputs, config_path=None, times: pd.DataFrame | None = None) -> dict:
    """Package versions, config text, input hashes, lexicon hash, seeds, build and run time."""
    files = {name: str(p) for name, p in sorted(inp.paths.items()) if Path(p).is_file()}
    files.update({f"figure:{n}": str(p) for n, p in sorted(inp.figures.items())
                  if Path(p).is_file()})
    config = dict(inp.config)
    lexicon = config.get("lexicon") or (inp.paths.get("lexicon"))
    def sha256(path):  # once per file and cache (the lexicon is usually an input too)
        return inp.derived(("sha256", str(path)), lambda: file_sha256(path))

    return {
        "versions": provenance.package_versions(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "config_path": str(config_path) if config_path else None,
        "config_text": yaml.safe_dump(redact_private(config), sort_keys=False,
                                      allow_unicode=True),
        "hashes": [(name, path, sha256(path)) for name, path in files.items()],
        "lexicon": (str(lexicon), sha256(str(lexicon))) if lexicon and Path(lexicon).is_file()
        else None,
        "seeds": {f"{stage}.seed": config.get(stage, {}).get("seed")
                  for stage in ("coding", "models") if isinstance(config.get(stage), dict)},
        "embedding": provenance.embedding_provenance(),
        "generated": timestamp(),
        # run times differ between runs: left out of a reproducible (SOURCE_DATE_EPOCH) build
        "run_time": None if os.environ.get("SOURCE_DATE_EPOCH") else run_time_info(times),
        "version": __version__,
    }


def render(context: dict) -> str:
    """Render the report template (autoescaped) with ``context``."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("tlsurvey", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )
    return env.get_template("report.html.j2").render(**context)


def build_report(inputs: Mapping[str, str | Path], out, figures: Mapping[str, str | Path] = None,
                 captions: Mapping[str, str | Path] = None, config: Mapping | None = None,
                 config_path=None, times: pd.DataFrame | None = None,
                 links: Mapping[str, str] | None = None, cache: dict | None = None) -> Path:
    """Write the self-contained HTML report.

    Parameters
    ----------
    inputs
        Input name (as in rule ``report``) -> path; absent names are reported as not available.
    out
        Output path of ``report.html``.
    figures
        Figure name -> PNG path, embedded as base64.
    captions
        Figure name -> caption ``.rst`` path (the captions of ``snakemake --report``).
    config
        The effective workflow configuration (shown in full; seeds and lexicon read from it).
    config_path
        Config file to read when ``config`` is not given.
    times
        Run time per rule (:func:`job_times`), shown in the methods section when given.
    links
        Input name -> link written instead of the relative path (e.g. ``{"audit":
        "audit.html"}`` for a copy beside the report).
    cache
        What was read and derived from ``inputs`` by an earlier build of the same inputs
        (:class:`Inputs`; filled by this one): pass one dict to the report and its bundle.

    Returns
    -------
    pathlib.Path
        The written report.
    """
    if config is None and config_path:
        config = load_yaml(config_path)
    inp = Inputs(
        paths={k: Path(v) for k, v in inputs.items()},
        figures={k: Path(v) for k, v in (figures or {}).items()},
        captions={k: caption_text(v) for k, v in (captions or {}).items()},
        config=config or {},
        out=Path(out),
        links=dict(links or {}),
        cache={} if cache is None else cache,
    )
    body = sections.build_all(inp)
    title = inp.study.title if inp.study is not None else "Survey"
    context = {"title": f"{title}: analysis report",
               "sections": body, "prov": provenance_info(inp, config_path, times)}
    return write_text(render(context), out)


def build_bundle(inputs: Mapping[str, str | Path], out_dir, figures: Mapping[str, str | Path],
                 captions: Mapping[str, str | Path], pdfs, tex_tables, config=None,
                 times=None, cache: dict | None = None) -> Path:
    """Write the reviewer's bundle: ``report.html`` with ``audit.html`` beside it (linked),
    ``tables/<name>.tex`` (paper tables with the study's display labels) and
    ``figures/<name>.pdf``; ``cache`` as in :func:`build_report` (the report's, when it was
    built from the same inputs).

    Returns
    -------
    pathlib.Path
        The bundle directory.
    """
    from tlsurvey import latex
    from tlsurvey.figures.common import labeller
    from tlsurvey.io import write_bytes

    out_dir = Path(out_dir)
    study = Study.load(inputs["study"]) if "study" in inputs else None
    build_report(inputs, out_dir / "report.html", figures, captions, config=config, times=times,
                 links={"audit": "audit.html"} if "audit" in inputs else None, cache=cache)
    if "audit" in inputs:
        write_bytes(Path(inputs["audit"]).read_bytes(), out_dir / "audit.html")
    for name in tex_tables:
        if name in inputs and Path(inputs[name]).exists():
            tex = latex.paper_tables(name, read_table(inputs[name]), label=labeller(study))
            write_text(tex, out_dir / "tables" / f"{name}.tex")
    for pdf in pdfs:
        write_bytes(Path(pdf).read_bytes(), out_dir / "figures" / Path(pdf).name)
    return out_dir
