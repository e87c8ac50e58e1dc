"""Language of each free-text answer, detected offline with py3langid (its model ships in the
wheel; nothing is downloaded).

An answer is flagged as another language only when py3langid gives English a probability below
:data:`MAX_ENGLISH_PROB` and the answer has at least :data:`MIN_WORDS` words; shorter answers
("n/a", "its radiology") are ``und`` (undetermined) and treated as English by the coders.
Scripts written without spaces between words (Chinese, Japanese, Korean) count each character as
a word.
"""

from __future__ import annotations

import re
from functools import cache

ENGLISH = "en"
UNDETERMINED = "und"
MIN_WORDS = 3
MAX_ENGLISH_PROB = 0.01
_WORD = re.compile(r"[^\W\d_]{2,}")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


@cache
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str) -> str:
    """ISO 639-1 code of ``text``: ``en``, another language, or ``und`` when too short."""
    if max(len(_WORD.findall(str(text))), len(_CJK.findall(str(text)))) < MIN_WORDS:
        return UNDETERMINED
    ranks = dict(_identifier().rank(str(text)))
    if ranks.get(ENGLISH, 0.0) >= MAX_ENGLISH_PROB:
        return ENGLISH
    return str(max(ranks, key=ranks.get))


def detect_languages(texts) -> list[str]:
    """:func:`detect_language` of each text, in order."""
    return [detect_language(t) for t in texts]


def codeable(languages, allowed=(ENGLISH,)) -> list[bool]:
    """Whether each answer is in a language the coders handle (``und`` always is)."""
    allowed = set(allowed) | {UNDETERMINED}
    return [lang in allowed for lang in languages]
