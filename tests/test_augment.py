"""Training-time variants of the NLU examples (loginhelp/nlu/augment.py)."""
import random

import pytest

from loginhelp.nlu.augment import KEEP, Augmentation, augment, drop_word, misspell, swap_concept
from loginhelp.nlu.concepts import Concepts

LEXICON = Concepts({"human": ["agent", "operator", "real person"], "locked": ["locked", "frozen"]})


def test_a_concept_phrase_is_swapped_for_another_of_the_same_concept():
    seen = {swap_concept("I want an Agent now", LEXICON, random.Random(seed)) for seed in range(20)}
    assert seen == {"i want an operator now", "i want an real person now"}


def test_no_concept_no_swap():
    assert swap_concept("my screen is white", LEXICON, random.Random(0)) is None


@pytest.mark.parametrize("seed", range(30))
def test_a_misspelling_changes_one_long_word_by_one_letter(seed):
    text = "the verification email never arrives"
    variant = misspell(text, random.Random(seed))
    changed = [(a, b) for a, b in zip(text.split(), variant.split()) if a != b]
    assert len(variant.split()) == len(text.split())
    assert len(changed) <= 1
    for before, after in changed:
        dropped_or_doubled = abs(len(before) - len(after)) == 1
        swapped = len(before) == len(after) and sorted(before) == sorted(after)
        assert len(before) > 3 and (dropped_or_doubled or swapped)


def test_short_words_only_are_not_misspelled():
    assert misspell("i am in", random.Random(0)) is None


@pytest.mark.parametrize("seed", range(40))
def test_a_dropped_word_is_never_one_that_carries_the_intent(seed):
    text = "still can't get in, not working"
    variant = drop_word(text, random.Random(seed))
    assert variant is not None and len(variant.split()) == len(text.split()) - 1
    for word in ("still", "can't", "not"):
        assert word in variant.split() or word + "," in variant.split()


@pytest.mark.parametrize("seed", range(40))
def test_negations_typed_without_apostrophe_stay_and_other_words_can_go(seed):
    text = "i cant open my account, dont know why"
    variant = drop_word(text, random.Random(seed))
    assert "cant" in variant.split() and "dont" in variant.split()


def test_a_word_ending_in_nt_is_not_taken_for_a_negation():
    dropped = {drop_word("my account is locked since monday", random.Random(seed)) for seed in range(40)}
    assert "my is locked since monday" in dropped


def test_short_messages_keep_every_word():
    assert drop_word("cant get in", random.Random(0)) is None
    assert KEEP >= {"still", "not", "no"}


def test_variants_keep_their_examples_intent_and_are_reproducible():
    texts = ["talk to an operator please", "my account is frozen since monday"]
    intents = ["contact_support", "account_locked"]
    settings = Augmentation(concept_swaps=2, typos=1, word_drops=1, seed=7)
    made, labels = augment(texts, intents, LEXICON, settings)
    assert augment(texts, intents, LEXICON, settings) == (made, labels)
    assert len(made) == len(labels) and set(made).isdisjoint(texts)
    for variant, label in zip(made, labels):
        source = texts[intents.index(label)]
        assert len(set(variant.split()) & set(source.lower().split())) >= 2
    assert not augment(texts, intents, LEXICON, Augmentation(0, 0, 0))[0]
