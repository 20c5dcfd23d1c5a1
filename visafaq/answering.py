"""Turning knowledge into replies people can read: a few plain sentences, the source and the date it
was checked, and two or three next questions as buttons.

No Rasa here: the actions hand over what they know (programme, topic, the question's words) and send
the Reply that comes back. Everything that decides what to say is tested without a server.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cached_property
from typing import Protocol

from visafaq.checklist_match import matching_items
from visafaq.eligibility.registry import CHECKS
from visafaq.eligibility.verdict import Outcome, Pending, Verdict
from visafaq.knowledge.documents import Programme, Source, SourceKind
from visafaq.knowledge.queries import FactAnswer, KnowledgeStore, search_terms
from visafaq.wording import format_day

#: How many facts make one answer: enough to be useful, few enough to read on a phone.
MAX_FACTS = 3
#: When the question's words match none of the topic's facts, the first ones staff wrote lead.
DEFAULT_FACTS = 2
MAX_BUTTONS = 3
#: Programmes offered first when asking "which programme?" (the order people most often need them).
PROGRAMME_ORDER = ("titp", "esd", "ssw", "gijinkoku", "internship", "general")
#: The programme that gathers notions shared by all the others (CoE, residence card, where to get help).
GENERAL = "general"
#: Topics offered when someone names a programme but no question.
STARTER_TOPICS = ("overview", "applicant_requirements", "documents", "duration")
#: An unnamed programme is guessed from the question's words only when its facts match this many times
#: better than the next programme's: a near tie asks instead of guessing.
CLEAR_LEAD = 1.5
#: Topics where a programme's coming end changes the answer for someone planning to apply.
PLANNING_TOPICS = frozenset({"overview", "applicant_requirements", "application_steps", "duration", "stages", "quota"})
#: Topics whose answers may quote the programme's document checklists.
CHECKLIST_TOPICS = frozenset({"documents"})
#: The topic whose questions name where a person is going as well as where they come from.
PATH_TOPIC = "path_to_ssw"
#: The programme such questions lead to.
PATH_DESTINATION = "ssw"
#: A question NLU was unsure of is answered from one of its closest topics only when one of that
#: topic's facts shares at least this many of the question's telling words: one shared word is too
#: often chance.
LIKELY_MIN_SHARED_WORDS = 2
#: A word tells facts apart for that guess only when fewer than this share of all facts have it
#: ("passport", "broker"; not "work", "japan" or "company").
TELLING_WORD_MAX_SHARE = 0.15


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


def intent_payload(intent: str, **entities: str) -> str:
    """A button payload that Rasa reads as that intent with those entities, skipping NLU."""
    return f"/{intent}{json.dumps(entities, ensure_ascii=False)}" if entities else f"/{intent}"


def shared_notions_give_way(programmes: list[str]) -> list[str]:
    """The programmes without the shared notions when another is among them: CoE and residence card
    come up in every programme's questions, so a programme beside them is the one meant."""
    return [p for p in programmes if p != GENERAL] if len(programmes) > 1 else programmes


def meant_programme(named: Sequence[str], topic: str | None = None) -> str | None:
    """Which of the programmes a message named (ids, in the order said) it is about.

    The shared notions (CoE, residence card) appear in every programme's questions, so another
    programme named beside them is the one meant ("papers for the trainee CoE"). A question on the
    path to Specified Skilled Worker is about where the person comes from ("with ikusei shuro, how
    long until tokutei ginou?"). Otherwise the last one named, as a follow-up names its programme last."""
    ids = shared_notions_give_way(list(dict.fromkeys(named)))
    if len(ids) > 1 and topic == PATH_TOPIC and PATH_DESTINATION in ids:
        ids.remove(PATH_DESTINATION)
    return ids[-1] if ids else None


@dataclass(frozen=True)
class Implied:
    """The programme an unnamed question's words point to, and whether the reply should name it."""

    programme: str
    said: bool


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: tuple[Button, ...] = ()
    sources: tuple[Source, ...] = ()
    facts: tuple[str, ...] = ()
    #: False when the assistant had nothing to say on the question (staff should see it).
    answered: bool = True
    programme: str | None = None
    topic: str | None = None
    extra: dict[str, object] = field(default_factory=dict)


