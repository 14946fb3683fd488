"""The project's spaCy pipeline: built from repo files, doing real work for Rasa."""
from __future__ import annotations

from pathlib import Path

import pytest
import spacy
import yaml
from rasa.shared.nlu.training_data.loading import load_data

from loginhelp.nlp import spacy_pipeline

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def nlp(tmp_path_factory):
    """Built into a temporary folder and loaded back from disk, as Rasa does."""
    out = tmp_path_factory.mktemp("spacy") / "loginhelp_en"
    assert spacy_pipeline.main([str(spacy_pipeline.DEFAULT_SOURCE), str(out)]) == 0
    assert spacy_pipeline.is_current(out)
    return spacy.load(out)


def ents(nlp, text):
    return [(e.text, e.label_) for e in nlp(text).ents]


def test_no_downloaded_model_and_known_components(nlp):
    assert nlp.meta["name"] == "loginhelp_en"
    assert nlp.pipe_names == ["attribute_ruler", "entity_ruler"]


@pytest.mark.parametrize(
    "text, token",
    [("my 2FA fails", "2FA"), ("KYC level 2", "KYC"), ("status of lh-7kq2mx?", "lh-7kq2mx"),
     ("ticket LH-A3F9WZ.", "LH-A3F9WZ"), ("my 2-FA app", "2-FA")],
)
def test_tokenizer_keeps_terms_whole(nlp, text, token):
    assert token in [t.text for t in nlp(text)]


@pytest.mark.parametrize(
    "text, lemma",
    [("forgot my pasword", "password"), ("the authentificator app", "authenticator"),
     ("G2FA broken", "2fa"), ("my acount is frozen", "account")],
)
def test_typos_share_a_lemma(nlp, text, lemma):
    assert lemma in [t.lemma_ for t in nlp(text)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("blank page in Google Chrome", [("Google Chrome", "browser")]),
        ("the android app crashes", [("android app", "platform")]),
        ("android keeps crashing", [("android", "platform")]),
        ("the iphone app crashes", [("iphone app", "platform")]),
        ("wrong password in the app", [("in the app", "platform")]),
        ("my authenticator app is gone", []),
        ("on a Xiaomi Redmi Note 12", [("Xiaomi Redmi Note 12", "device")]),
        ("text +1-202-555-0147", [("+1-202-555-0147", "phone")]),
        ("on my iPhone 15 Pro Max", [("iPhone 15 Pro Max", "device")]),
        ("using a samsung galaxy s23 ultra", [("samsung galaxy s23 ultra", "device")]),
        ("mail anna.k@example.com", [("anna.k@example.com", "email")]),
        ("call +44 7700 900123 please", [("+44 7700 900123", "phone")]),
        ("is coinex-login.net real", [("coinex-login.net", "url")]),
        ("status of LH-7KQ2MX", [("LH-7KQ2MX", "ticket_ref")]),
    ],
)
def test_entities(nlp, text, expected):
    assert ents(nlp, text) == expected


def test_ambiguous_alphabet_is_not_a_ticket(nlp):
    # O, 0, I, 1 and L are left out of references so they cannot be misread.
    assert ents(nlp, "status of LH-O0I1L2") == []


def test_every_phrase_reaches_its_canonical_value(nlp):
    """The entity ruler's phrases and the NLU synonyms agree on normalised values."""
    synonyms = load_data(str(REPO / "data" / "nlu")).entity_synonyms
    source = yaml.safe_load((REPO / "spacy_pipeline" / "entities.yml").read_text())
    for label, values in source["phrases"].items():
        for canonical, phrases in values.items():
            for phrase in phrases:
                found = ents(nlp, phrase)
                assert found and found[0][1] == label, (phrase, found)
                text = found[0][0]
                assert synonyms.get(text.lower(), text.lower()) == canonical, (phrase, label)


def test_rebuild_is_needed_when_a_source_changes(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    for name in spacy_pipeline.SOURCE_FILES:
        (source / name).write_text((spacy_pipeline.DEFAULT_SOURCE / name).read_text())
    out = tmp_path / "out"
    spacy_pipeline.main([str(source), str(out)])
    assert spacy_pipeline.is_current(out, source)
    with (source / "lemmas.yml").open("a") as handle:
        handle.write("wallet: [walet]\n")
    assert not spacy_pipeline.is_current(out, source)
    spacy_pipeline.main([str(source), str(out)])
    assert "wallet" in [t.lemma_ for t in spacy.load(out)("my walet")]
