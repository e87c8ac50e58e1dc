"""Parse mixed-model formulas written in lme4 syntax.

Supported: ``y ~ fixed + (1 | g)``, crossed factors ``(1 | g1) + (1 | g2)``, correlated random
slopes ``(x | g)`` / ``(1 + x | g)`` / ``(0 + x | g)``, uncorrelated ones ``(1 + x || g)`` (as lme4:
``(1 | g) + (0 + x | g)``), nested factors ``(1 | a/b)`` (``(1 | a) + (1 | b:a)``) and interaction
factors ``(1 | a:b)``, in any combination. Rejected with :class:`~tlsurvey.errors.InputError`:
interactions inside a random term and a random effect given twice for one grouping factor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tlsurvey.errors import InputError

NAME = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")


@dataclass(frozen=True)
class RandomTerm:
    """One ``(terms | group)`` term: ``intercept`` and slope variable names; ``group`` may be an
    interaction ``b:a`` of columns (its levels are the observed combinations)."""

    group: str
    intercept: bool = True
    slopes: tuple[str, ...] = ()

    @property
    def names(self) -> list[str]:
        return (["(Intercept)"] if self.intercept else []) + list(self.slopes)

    @property
    def factors(self) -> list[str]:
        """The data columns that make up ``group``."""
        return self.group.split(":")


@dataclass(frozen=True)
class MixedFormula:
    """A parsed lme4 formula: response, fixed-effects right-hand side, random terms."""

    formula: str
    response: str
    fixed: str
    random: tuple[RandomTerm, ...] = field(default_factory=tuple)

    @property
    def groups(self) -> list[str]:
        return [term.group for term in self.random]

    @property
    def variables(self) -> list[str]:
        """Every data column the formula uses (response, fixed variables, slopes, groups)."""
        names = [self.response]
        names += [v for v in re.findall(r"[A-Za-z_.][A-Za-z0-9_.]*", self.fixed) if v != "C"]
        for term in self.random:
            names += [*term.slopes, *term.factors]
        return list(dict.fromkeys(n for n in names if not n.isdigit()))

    @property
    def intercepts_only(self) -> bool:
        return all(term.intercept and not term.slopes for term in self.random)


def _error(formula: str, message: str) -> InputError:
    return InputError("formula", f"{message} in {formula!r}")


def _random_terms(formula: str, inner: str) -> list[RandomTerm]:
    """The terms of one bracket, expanded as lme4 does for ``||`` and ``a/b``."""
    bars = "||" if "||" in inner else "|"
    parts = inner.split(bars)
    if len(parts) != 2 or "|" in parts[1]:
        raise _error(formula, f"random term '({inner})' needs exactly one '|' or '||'")
    lhs, group = (part.strip() for part in parts)
    nest = [g.strip() for g in group.split("/")]
    if not all(NAME.match(f) for g in nest for f in g.split(":")):
        raise _error(
            formula, f"grouping factor '{group}' must be column names joined by ':' or '/'"
        )
    groups = [":".join(reversed(nest[: k + 1])) for k in range(len(nest))]
    intercept, slopes = True, []
    for token in (t.strip() for t in lhs.split("+")):
        if token == "1":
            continue
        if token in ("0", "-1"):
            intercept = False
        elif token.startswith("-"):
            raise _error(formula, f"term '{token}' in '({inner})' is not supported")
        elif ":" in token or "*" in token:
            raise _error(formula, f"interaction '{token}' in a random term is not supported")
        elif NAME.match(token):
            slopes.append(token)
        else:
            raise _error(formula, f"cannot parse random term '({inner})'")
    if not intercept and not slopes:
        raise _error(formula, f"random term '({inner})' has no terms")
    if bars == "||":  # lme4: (1 + x || g) is (1 | g) + (0 + x | g)
        split = [(True, ())] * intercept + [(False, (s,)) for s in slopes]
        return [RandomTerm(g, i, sl) for g in groups for i, sl in split]
    return [RandomTerm(g, intercept, tuple(slopes)) for g in groups]


def parse(formula: str) -> MixedFormula:
    """Parse an lme4-style formula into fixed and random parts.

    Parameters
    ----------
    formula : str
        For example ``"expected ~ visual + case_study + (1 | participant) + (1 | source)"``.

    Returns
    -------
    MixedFormula

    Raises
    ------
    InputError
        On unsupported or malformed syntax.

    References
    ----------
    Bates, D., Mächler, M., Bolker, B. & Walker, S. (2015). Fitting linear mixed-effects models
    using lme4. Journal of Statistical Software, 67(1).
    """
    if formula.count("~") != 1:
        raise _error(formula, "expected exactly one '~'")
    response, rhs = (part.strip() for part in formula.split("~"))
    if not NAME.match(response):
        raise _error(formula, f"response '{response}' must be a single column name")
    if rhs.count("(") != rhs.count(")"):
        raise _error(formula, "unbalanced parentheses")
    random, fixed_parts, depth = [], [], 0
    # split the right-hand side on top-level '+' and classify bracketed '|' terms as random
    pieces, buf = [], ""
    for ch in rhs:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "+" and depth == 0:
            pieces.append(buf.strip())
            buf = ""
        else:
            buf += ch
    pieces.append(buf.strip())
    for piece in pieces:
        if not piece:
            raise _error(formula, "empty term")
        if "|" in piece:
            if not (piece.startswith("(") and piece.endswith(")")):
                raise _error(formula, f"random term '{piece}' must be in parentheses")
            random.extend(_random_terms(formula, piece[1:-1]))
        else:
            fixed_parts.append(piece)
    if not random:
        raise _error(formula, "no random-effects term such as (1 | participant)")
    effects = [(term.group, name) for term in random for name in term.names]
    if len(set(effects)) != len(effects):
        raise _error(formula, "a random effect appears twice for one grouping factor")
    fixed = " + ".join(fixed_parts) if fixed_parts else "1"
    return MixedFormula(formula, response, fixed, tuple(random))


def model_frame(parsed: MixedFormula, data):
    """Rows of ``data`` complete in every model variable; logs how many rows were dropped.

    Raises
    ------
    InputError
        When a variable is missing from ``data`` or no complete rows remain.
    """
    required = [parsed.response, *(v for t in parsed.random for v in (*t.factors, *t.slopes))]
    missing = [name for name in dict.fromkeys(required) if name not in data.columns]
    if missing:
        raise InputError("data", f"column(s) {missing} used in {parsed.formula!r} not found")
    used = [name for name in parsed.variables if name in data.columns]
    from tlsurvey.models.stats import complete  # pandas: not needed to parse a formula

    frame = complete(data, used, f"{parsed.formula} (columns {used})")
    if frame.empty:
        raise InputError("data", f"no complete rows for {parsed.formula!r}")
    frame = frame.reset_index(drop=True)
    for group in {t.group for t in parsed.random if ":" in t.group}:
        frame[group] = frame[group.split(":")].astype(str).agg(":".join, axis=1)
    return frame


def patsy_frame(frame):
    """``frame`` with its text columns as categoricals (levels sorted, as patsy sorts them):
    patsy then takes their levels at once instead of checking every value in Python."""
    import pandas as pd

    text = [c for c in frame.columns if pd.api.types.is_string_dtype(frame[c])]
    return frame.astype(dict.fromkeys(text, "category")) if text else frame


def r_name(column: str) -> str:
    """Name a design column as R does: ``Intercept`` -> ``(Intercept)``, ``temp[T.warm]`` ->
    ``tempwarm``, ``C(x)[T.b]`` -> ``xb``, full dummy coding ``f[a]`` -> ``fa``."""
    if column == "Intercept":
        return "(Intercept)"
    column = re.sub(r"C\(([A-Za-z0-9_.]+)\)", r"\1", column)
    return re.sub(r"\[(?:T\.)?([^\]]*)\]", r"\1", column)