def normalised(text: str) -> str:
    """Lowercase, full-width letters and digits folded to ASCII (NFKC), runs of spaces as one."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def cue_pattern(cue: str) -> str:
    """A cue as whole words; Japanese is written without spaces, so a cue in kana or kanji matches
    inside a longer word (技能実習 in 技能実習3号)."""
    if any(unicodedata.east_asian_width(char) in "WF" for char in cue):
        return re.escape(cue)
    return rf"(?<!\w){re.escape(cue)}(?!\w)"


class Citable(Protocol):
    """What a source line needs: a knowledge Source or an eligibility SourceRef."""

    @property
    def title(self) -> str: ...
    @property
    def publisher(self) -> str: ...
    @property
    def url(self) -> str | None: ...
    @property
    def checked(self) -> date: ...


def source_line(sources: Sequence[Citable], limit: int = 2) -> str:
    """'Source: title (publisher), checked 24 November 2026: https://...' for the first sources."""
    parts = []
    for source in sources[:limit]:
        where = f": {source.url}" if source.url else ""
        parts.append(f"{source.title} ({source.publisher}), checked {format_day(source.checked)}{where}")
    label = "Source" if len(parts) == 1 else "Sources"
    return f"{label}: " + "; ".join(parts) + "."


def _distinct_sources(facts: list[FactAnswer], more: Sequence[Source] = ()) -> tuple[Source, ...]:
    """The facts' sources, then `more`, current guidance before the seed guides, without repeats."""
    found: dict[str, Source] = {}
    for source in (*(source for fact in facts for source in fact.sources), *more):
        found.setdefault(source.id, source)
    return tuple(sorted(found.values(), key=lambda s: s.kind is SourceKind.SEED))


def topic_weights(facts: Sequence[FactAnswer], matches: Mapping[str, frozenset[str]]) -> dict[str, float]:
    """How well each of the topic's facts matches the question, counting only the words that tell
    the topic's facts apart: a word weighs log(n / facts with it) among the n facts, so a word every
    fact of the topic has ("company" among employer requirements) weighs nothing, and a word only one
    fact has weighs most. The store's own ranking weighs words by how rare they are in all topics."""
    ids = {fact.id for fact in facts}
    weights: dict[str, float] = dict.fromkeys(ids, 0.0)
    for found in matches.values():
        having = found & ids
        if having:
            weight = math.log(len(ids) / len(having))
            for fact_id in having:
                weights[fact_id] += weight
    return weights


def choose_facts(facts: list[FactAnswer], matches: Mapping[str, frozenset[str]] | None = None) -> list[FactAnswer]:
    """The facts that best match the question's telling words (the store's score breaks ties), then
    the first facts staff wrote, up to DEFAULT_FACTS: a broad question gets the topic's leading facts,
    a narrow one its match and the topic's lead. Without `matches`, the store's ranking alone."""
    if matches is None:
        matched = [fact for fact in facts if fact.score > 0]
        return matched[:MAX_FACTS] if matched else facts[:DEFAULT_FACTS]
    weights = topic_weights(facts, matches)
    matched = sorted((f for f in facts if weights[f.id] > 0), key=lambda f: (-weights[f.id], -f.score))
    chosen = matched[:MAX_FACTS]
    for fact in facts if len(chosen) < DEFAULT_FACTS else ():
        if len(chosen) >= DEFAULT_FACTS:
            break
        if fact not in chosen:
            chosen.append(fact)
    return chosen


