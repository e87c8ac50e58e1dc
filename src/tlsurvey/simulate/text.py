"""Free-text phrase bank and answer composer for the simulated survey.

The bank is data: for every codebook code a list of clauses written the way practitioners
answer (lower-case start, no final full stop). Placeholders: ``{src}`` the chosen source,
``{alt}`` another source, ``{case}`` the target. An answer joins 1-3 clauses with connectives,
optional hedges, curly quotes for some participants, sparse typos and, sometimes, a negated
clause whose code is *not* planted. Ambiguous terms (``AMBIGUOUS_TERMS``) occur under several
codes, so the same word carries different senses for different participants.
"""

from __future__ import annotations

import re

import numpy as np

PHRASES = {
    "task_dependence": [
        "it really depends on the target task, and for {case} the answer is different",
        "for {case} I'd pick differently than for the other dataset, the task matters",
        "there is no single best source, it depends on what the downstream task looks like",
        "the choice depends on the task: {case} needs different cues than the other target",
        "I chose differently for the two case studies because the tasks are not the same",
        "what works for one target does not automatically work for another",
        "it's task specific, for {case} I would go with {src} but not in general",
        "it depends on the task and the labels you care about",
        "honestly it changes per application, so I answered per case",
    ],
    "community_practice": [
        "{src} is the de facto standard",
        "everyone pretrains on {src}, so it is the safe default",
        "it is what most papers use as a baseline",
        "most people in the field start from {src}",
        "it's the standard choice and reviewers expect it",
        "{src} pretraining is common practice in medical imaging papers",
        "it is widely used, so results are easy to compare",
        "that's what my lab always uses",
        "it is the most popular option and has worked in many papers",
        "the community has converged on {src} for this",
    ],
    "dataset_size": [
        "{src} is much bigger, more images means better filters",
        "the sheer size of {src} helps",
        "it has millions of images",
        "larger pretraining sets usually transfer better",
        "more data beats a closer source in my experience",
        "{src} is large enough to learn general representations",
        "scale matters most, and {src} is the largest of the three",
        "the number of training images is much higher",
        "a small source dataset would not be enough to learn good filters",
    ],
    "dataset_diversity": [
        "{src} covers a lot of different classes",
        "the diversity of {src} gives more general features",
        "it has a wide variety of objects and scenes",
        "many categories, so the representations are less specialised",
        "the variety of image content is much richer",
        "{src} is more diverse than the alternatives",
        "broad coverage of textures and shapes helps for {case}",
        "it's heterogeneous, lots of different things in it",
    ],
    "label_quality": [
        "the labels in {src} are cleaner",
        "annotation quality of {src} is better",
        "{alt} has noisy labels, so I trust {src} more",
        "the categories in {src} are carefully curated",
        "label noise in the source matters, and {src} is well annotated",
        "the class labels are reliable",
        "{src} labels were checked by experts",
        "well-defined classes with consistent labelling",
    ],
    "acquisition": [
        "{src} comes from the same kind of imaging modality",
        "the acquisition process is closer: grayscale scans rather than photos",
        "{src} is closer in modality",
        "x-rays and CT are both radiological acquisitions",
        "the images are captured with scanners, not consumer cameras",
        "same modality matters more than content",
        "stained slides under a microscope are a very different acquisition from radiology",
        "the imaging physics is different for {case}",
        "colour vs grayscale, the acquisition is just different",
    ],
    "embedding_similarity": [
        "the embeddings overlap more in the UMAP view",
        "in the embedding plot {case} sits close to {src}",
        "the data embedding showed the clusters near each other",
        "the feature distribution of {src} is closer to the target in the embedding",
        "computationally the datasets look closer, judging from the embedding view",
        "the UMAP points of {src} were mixed with the target points",
        "the latent representations seemed closer",
        "based on the embedding distance {src} is nearest",
        "the features of a pretrained network put them close together",
    ],
    "visual_similarity": [
        "the images look more alike",
        "visually {src} is closer to {case}",
        "colours and textures in {src} resemble {case}",
        "{case} looks like natural images in terms of texture",
        "low-level features like edges and textures are similar",
        "the appearance of the images is closer",
        "from looking at the examples, they look similar",
        "the colour statistics are closer",
        "the domain gap in appearance is smaller",
    ],
    "semantic_similarity": [
        "the classes in {src} are semantically related to {case}",
        "the content is closer: both are about anatomy",
        "{src} has medical concepts, {alt} has dogs and cars",
        "the labels mean similar things",
        "the objects in {src} are more related to what we classify",
        "semantically, {src} is the closest",
        "the categories overlap in meaning",
        "the tasks share concepts like organs and lesions",
    ],
    "domain_similarity": [
        "{src} is in the same domain",
        "it's medical data, so the domain gap is smaller",
        "{src} is closer to the target domain",
        "same domain, medical imaging",
        "the distribution shift between {src} and {case} is smaller",
        "it is in-domain pretraining",
        "medical to medical transfer makes more sense",
        "the domain is closer even though the images look different",
        "out-of-domain sources like natural images transfer worse",
    ],
    "general_similarity": [
        "it's just more similar",
        "{src} is the most similar overall",
        "more similar source, better transfer",
        "the datasets are similar enough",
        "similarity to the target is what matters",
        "I picked the one that is closest to {case}",
        "the closer the better",
        "it seemed the most similar of the three",
    ],
    "robustness": [
        "models pretrained on {src} are more robust to distribution shift",
        "I care about robustness to scanner differences",
        "it generalises better to new hospitals",
        "the representations should be robust to staining variations",
        "robustness under domain shift is important",
        "it will be less brittle on out-of-distribution data",
        "pretraining on {src} gives more stable models",
        "better generalisation across sites",
    ],
    "fairness_ethics": [
        "I would also check whether the source data has demographic biases",
        "fairness across patient groups should matter too",
        "there might be bias in who is represented in {src}",
        "there are ethical concerns about how {src} was collected",
        "consent and licensing of the source images matter",
        "bias against subgroups can transfer from pretraining",
        "the source could encode spurious correlations with sex or age",
        "we should think about fairness, not just AUC",
    ],
    "resources_weights": [
        "pretrained weights are readily available for {src}",
        "weights are everywhere, you can just download them",
        "it's available in torchvision",
        "no need to pretrain myself",
        "{alt} weights are harder to find",
        "compute is limited, so I'd use existing checkpoints",
        "it is easy to get {src} checkpoints for ResNet-50",
        "the models are one line of code away",
        "training from scratch on {alt} would take too long",
    ],
}

