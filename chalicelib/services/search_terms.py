"""What a shopper types, as read-model search terms: plurals, shoe words (types, departments,
synonyms), one typo, and the ranking of a match. Plain functions: catalogue_index only asks
`Term.prefixes`/`Term.facets` for its bitmaps and `rank` for "Best match" (docs/architecture.md).
"""

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

MIN_TYPO_LENGTH = 4  # "one typo" only for words this long: shorter ones would match too much
SUGGEST_DISTANCE = 2  # "did you mean" looks this far when nothing matched

# Words shoppers use -> what they mean. "facet:value" picks a department or type of shoe; other
# words are searched in names, brands and colours too. One line a meaning keeps this compact.
_MEANINGS = """
department:men men man mens gent gents male
department:women women woman womens lady ladies female
department:kids kid kids child children childrens junior youth toddler boy boys girl girls
category:sneakers sneaker trainer kick plimsoll
category:running running run runner jogger jogging
category:boots boot bootie booty
category:sandals sandal slide slider flipflop espadrille
category:formal formal dress oxford derby brogue loafer heel pump
"""
# Groups of words that mean each other in names and colours ("trainers" finds "Sneaker Low").
_SYNONYMS = """
sneaker trainer kick plimsoll
runner running jogger
heel pump stiletto
slide slider
grey gray
"""


def _table() -> tuple[dict[str, tuple[str, str]], dict[str, tuple[str, ...]]]:
    facets: dict[str, tuple[str, str]] = {}
    for line in _MEANINGS.split("\n"):
        if line:
            meaning, *spoken = line.split()
            name, _, value = meaning.partition(":")
            facets.update((word, (name, value)) for word in spoken)
    synonyms: dict[str, tuple[str, ...]] = {}
    for line in _SYNONYMS.split("\n"):
        group = tuple(line.split())
        synonyms.update((word, group) for word in group)
    return facets, synonyms


FACET_WORDS, SYNONYMS = _table()
KNOWN_WORDS = frozenset(FACET_WORDS) | frozenset(SYNONYMS)
# Words that narrow nothing in a shoe shop ("kids shoes" means kids).
STOP_WORDS = frozenset(("shoe", "shoes", "pair", "pairs", "for", "the", "and", "a", "an", "of", "with", "in"))

_WORD_RE = re.compile(r"[^\W_]+")
_POSSESSIVE_RE = re.compile("['\u2019]s\\b")  # men's, men\u2019s


def words(text: str) -> list[str]:
    """Casefolded runs of letters and digits; "men's" is one word, "mens"."""
    return _WORD_RE.findall(_POSSESSIVE_RE.sub("s", text.casefold()))


def singular(word: str) -> str:
    """English plural to singular, for shoe words: boots, shoes, ladies, boxes; not dress."""
    if len(word) <= 3 or not word.endswith("s") or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes", "sses")):
        return word[:-2]
    return word[:-1]


@dataclass(frozen=True)
class Term:
    """One typed word: a card matches if one of its words starts with a prefix, or it has a facet.
    `corrected` is the known word a typo was read as ("oxfrod" -> "oxford")."""

    typed: str
    prefixes: tuple[str, ...]
    facets: tuple[tuple[str, str], ...] = ()
    corrected: str = ""

    @property
    def shown(self) -> str:
        return self.corrected or self.typed


def meaning(word: str, corrected: str = "") -> Term:
    """The term for a word as typed (or as corrected): itself, its singular, synonyms, facets."""
    base = singular(word)
    facet = FACET_WORDS.get(word) or FACET_WORDS.get(base)
    prefixes = dict.fromkeys((base, *SYNONYMS.get(base, ()), *SYNONYMS.get(word, ())))
    if base != word and not word.startswith(base):  # ladies -> lady: both
        prefixes[word] = None
    return Term(corrected or word, tuple(prefixes), (facet,) if facet else (), corrected)