class Answerer:
    """Composes replies from the knowledge store for one day (usually today)."""

    def __init__(self, store: KnowledgeStore) -> None:
        self.store = store

    @cached_property
    def _programme_words(self) -> frozenset[str]:
        """The words of every programme's names, but not the shared notions' (CoE, residence card):
        those tell facts apart."""
        words: set[str] = set()
        for programme in self.store.base.programmes.values():
            if programme.id == GENERAL:
                continue
            for name in (programme.name, programme.short_name, *programme.aliases):
                words.update(search_terms(name))
        return frozenset(words)

    def ranking_words(self, question: str, topic_id: str) -> str:
        """The words of the question that can tell the topic's facts apart: without programme names
        (the programme is already chosen) and the topic's own title words ("how many trainees").
        Otherwise "trainee visa" would rank facts by how often they name the programme. The shared
        notions' names (CoE, residence card, immigration) stay: they tell facts apart."""
        topic = self.store.base.topics.get(topic_id)
        generic = self._programme_words | set(search_terms(topic.title if topic else ""))
        return " ".join(word for word in search_terms(question) if word not in generic)

    def topic_title(self, topic_id: str) -> str:
        topic = self.store.base.topics.get(topic_id)
        return topic.title if topic else topic_id.replace("_", " ")

    def programme_name(self, programme_id: str) -> str:
        programme = self.store.programme(programme_id)
        return programme.short_name if programme else programme_id

    def programmes_with(self, topic_id: str, on: date) -> list[str]:
        """Programmes that have something to say on the topic on that day, in PROGRAMME_ORDER."""
        have = {fact.programme for fact in self.store.facts(None, topic_id, on)}
        return [p for p in PROGRAMME_ORDER if p in have]

    def implied_programme(self, topic_id: str, question: str, on: date) -> Implied | None:
        """The programme an unnamed question means, among those with facts on its topic (None: unclear)."""
        candidates = self.programmes_with(topic_id, on)
        programme_id = self.guess_programme(topic_id, question, on, candidates)
        if programme_id is None:
            return None
        # Shared notions (CoE, residence card) are not a programme to name in the reply.
        return Implied(programme_id, said=len(candidates) > 1 and programme_id != GENERAL)

    def guess_programme(self, topic_id: str, question: str, on: date, candidates: list[str]) -> str | None:
        """The programme a question means without naming it, or None when its words do not tell.

        The programme's cue words decide first ("No.2" is Technical Intern Training, "my university" a
        student's question); among several cued programmes, or none, the one whose facts on the topic
        match the question's words clearly best, or the shared notions when they are among the best."""
        if len(candidates) == 1:
            return candidates[0]
        cued = shared_notions_give_way(self.cued_programmes(question, candidates))
        if len(cued) == 1:
            return cued[0]
        pool = cued or candidates
        best: dict[str, float] = {}
        for fact in self.store.facts(None, topic_id, on, self.ranking_words(question, topic_id)):
            if fact.programme in pool and fact.score > 0:
                best[fact.programme] = max(best.get(fact.programme, 0.0), fact.score)
        ranked = sorted(best.items(), key=lambda item: -item[1])
        if ranked and (len(ranked) == 1 or ranked[0][1] >= CLEAR_LEAD * ranked[1][1]):
            return ranked[0][0]
        # A near tie that the shared notions are in: what holds for every programme answers it, where
        # asking "which programme?" would hold up a question whose answer does not depend on it.
        if ranked and best.get(GENERAL, 0.0) * CLEAR_LEAD >= ranked[0][1]:
            return GENERAL
        return None

    def sharpened_programme(self, programme_id: str, topic_id: str | None, question: str) -> str:
        """The named programme, unless the question's cue words point to a more specific one: a
        programme rather than the shared notions ("papers for my CoE as a trainee"), or, on the path to
        Specified Skilled Worker, where the person comes from ("after 2go can i go to tokutei ginou")."""
        vaguer = {GENERAL} | ({PATH_DESTINATION} if topic_id == PATH_TOPIC else set())
        if programme_id not in vaguer:
            return programme_id
        return self.named_programme(question, excluding=vaguer) or programme_id

    def cued_programmes(self, question: str, candidates: list[str]) -> list[str]:
        """The candidates whose cue words or names the question uses, as whole words. A match inside a
        longer one of another programme does not count: "intern" in "technical intern" is not a
        student internship."""
        words = normalised(question)
        spans: list[tuple[int, int, str]] = []
        for programme_id in candidates:
            programme = self.store.programme(programme_id)
            if programme is None:
                continue
            for cue in {*programme.cues, *programme.aliases, programme.short_name}:
                for match in re.finditer(cue_pattern(normalised(cue)), words):
                    spans.append((match.start(), match.end(), programme_id))
        kept = {
            programme_id
            for start, end, programme_id in spans
            if not any(s <= start and end <= e and (e - s) > (end - start) and p != programme_id for s, e, p in spans)
        }
        return [p for p in candidates if p in kept]

    def answer(
        self, programme_id: str | None, topic_id: str, question: str, on: date, implied: Implied | None = None
    ) -> Reply:
        """Answer a topic question. When the programme is not known, answer for the one the question's
        words point to (saying which; `implied` when the caller has already worked it out); ask with
        buttons when they point to none."""
        guessed = False
        if programme_id is None:
            implied = implied or self.implied_programme(topic_id, question, on)
            if implied is None:
                return self.ask_programme(topic_id, on)
            programme_id, guessed = implied.programme, implied.said
        wording = self.ranking_words(question, topic_id)
        facts = self.topic_facts(programme_id, topic_id, on, wording)
        if not facts:
            return self.nothing_on(programme_id, topic_id, on)
        chosen = choose_facts(self._in_staff_order(facts, on), self.store.term_matches(wording))
        lines = [" ".join(fact.text for fact in chosen)]
        if guessed:
            lines[0] = f"For the {self.programme_name(programme_id)}: {lines[0]}"
        listed = (
            matching_items(self.store.checklists(programme_id, on), wording) if topic_id in CHECKLIST_TOPICS else None
        )
        if listed:
            lines.append(f"{listed.checklist.title}: " + "; ".join(listed.items) + ".")
        if self._has_superseded(programme_id, topic_id, on):
            lines.append("Older guides may show different figures: this is the current rule.")
        ended = self._ended_note(programme_id, on) if topic_id in PLANNING_TOPICS else None
        if ended:
            lines.append(ended)
        listed_sources = [self.store.base.sources[s] for s in listed.checklist.sources] if listed else []
        sources = _distinct_sources(chosen, listed_sources)
        lines.append(source_line(sources))
        return Reply(
            text="\n\n".join(lines),
            buttons=self.follow_ups(programme_id, topic_id, on),
            sources=sources,
            facts=tuple(fact.id for fact in chosen),
            programme=programme_id,
            topic=topic_id,
        )

    def likely_answer(self, question: str, topics: Sequence[str], programme_id: str | None, on: date) -> Reply | None:
        """For a question NLU was unsure of: the answer on whichever of its closest `topics` has the
        fact sharing the most of the question's telling words (at least LIKELY_MIN_SHARED_WORDS; the
        closer topic wins a tie), offered as a guess. None when no fact matches that well, or when
        the programme is neither known nor named by the question's words: a guess needs both signals,
        NLU's closest topics and the facts' own words, to agree."""
        programme_id = programme_id or self.named_programme(question)
        if programme_id is None:
            return None
        shared = self.shared_words(question, topics, programme_id, on)
        best_topic = max(topics, key=lambda topic: shared[topic], default=None)  # first of the best
        if best_topic is None or shared[best_topic] < LIKELY_MIN_SHARED_WORDS:
            return None
        reply = self.answer(programme_id, best_topic, question, on)
        if not reply.answered:
            return None
        # The fallback offers the other close topics instead of this topic's follow-ups.
        return self.as_guess(replace(reply, buttons=()), best_topic, reply.programme or programme_id)

    def named_programme(self, question: str, excluding: Set[str] = frozenset()) -> str | None:
        """The one programme the question's words name or cue, leaving out `excluding`, the shared
        notions giving way to a programme; None when they name none or several."""
        cued = [p for p in self.cued_programmes(question, list(PROGRAMME_ORDER)) if p not in excluding]
        cued = shared_notions_give_way(cued)
        return cued[0] if len(cued) == 1 else None

    def shared_words(self, question: str, topics: Sequence[str], programme_id: str, on: date) -> dict[str, int]:
        """For each topic, how many of the question's telling words its best-matching fact for the
        programme (or the shared facts, where the programme has none on it) contains. Telling: not a
        programme's name, and in fewer than TELLING_WORD_MAX_SHARE of all facts."""
        words = " ".join(word for word in search_terms(question) if word not in self._programme_words)
        most = TELLING_WORD_MAX_SHARE * len(self.store.base.facts)
        matches = [found for found in self.store.term_matches(words).values() if len(found) < most]
        shared: dict[str, int] = {}
        for topic_id in topics:
            facts = self.topic_facts(programme_id, topic_id, on)
            shared[topic_id] = max((sum(fact.id in found for found in matches) for fact in facts), default=0)
        return shared

    def as_guess(self, reply: Reply, topic_id: str, programme_id: str) -> Reply:
        """A reply to a question NLU was unsure of, saying so and what it took the question to be about."""
        about = self.topic_title(topic_id).lower()
        if programme_id != GENERAL:  # shared notions are not a programme to name
            about += f", {self.programme_name(programme_id)}"
        return replace(reply, text=f"I'm not sure I understood, but this may answer it ({about}):\n\n{reply.text}")

    def topic_facts(self, programme_id: str, topic_id: str, on: date, wording: str = "") -> list[FactAnswer]:
        """The programme's facts on the topic, best match for `wording` first; a programme with nothing
        of its own on the topic has the shared facts."""
        facts = self.store.facts(programme_id, topic_id, on, wording)
        if not facts and programme_id != GENERAL:
            facts = self.store.facts(GENERAL, topic_id, on, wording)
        return facts

    def _in_staff_order(self, facts: list[FactAnswer], on: date) -> list[FactAnswer]:
        """The facts in the order staff wrote them (the store returns best match first)."""
        if not facts:
            return facts
        order = {fact.id: n for n, fact in enumerate(self.store.facts(facts[0].programme, facts[0].topic, on))}
        return sorted(facts, key=lambda fact: order.get(fact.id, len(order)))

    def follow_ups(self, programme_id: str, topic_id: str, on: date) -> tuple[Button, ...]:
        topic = self.store.base.topics.get(topic_id)
        buttons = []
        for follow_up in topic.follow_ups if topic else []:
            if self.store.facts(programme_id, follow_up, on, limit=1):
                buttons.append(
                    Button(
                        self.topic_title(follow_up),
                        intent_payload(f"ask_{follow_up}", programme=programme_id),
                    )
                )
        return tuple(buttons[:MAX_BUTTONS])

    def ask_programme(self, topic_id: str, on: date, candidates: list[str] | None = None) -> Reply:
        candidates = candidates if candidates is not None else self.programmes_with(topic_id, on)
        if not candidates:
            return self.nothing_on(None, topic_id, on)
        buttons = tuple(Button(self.programme_name(p), intent_payload("inform", programme=p)) for p in candidates)
        return Reply(
            text=f"Which visa or programme is your question about ({self.topic_title(topic_id).lower()})?",
            buttons=buttons,
            topic=topic_id,
        )

    def ask_topic(self, programme_id: str, on: date) -> Reply:
        programme = self.store.programme(programme_id)
        name = programme.name if programme else programme_id
        buttons = tuple(
            Button(self.topic_title(t), intent_payload(f"ask_{t}", programme=programme_id))
            for t in STARTER_TOPICS
            if self.store.facts(programme_id, t, on, limit=1)
        )
        return Reply(
            text=f"What would you like to know about the {name}?",
            buttons=buttons,
            programme=programme_id,
        )

    def nothing_on(self, programme_id: str | None, topic_id: str, on: date) -> Reply:
        """Say plainly that the store has nothing, offer what it has and a person."""
        subject = self.topic_title(topic_id).lower()
        if programme_id:
            text = f"I don't have information about {subject} for the {self.programme_name(programme_id)} yet."
        else:
            text = f"I don't have information about {subject} yet."
        buttons = [Button("Talk to staff", intent_payload("request_human"))]
        if programme_id:
            buttons.insert(
                0,
                Button(
                    self.topic_title("overview"),
                    intent_payload("ask_overview", programme=programme_id),
                ),
            )
        return Reply(
            text=text + " A member of staff can help.",
            buttons=tuple(buttons),
            answered=False,
            programme=programme_id,
            topic=topic_id,
        )

    def _has_superseded(self, programme_id: str, topic_id: str, on: date) -> bool:
        everything = self.store.facts(programme_id, topic_id, on, include_superseded=True)
        return any(fact.superseded_by for fact in everything)

    def _ended_note(self, programme_id: str, on: date) -> str | None:
        programme: Programme | None = self.store.programme(programme_id)
        if programme is None or programme.ends is None:
            return None
        successor = self.store.programme(programme.successor) if programme.successor else None
        then = successor.name if successor else "a new system"
        if on > programme.ends:
            return (
                f"The {programme.short_name} programme took no new entrants after "
                f"{format_day(programme.ends)}; new entrants go through {then}."
            )
        return (
            (f"Note: the {programme.short_name} programme ends on {format_day(programme.ends)} and {then} replaces it.")
            if (programme.ends - on).days <= 366
            else None
        )


