"""Parse mixed-model formulas written in lme4 syntax.

Supported: ``y ~ fixed + (1 | g)``, crossed intercepts ``(1 | g1) + (1 | g2)``, correlated random
slopes ``(x | g)`` / ``(1 + x | g)`` and ``(0 + x | g)`` for a single grouping factor. Rejected
with :class:`~tlsurvey.errors.InputError`: ``||``, nested ``g1/g2``, interaction grouping factors
``g1:g2``, interactions inside a random term, and a grouping factor used twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tlsurvey.errors import InputError
from tlsurvey.models.stats import complete

NAME = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")


@dataclass(frozen=True)
class RandomTerm:
    """One ``(terms | group)`` term: ``intercept`` and slope variable names."""

    group: str
    intercept: bool = True
    slopes: tuple[str, ...] = ()

    @property
    def names(self) -> list[str]:
        return (["(Intercept)"] if self.intercept else []) + list(self.slopes)


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
            names += [*term.slopes, term.group]
        return list(dict.fromkeys(n for n in names if not n.isdigit()))

    @property
    def intercepts_only(self) -> bool:
        return all(term.intercept and not term.slopes for term in self.random)

    def statsmodels(self) -> dict:
        """Keyword arguments for ``statsmodels.formula.api.mixedlm``.

        One grouping factor maps to ``groups`` and ``re_formula``; several crossed intercepts map
        to a single all-ones group (column ``_all``) with one variance component per factor.
        """
        formula = f"{self.response} ~ {self.fixed}"
        if len(self.random) == 1:
            term = self.random[0]
            rhs = " + ".join(term.slopes) or "0"
            re_formula = ("1 + " if term.intercept else "0 + ") + rhs if term.slopes else "1"
            return {"formula": formula, "groups": term.group, "re_formula": re_formula}
        if not self.intercepts_only:
            raise _error(self.formula, "random slopes are supported for one grouping factor only")
        vc = {term.group: f"0 + C({term.group})" for term in self.random}
        return {"formula": formula, "groups": "_all", "re_formula": "0", "vc_formula": vc}


def _error(formula: str, message: str) -> InputError:
    return InputError("formula", f"{message} in {formula!r}")


def _random_term(formula: str, inner: str) -> RandomTerm:
    if "||" in inner:
        raise _error(formula, "uncorrelated random effects '||' are not supported")
    if inner.count("|") != 1:
        raise _error(formula, f"random term '({inner})' needs exactly one '|'")
    lhs, group = (part.strip() for part in inner.split("|"))
    if "/" in group:
        raise _error(formula, f"nested grouping '{group}' is not supported (code nested ids)")
    if ":" in group or not NAME.match(group):
        raise _error(formula, f"grouping factor '{group}' must be a single column name")
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
    return RandomTerm(group, intercept, tuple(slopes))


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
            random.append(_random_term(formula, piece[1:-1]))
        else:
            fixed_parts.append(piece)
    groups = [term.group for term in random]
    if not groups:
        raise _error(formula, "no random-effects term such as (1 | participant)")
    if len(set(groups)) != len(groups):
        raise _error(formula, "a grouping factor appears in more than one random term")
    fixed = " + ".join(fixed_parts) if fixed_parts else "1"
    return MixedFormula(formula, response, fixed, tuple(random))


def model_frame(parsed: MixedFormula, data):
    """Rows of ``data`` complete in every model variable; logs how many rows were dropped.

    Raises
    ------
    InputError
        When a variable is missing from ``data`` or no complete rows remain.
    """
    required = [parsed.response, *parsed.groups, *(s for t in parsed.random for s in t.slopes)]
    missing = [name for name in required if name not in data.columns]
    if missing:
        raise InputError("data", f"column(s) {missing} used in {parsed.formula!r} not found")
    used = [name for name in parsed.variables if name in data.columns]
    frame = complete(data, used, f"{parsed.formula} (columns {used})")
    if frame.empty:
        raise InputError("data", f"no complete rows for {parsed.formula!r}")
    return frame.reset_index(drop=True)


def r_name(column: str) -> str:
    """Name a design column as R does: ``Intercept`` -> ``(Intercept)``, ``temp[T.warm]`` ->
    ``tempwarm``, ``C(x)[T.b]`` -> ``xb``."""
    if column == "Intercept":
        return "(Intercept)"
    column = re.sub(r"C\(([A-Za-z0-9_.]+)\)", r"\1", column)
    return re.sub(r"\[T\.([^\]]*)\]", r"\1", column)