_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def one_edit(word: str) -> set[str]:
    """Every word one deletion, transposition, replacement or insertion away (a few hundred)."""
    letters = _ALPHABET + "".join(set(word) - set(_ALPHABET))
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    found = {left + right[1:] for left, right in splits if right}
    found |= {left + right[1] + right[0] + right[2:] for left, right in splits if len(right) > 1}
    found |= {left + letter + right[1:] for left, right in splits if right for letter in letters}
    found |= {left + letter + right for left, right in splits for letter in letters}
    found.discard(word)
    return found


def resolve(typed: Sequence[str], matches: Callable[[Term], bool], known: Callable[[str], bool]) -> tuple[Term, ...]:
    """The terms for the typed words. A word of MIN_TYPO_LENGTH letters or more that matches
    nothing is read as the known words one edit away (`known`: a word of the index's vocabulary,
    a dict lookup each: no card is looked at)."""
    terms = []
    for word in typed:
        term = meaning(word)
        if not term.facets and len(word) >= MIN_TYPO_LENGTH and not matches(term):
            candidates = sorted(c for c in one_edit(word) if c in KNOWN_WORDS or known(c))
            if candidates:
                found = [meaning(c, corrected=c) for c in candidates]
                term = Term(
                    word,
                    tuple(dict.fromkeys(p for t in found for p in t.prefixes)),
                    tuple(dict.fromkeys(f for t in found for f in t.facets)),
                    corrected=candidates[0],
                )
        terms.append(term)
    return tuple(terms)


def distance(first: str, second: str, limit: int) -> int:
    """Edit distance (adjacent transpositions count one), or limit + 1 once it is surely over."""
    if abs(len(first) - len(second)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(second) + 1))
    for i, a in enumerate(first, 1):
        row = [i]
        for j, b in enumerate(second, 1):
            cost = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a != b))
            if i > 1 and j > 1 and a == second[j - 2] and first[i - 2] == b:
                cost = min(cost, previous2[j - 2] + 1)
            row.append(cost)
        if min(row) > limit:
            return limit + 1
        previous2, previous = previous, row
    return previous[-1]


def closest(word: str, vocabulary: Iterable[str]) -> str:
    """The nearest word within SUGGEST_DISTANCE sharing the first letter ("" if none): for "did you
    mean", only when a search found nothing."""
    best, best_distance = "", SUGGEST_DISTANCE + 1
    for candidate in vocabulary:
        if candidate[:1] == word[:1] and len(candidate) >= MIN_TYPO_LENGTH - 1:
            found = distance(word, candidate, SUGGEST_DISTANCE)
            if found < best_distance or (found == best_distance and candidate < best):
                best, best_distance = candidate, found
    return best


class Searchable(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def brand(self) -> str: ...
    @property
    def colour(self) -> str: ...
    @property
    def department(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def created_sort(self) -> str: ...


# A word matched in the name counts most, then brand, type, department, colour; a whole word
# counts double a prefix.
_NAME, _BRAND, _CATEGORY, _DEPARTMENT, _COLOUR = 16, 6, 4, 3, 1


def score(card: Searchable, terms: Sequence[Term]) -> int:
    fields = ((words(card.name), _NAME), (words(card.brand), _BRAND), (words(card.colour), _COLOUR))
    total = 0
    for term in terms:
        best = 0
        if ("category", card.category) in term.facets:
            best = _CATEGORY
        if ("department", card.department) in term.facets:
            best = max(best, _DEPARTMENT)
        for field_words, weight in fields:
            for word in field_words:
                if singular(word) in term.prefixes:
                    best = max(best, 2 * weight)
                elif word.startswith(term.prefixes):
                    best = max(best, weight)
        total += best
    return total


def rank(
    slots: Sequence[int], card_at: Callable[[int], Searchable], terms: Sequence[Term]
) -> tuple[list[int], list[str]]:
    """Slots (given newest first) best match first, newest first among equals, and their sort keys:
    "<score>#<created_sort>", descending like the newest order (cursors bisect them)."""
    keyed = [(f"{score(card, terms):04d}#{card.created_sort}", slot) for slot in slots for card in (card_at(slot),)]
    keyed.sort(reverse=True)
    return [slot for _, slot in keyed], [key for key, _ in keyed]