#: How many of a verdict's reasons to show: the failed ones come first.
MAX_REASONS = 4
#: How many rules still waiting for inputs to state in a reply (the rest are asked for one by one).
MAX_PENDING = 2


def verdict_reply(verdict: Verdict, *, programme: str | None = None, topic: str | None = None) -> Reply:
    """A verdict as a reply: the outcome in a word, the reasons that decided it, what is still
    needed (with a button to go on), and the sources of the rules used."""
    reasons = sorted(verdict.reasons, key=lambda r: r.passed)[:MAX_REASONS]
    headline = {
        Outcome.YES: "Yes.",
        Outcome.NO: "No.",
        Outcome.UNKNOWN: "I can't tell yet." if verdict.missing else "It depends.",
    }[verdict.outcome]
    if verdict.value is not None and verdict.outcome is Outcome.YES:
        headline = ""
    lines = [" ".join(part for part in [headline, *(r.detail for r in reasons)] if part)]
    buttons: list[Button] = []
    pending: list[Pending] = []
    if verdict.missing and verdict.outcome is Outcome.UNKNOWN:
        # The rules still open, those the person's own figures speak to first, with their numbers.
        pending = sorted(verdict.pending, key=lambda p: not p.partly_known)[:MAX_PENDING]
        if pending:
            lines.append("The rules still to check: " + " ".join(p.text for p in pending))
        lines.append(f"To check the rest, tell me: {wanted_inputs(verdict)}")
        entities = {"programme": programme} if programme else {}
        buttons.append(Button("Check the rest", intent_payload("check_eligibility", **entities)))
    lines.append("This is general information, not a legal decision.")
    cited = [*(s for r in reasons for s in r.sources), *(s for p in pending for s in p.sources)]
    sources = tuple({s.id: s for s in cited}.values())
    if sources:
        lines.append(source_line(sources))
    return Reply(
        text="\n\n".join(lines),
        buttons=tuple(buttons),
        programme=programme,
        topic=topic,
        extra={"check": verdict.check, "outcome": verdict.outcome.value, "value": verdict.value},
    )


