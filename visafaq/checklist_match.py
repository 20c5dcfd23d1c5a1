"""The items of a programme's document checklists that a question asks about.

A documents answer is made of facts, which say how the papers work ("the company prepares its own
papers"); the checklists (knowledge/checklists.yml) say which papers. A question about one paper ("do
I need a photo?", "which financial papers does the host company give?") is answered by the items that
share its telling words, with the checklist's title saying who provides them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from visafaq.knowledge.documents import Checklist
from visafaq.knowledge.queries import search_terms

#: At most this many items are quoted: the answer stays short, the facts still lead.
MAX_ITEMS = 3
#: Items are quoted only when they match this well relative to the best item: near ties, not the tail.
NEAR_BEST = 0.75
#: Words of a checklist's title ("What the host company provides") count this much of an item's own
#: words: they say who provides an item, not what it is.
TITLE_WEIGHT = 0.5
#: Words that every checklist item is about: matching them tells no item apart.
_GENERIC = frozenset({"paper", "document", "provide", "copy", "other", "need", "submit", "send", "give", "hand"})


def stem(word: str) -> str:
    """A light stem for matching short item texts: plurals and possessives folded ("photos", "papers")."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _words(text: str) -> set[str]:
    return {stem(word) for word in search_terms(text)} - _GENERIC


@dataclass(frozen=True)
class ItemMatch:
    checklist: Checklist
    items: tuple[str, ...]
    score: float


def matching_items(checklists: Sequence[Checklist], question: str) -> ItemMatch | None:
    """The checklist whose items best match the question's words, with its matched items (best
    first), or None when no item shares a telling word with the question (its checklist's title
    words do not count). A word weighs log(n / items with it) over all the items, so "certificate",
    on many items, weighs less than "photo", on one."""
    wanted = _words(question)
    if not wanted or not checklists:
        return None
    entries = [(checklist, item, _words(item)) for checklist in checklists for item in checklist.items]
    having: dict[str, int] = {}
    for _, _, words in entries:
        for word in words:
            having[word] = having.get(word, 0) + 1

    def weight_on(items: int) -> float:
        return math.log((len(entries) + 1) / items)

    def weight(word: str) -> float:
        return weight_on(having.get(word, 1))

    best: ItemMatch | None = None
    for checklist in checklists:
        title = _words(checklist.title)
        title_bonus = TITLE_WEIGHT * sum(weight(word) for word in wanted & title)
        # An item matches on what it is, not on who provides it: "the company's registration" is not
        # the answer to "what does my company prepare?".
        scored = [
            (sum(weight(word) for word in (wanted & words) - title), item)
            for owner, item, words in entries
            if owner is checklist
        ]
        matched = sorted(((score, item) for score, item in scored if score > 0), key=lambda pair: -pair[0])
        # A word on more than MAX_ITEMS items ("certificate") is too common to pick items by alone.
        if not matched or matched[0][0] < weight_on(MAX_ITEMS):
            continue
        top = matched[0][0]
        score = top + title_bonus
        if best is None or score > best.score:
            near = tuple(item for item_score, item in matched if item_score >= NEAR_BEST * top)
            best = ItemMatch(checklist, near[:MAX_ITEMS], score)
    return best
