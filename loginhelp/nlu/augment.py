"""More training examples, made from the ones written: other words for the same concept, typos, a word left out.

Why: the examples are written by a few people in one style; customers use other
words for the same idea, make typos and leave words out. Concept features alone
tell the classifier that "operator" and "agent" are one idea, but the word and
character n-grams around them are still only those of the examples. Variants
that swap a concept's phrase for another of its phrases (from ``concepts.yml``),
misspell a word or drop one teach those n-grams too. Variants keep their
example's intent; they are made at training time, never written into data/.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import List, Sequence, Tuple

from loginhelp.nlu.concepts import Concepts, fold


@dataclass(frozen=True)
class Augmentation:
    """How many variants of each example: concept swaps, typos, a dropped word (0 turns one off)."""

    concept_swaps: int = 2
    typos: int = 1
    word_drops: int = 1
    seed: int = 42


def swap_concept(text: str, concepts: Concepts, rng: random.Random) -> str | None:
    """The text (folded) with one concept phrase it mentions replaced by another phrase of that concept."""
    folded = fold(text)
    hits = [(name, match) for name, pattern in concepts.patterns.items()
            for match in [pattern.search(folded)] if match]
    if not hits:
        return None
    name, match = rng.choice(hits)
    others = [p for p in concepts.phrases[name] if p != match.group(0)]
    if not others:
        return None
    return folded[:match.start()] + rng.choice(others) + folded[match.end():]


def misspell(text: str, rng: random.Random) -> str | None:
    """One word of four letters or more with a letter dropped, doubled or swapped with the next."""
    words = text.split()
    candidates = [i for i, word in enumerate(words) if len(word) > 3 and word.isalpha()]
    if not candidates:
        return None
    i = rng.choice(candidates)
    word, j = words[i], rng.randrange(1, len(words[i]) - 1)
    edit = rng.choice("dst")
    if edit == "d":
        word = word[:j] + word[j + 1:]
    elif edit == "s":
        word = word[:j] + word[j] + word[j:]
    else:
        word = word[:j] + word[j + 1] + word[j] + word[j + 2:]
    return " ".join(words[:i] + [word] + words[i + 1:])


# Words whose absence changes the intent: "still can't get in" is a step that did
# not help, "can't get in" a new problem; "not working" is not "working".
KEEP = frozenset({"still", "again", "anymore", "yet", "not", "no", "never", "nothing", "without",
                  # negations typed without the apostrophe
                  "cant", "cannot", "dont", "doesnt", "didnt", "isnt", "wont", "wasnt", "arent", "havent", "couldnt"})


def drop_word(text: str, rng: random.Random) -> str | None:
    """One word left out, for messages of four words or more; never a word of KEEP or a negation."""
    words = text.split()
    candidates = [i for i, word in enumerate(words)
                  if word.lower().strip(".,!?") not in KEEP and not word.lower().strip(".,!?").endswith("n't")]
    if len(words) < 4 or not candidates:
        return None
    i = rng.choice(candidates)
    return " ".join(words[:i] + words[i + 1:])


def augment(texts: Sequence[str], intents: Sequence[str], concepts: Concepts,
            settings: Augmentation) -> Tuple[List[str], List[str]]:
    """Variants of the examples with their intents (the examples themselves not included)."""
    made: List[str] = []
    labels: List[str] = []
    passes = [
        (settings.concept_swaps, lambda t, rng: swap_concept(t, concepts, rng)),
        (settings.typos, misspell),
        (settings.word_drops, drop_word),
    ]
    for offset, (count, make) in enumerate(passes):
        rng = random.Random(settings.seed + offset)
        for text, intent in zip(texts, intents):
            for _ in range(count):
                variant = make(text, rng)
                if variant and variant != text:
                    made.append(variant)
                    labels.append(intent)
    return made, labels