def describe_input(check: str, name: str) -> str:
    """A missing input as the question the form asks ("Is the internship paid?"); an input without
    one as its words ('full_time_staff' -> 'full time staff?')."""
    known = CHECKS.get(check)
    field_info = known.inputs.model_fields.get(name) if known else None
    if field_info is not None and field_info.description:
        return field_info.description
    return name.replace("_", " ") + "?"


def wanted_inputs(verdict: Verdict) -> str:
    """The first few inputs a verdict still needs, as questions."""
    return " ".join(describe_input(verdict.check, name) for name in verdict.missing[:3])


def decided_nothing(verdict: Verdict) -> bool:
    """True when the figures a question gave decided no rule yet and no open rule speaks to them: a
    verdict would only say "I can't tell yet", so the facts answer the question and the check is
    offered beside them."""
    return (
        verdict.outcome is Outcome.UNKNOWN
        and bool(verdict.missing)
        and not verdict.reasons
        and not any(p.partly_known for p in verdict.pending)
    )


def with_check_offer(reply: Reply, verdict: Verdict, programme: str | None) -> Reply:
    """A facts answer, then what the check still needs to decide the person's own case, with a
    button to start it. The sources stay the last line."""
    paragraphs = reply.text.split("\n\n")
    at = len(paragraphs) - 1 if paragraphs[-1].startswith("Source") else len(paragraphs)
    paragraphs.insert(at, f"To check your own case, tell me: {wanted_inputs(verdict)}")
    entities = {"programme": programme} if programme else {}
    offer = Button("Check my case", intent_payload("check_eligibility", **entities))
    return replace(reply, text="\n\n".join(paragraphs), buttons=(offer, *reply.buttons))