# Answers to "What does 'similar' mean to you?" (a smaller bank per code).
MEANING = {
    "visual_similarity": [
        "that the images look alike: colour, texture, shapes",
        "similar appearance and low-level statistics",
        "if you put them side by side they look the same",
        "same kind of textures and edges",
        "pixel-level similarity, basically how it looks",
    ],
    "semantic_similarity": [
        "the classes mean related things",
        "same kind of objects or concepts",
        "the labels are about related concepts",
        "similar content, not just looks",
        "the semantics of the categories overlap",
    ],
    "embedding_similarity": [
        "close in the feature space of a pretrained network",
        "small distance between the feature distributions",
        "the embeddings overlap",
        "something like FID or MMD between the datasets",
        "closeness in representation space",
    ],
    "domain_similarity": [
        "same domain, e.g. both medical",
        "a small domain gap",
        "coming from the same field of application",
        "both drawn from the same distribution of clinical data",
        "same domain and same clinical context",
    ],
    "general_similarity": [
        "hard to define, more of a gut feeling",
        "they are alike in general",
        "similar is similar, I don't know how to make it precise",
        "close to each other overall",
        "honestly it's a vague term",
    ],
    "acquisition": [
        "same modality and acquisition protocol",
        "captured the same way (same scanner type, same staining)",
        "same imaging technique",
        "both grayscale radiographs, same acquisition",
    ],
}

# Negated mentions: the code is named but must NOT be counted as planted.
NEGATIONS = {
    "community_practice": ["not because it is popular", "not just because everyone uses it"],
    "visual_similarity": ["not that the images look alike", "it's not about how they look"],
    "dataset_size": ["size is not the reason", "not because it is bigger"],
    "domain_similarity": ["not because of the domain", "the domain doesn't matter that much"],
    "embedding_similarity": ["I didn't really trust the embedding view"],
    "general_similarity": ["not because it's more similar"],
}

# Personal data some participants leave in free text (for the de-identification checks).
PII = {
    "email": ("Happy to discuss further: {}", None),
    "url": ("I wrote a bit more about this at {}", "https://example.org/~tlnotes/source-choice"),
    "phone": ("Feel free to call me on {}", "+1 555 010 0199"),
}

CONTENT_FREE = ["n/a", "same as before", "-", "see above", "idk", "N/A"]

