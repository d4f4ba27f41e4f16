"""Search words as a shopper types them: plurals, shoe words, synonyms, one typo, ranking."""

from types import SimpleNamespace

import pytest

from chalicelib.services import search_terms
from chalicelib.services.search_terms import Term, meaning, resolve


@pytest.mark.parametrize(
    ("typed", "singular"),
    [
        ("boots", "boot"),
        ("sneakers", "sneaker"),
        ("shoes", "shoe"),
        ("ladies", "lady"),
        ("boxes", "box"),
        ("dress", "dress"),
        ("run", "run"),
        ("mens", "men"),
        ("kids", "kid"),
    ],
)
def test_plurals_become_singular_but_not_words_ending_in_s(typed, singular):
    assert search_terms.singular(typed) == singular


def test_a_possessive_is_one_word():
    assert search_terms.words("Men's BOOTS") == ["mens", "boots"]
    assert search_terms.words("women\u2019s") == ["womens"]


@pytest.mark.parametrize(
    ("typed", "facet"),
    [
        ("sneakers", ("category", "sneakers")),
        ("trainers", ("category", "sneakers")),
        ("trainer", ("category", "sneakers")),
        ("boots", ("category", "boots")),
        ("runners", ("category", "running")),
        ("heels", ("category", "formal")),
        ("pumps", ("category", "formal")),
        ("oxfords", ("category", "formal")),
        ("men", ("department", "men")),
        ("women's", ("department", "women")),
        ("ladies", ("department", "women")),
        ("kids", ("department", "kids")),
        ("children", ("department", "kids")),
    ],
)
def test_shoe_words_mean_a_type_or_a_department(typed, facet):
    (word,) = search_terms.words(typed)
    assert facet in meaning(word).facets


def test_synonyms_search_each_other_in_names():
    assert {"sneaker", "trainer"} <= set(meaning("trainers").prefixes)
    assert {"heel", "pump"} <= set(meaning("pumps").prefixes)
    assert {"grey", "gray"} <= set(meaning("gray").prefixes)
    assert meaning("navy") == Term("navy", ("navy",))


def test_one_typo_is_read_as_a_known_word_of_four_letters_or_more():
    vocabulary = {"oxford", "glide", "navy"}
    nothing = lambda term: False  # noqa: E731
    (oxford,) = resolve(["oxfrod"], nothing, vocabulary.__contains__)
    assert oxford.corrected == "oxford" and "oxford" in oxford.prefixes
    (glide,) = resolve(["glied"], nothing, vocabulary.__contains__)  # transposition
    assert glide.corrected == "glide"
    (sneaker,) = resolve(["snaeker"], nothing, lambda word: False)  # shoe words are known anyway
    assert ("category", "sneakers") in sneaker.facets
    # Three letters is too short to guess; a word that matches as typed is never "corrected".
    assert resolve(["nvy"], nothing, vocabulary.__contains__)[0].corrected == ""
    assert resolve(["glied"], lambda term: True, vocabulary.__contains__)[0].corrected == ""
    # Two edits away is not one typo.
    assert resolve(["oxfrdo"], nothing, vocabulary.__contains__)[0].corrected == ""


def test_typo_candidates_come_from_word_lookups_not_a_scan():
    looked_up = []

    def known(word):
        looked_up.append(word)
        return word == "glide"

    (glide,) = resolve(["glied"], lambda term: False, known)
    # A few hundred dictionary lookups, whatever the catalogue's size.
    assert glide.corrected == "glide" and len(looked_up) < 600


def test_did_you_mean_looks_two_edits_away_with_the_same_first_letter():
    vocabulary = ["oxford", "oxblood", "sneaker", "boot"]
    assert search_terms.closest("oxfrdo", vocabulary) == "oxford"
    assert search_terms.closest("snekaer", vocabulary) == "sneaker"
    assert search_terms.closest("xofrod", vocabulary) == ""
    assert search_terms.closest("zzzzzz", vocabulary) == ""


def card(name="", brand="", colour="", department="men", category="formal", when="2026"):
    return SimpleNamespace(
        name=name, brand=brand, colour=colour, department=department, category=category, created_sort=when
    )


def test_a_name_match_ranks_above_a_brand_and_a_colour_match():
    terms = (meaning("sand"),)
    by_name = card(name="Sand Dune", colour="Black", when="2026-01-01")
    by_brand = card(name="Walker", brand="Sand & Co", when="2026-01-02")
    by_colour = card(name="Trail", colour="Sand", when="2026-01-03")  # the newest
    cards = [by_colour, by_brand, by_name]  # newest first, as the index hands them
    slots, keys = search_terms.rank(range(3), cards.__getitem__, terms)
    assert [cards[slot] for slot in slots] == [by_name, by_brand, by_colour]
    assert keys == sorted(keys, reverse=True)


def test_a_whole_word_ranks_above_a_prefix_and_ties_stay_newest_first():
    terms = (meaning("run"),)
    whole = card(name="Run Fast", when="2026-01-01")
    prefix = card(name="Runway", when="2026-01-02")
    older_prefix = card(name="Runabout", when="2025-01-01")
    cards = [prefix, whole, older_prefix]
    slots, _ = search_terms.rank(range(3), cards.__getitem__, terms)
    assert [cards[slot] for slot in slots] == [whole, prefix, older_prefix]