HEDGES = ["I think ", "probably ", "I guess ", "my intuition is that ", "honestly, ", "IMO "]
MEANING_HEDGES = ["to me: ", "I'd say ", "for me, "]
CONNECTIVES = [". ", ", and ", "; also ", ". Plus ", " - ", ".\n", ".\n\n", ", "]

AMBIGUOUS_TERMS = {
    "similar": r"\bsimilar\b",
    "domain gap": r"\bdomain gap\b",
    "domain": r"\bdomain\b(?! gap)",
    "distribution": r"\bdistribution\b",
    "features": r"\bfeatures?\b",
    "natural images": r"\bnatural images\b",
}

SOURCE_NAMES = {
    "imagenet": ["ImageNet", "imagenet", "ImageNet-1K", "IN-1k"],
    "radimagenet": ["RadImageNet", "radimagenet", "RadImagenet"],
    "ecoset": ["Ecoset", "ecoset"],
    None: ["the source dataset", "the pretraining data"],
}
CASE_NAMES = {
    "tissue": ["the histology patches", "H&E tissue", "CRC tissue", "the pathology data"],
    "xray": ["chest x-rays", "CXR", "the radiographs", "CheXpert"],
    None: ["the target data", "the target task"],
}


def term_senses(phrase: str, code: str) -> list[tuple[str, str]]:
    """Ambiguous terms used in ``phrase``, each paired with the code (sense) it carries."""
    return [(term, code) for term, pat in AMBIGUOUS_TERMS.items() if re.search(pat, phrase)]


def typo(rng: np.random.Generator, text: str) -> str:
    """Introduce one realistic typo (swap, drop or double a letter) in a word of >= 5 letters."""
    words = [m for m in re.finditer(r"[A-Za-z]{5,}", text)]
    if not words:
        return text
    m = words[rng.integers(len(words))]
    w, i = m.group(), int(rng.integers(1, len(m.group()) - 2))
    kind = rng.integers(3)
    if kind == 0:
        w = w[:i] + w[i + 1] + w[i] + w[i + 2 :]
    elif kind == 1:
        w = w[:i] + w[i + 1 :]
    else:
        w = w[:i] + w[i] + w[i:]
    return text[: m.start()] + w + text[m.end() :]


def pick(rng: np.random.Generator, items):
    """One element of ``items`` drawn with ``rng``."""
    return items[int(rng.integers(len(items)))]


def compose(rng, codes, *, bank=PHRASES, hedges=HEDGES, source=None, alt=None, case=None,
            negate=None, curly=False, typos=0):
    """Compose one answer planting ``codes``.

    Parameters
    ----------
    rng : numpy.random.Generator
    codes : list of str
        Codes to plant, one clause each, in this order.
    bank : dict
        Phrase bank (``PHRASES`` or ``MEANING``).
    hedges : list of str
        Hedging prefixes, one of which opens 40% of answers.
    source, alt, case : str or None
        Canonical ids filling ``{src}``, ``{alt}`` and ``{case}`` (None: generic wording).
    negate : str or None
        A code mentioned only under negation (not planted).
    curly : bool
        Use typographic apostrophes and quotes.
    typos : int
        Number of typos to introduce.

    Returns
    -------
    text : str
    senses : list of (term, code)
        Ambiguous terms used and the sense (code) each carries.
    """
    names = {
        "src": pick(rng, SOURCE_NAMES[source]),
        "alt": pick(rng, SOURCE_NAMES[alt]),
        "case": pick(rng, CASE_NAMES[case]),
    }
    clauses, senses = [], []
    for code in codes:
        phrase = pick(rng, bank[code]).format(**names)
        clauses.append(phrase)
        senses += term_senses(phrase, code)
    if negate is not None:
        clauses.insert(int(rng.integers(len(clauses) + 1)), pick(rng, NEGATIONS[negate]))
    if rng.random() < 0.4:
        clauses[0] = pick(rng, hedges) + clauses[0]
    text = clauses[0]
    for clause in clauses[1:]:
        sep = pick(rng, CONNECTIVES)
        text += sep + (clause[0].upper() + clause[1:] if sep.strip() == "." else clause)
    text = text[0].upper() + text[1:] + ("." if rng.random() < 0.7 else "")
    if curly:
        text = text.replace("'", "\u2019")
        text = re.sub(r"\bsimilar\b", "\u201csimilar\u201d", text, count=1)
    for _ in range(typos):
        text = typo(rng, text)
    return text, senses
