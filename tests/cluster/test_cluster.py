"""Two Rasa replicas behind nginx on PostgreSQL and Redis: 50 conversations of 10 turns at once, their
turns spread over both replicas, one replica SIGKILLed half-way; every reply right for its turn, every
conversation complete and in order in the tracker store.

A client retries a request that failed with a connection error or a 502 (nginx's answer when the
replica that had the request died), with the same message_id: Rasa stores a turn only once it has
handled it, and a turn the dead replica had stored but not yet answered is answered from the tracker
store (channels/rest.py), so each message is handled once.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from sqlalchemy import text

from visafaq.cluster import Cluster
from visafaq.db.engine import make_engine

CONVERSATIONS = 50
REQUEST_TIMEOUT = 90.0  # a retried turn may wait for the killed replica's lock (15 s) behind others
RUN_TIMEOUT = 420.0
RETRIES = 3
FROZEN_SECONDS = 1.0  # rasa-2 hangs this long before it is killed, with turns sent to it meanwhile


@dataclass(frozen=True)
class Programme:
    asked_as: str
    months: str  # its processing-time fact
    documents: str  # a word of its documents fact
    source: str  # in the title of the source its answers cite


TITP = Programme("trainee visa", "1 to 3 months", "training plan", "Technical Intern Training")
GIJINKOKU = Programme("engineer visa", "4 to 6 months", "CV", "Gijinkoku")


@dataclass(frozen=True)
class Turn:
    message: str
    says: tuple[str, ...]
    not_says: tuple[str, ...] = ()


def script(conversation: int) -> list[Turn]:
    """Ten turns whose right replies can be checked: half the conversations start with one programme,
    half with the other, so a reply that used another conversation's memory would show."""
    first, second = (TITP, GIJINKOKU) if conversation % 2 == 0 else (GIJINKOKU, TITP)
    age = 16 + conversation % 2
    return [
        Turn("hello", ("not legal advice", "What would you like to know")),
        Turn(f"how long does the CoE take for the {first.asked_as}?", (first.months, first.source), (second.source,)),
        # Follow-ups that rely on the remembered programme.
        Turn("what documents do I need?", (first.documents, first.source), (second.source,)),
        Turn(f"and for the {second.asked_as}?", (second.documents, second.source), (first.source,)),
        Turn("how long does it take?", (second.months, second.source), (first.source,)),
        Turn("thanks", ("welcome",)),
        Turn(f"I'm {age}, can I join the trainee program?", (f"You are {age}", "minimum age is 18")),
        Turn("we have 150 full-time staff, how many trainees can we take?", ("1 x 10 = 10",)),
        Turn("what's the weather like in Osaka tomorrow?", ("only help with Japanese visas",)),
        Turn("bye", ("Goodbye",)),
    ]


@dataclass
class Answer:
    sender: str
    turn: int
    started: float
    status: int
    upstream: str  # the replica that answered (the last address in X-Upstream)
    replies: list[dict[str, object]]
    retried: int  # attempts that failed with a connection error or a 502 first


@dataclass
class Run:
    answers: list[Answer] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)  # every attempt's status, 0 = no response


async def converse(
    client: httpx.AsyncClient, sender: str, turns: list[Turn], run: Run, after_turn: Callable[[], None]
) -> None:
    for index, turn in enumerate(turns):
        retried = 0
        started = time.monotonic()
        # The same message id on every attempt: a turn the dead replica had already stored is then
        # answered from the tracker store instead of a second time.
        body = {"sender": sender, "message": turn.message, "message_id": secrets.token_hex(8)}
        while True:
            try:
                response = await client.post("/webhooks/rest/webhook", json=body)
            except httpx.TransportError:
                run.statuses[0] += 1
            else:
                run.statuses[response.status_code] += 1
                if response.status_code != 502:
                    break
            retried += 1
            assert retried <= RETRIES, f"{sender} turn {index}: still failing after {RETRIES} retries"
            await asyncio.sleep(0.5)
        upstream = response.headers.get("X-Upstream", "").split(",")[-1].strip()
        replies = response.json() if response.status_code == 200 else []
        run.answers.append(Answer(sender, index, started, response.status_code, upstream, replies, retried))
        after_turn()


async def load(cluster: Cluster, senders: list[str], after_turn: Callable[[], None] = lambda: None) -> Run:
    run = Run()
    limits = httpx.Limits(max_connections=len(senders), max_keepalive_connections=len(senders))
    async with httpx.AsyncClient(base_url=cluster.url, timeout=REQUEST_TIMEOUT, limits=limits) as client:
        conversations = [converse(client, s, script(i), run, after_turn) for i, s in enumerate(senders)]
        await asyncio.wait_for(asyncio.gather(*conversations), RUN_TIMEOUT)
    return run


def said(answer: Answer) -> str:
    return "\n".join(str(reply.get("text", "")) for reply in answer.replies)


def check_replies(run: Run, senders: list[str]) -> None:
    assert len(run.answers) == len(senders) * 10
    assert not [a for a in run.answers if a.status != 200], "every turn answered with 200 in the end"
    for answer in run.answers:
        turn = script(senders.index(answer.sender))[answer.turn]
        text_ = said(answer).lower()
        missing = [words for words in turn.says if words.lower() not in text_]
        wrong = [words for words in turn.not_says if words.lower() in text_]
        assert not missing and not wrong, (
            f"{answer.sender} turn {answer.turn} ({turn.message!r}): missing {missing}, should not say {wrong}:\n"
            f"{said(answer)}"
        )


def check_tracker(cluster: Cluster, senders: list[str]) -> None:
    """Per conversation: its user messages exactly once each, in the order sent, each followed by
    bot events (the replies) before the next one."""
    engine = make_engine(cluster.settings.tracker_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT sender_id, type_name, data FROM events WHERE sender_id = ANY(:senders) "
                    "AND type_name IN ('user', 'bot') ORDER BY id"
                ),
                {"senders": senders},
            ).all()
    finally:
        engine.dispose()
    events: dict[str, list[tuple[str, str]]] = {sender: [] for sender in senders}
    for sender, kind, data in rows:
        events[sender].append((kind, str(json.loads(data).get("text") or "")))
    for index, sender in enumerate(senders):
        sent = [turn.message for turn in script(index)]
        user_texts = [message for kind, message in events[sender] if kind == "user"]
        assert user_texts == sent, f"{sender}: the tracker store has {user_texts}"
        kinds = [kind for kind, _ in events[sender]]
        for at, kind in enumerate(kinds):
            if kind == "user":
                assert at + 1 < len(kinds) and kinds[at + 1] == "bot", f"{sender}: no reply after {events[sender][at]}"


def test_fifty_conversations_over_two_replicas_one_killed_in_the_middle(cluster: Cluster) -> None:
    """One run: half the turns with both replicas up, then rasa-2 SIGKILLed, the rest on rasa-1."""
    names = cluster.upstream_names()
    assert sorted(names.values()) == ["rasa-1", "rasa-2"]
    senders = [f"cluster-{secrets.token_hex(4)}-{i}" for i in range(CONVERSATIONS)]
    killed_at: list[float] = []
    crashes: list[asyncio.Task[None]] = []
    answered = 0

    async def hang_then_crash() -> None:
        # Frozen first, so that turns are surely on rasa-2 when it dies: a fast replica killed at an
        # arbitrary moment often has none in flight, and the retry path would go untested.
        cluster.replica("rasa-2").freeze_process("rasa")
        await asyncio.sleep(FROZEN_SECONDS)
        cluster.replica("rasa-2").kill_process("rasa")  # SIGKILL: no graceful shutdown
        killed_at.append(time.monotonic())

    def after_turn() -> None:
        nonlocal answered
        answered += 1
        if answered == CONVERSATIONS * 5 and not crashes:  # half the turns answered, half to go
            crashes.append(asyncio.get_running_loop().create_task(hang_then_crash()))

    async def load_and_crash() -> Run:
        run = await load(cluster, senders, after_turn)
        await asyncio.gather(*crashes)
        return run

    run = asyncio.run(load_and_crash())

    # Every turn answered right in the end, and exactly once in the tracker store: none lost, none twice.
    check_replies(run, senders)
    check_tracker(cluster, senders)
    # No 5xx but the 502s of the requests that were on the killed replica, which the clients retried.
    assert not [s for s in run.statuses if s >= 500 and s != 502], run.statuses
    assert killed_at, "the replica was killed during the run"
    before = [a for a in run.answers if a.started <= killed_at[0] and not a.retried]
    after = [a for a in run.answers if a.started > killed_at[0]]
    assert sum(a.retried for a in run.answers) >= 1, "some turns were on the killed replica when it died"
    assert after and {names.get(a.upstream) for a in after} == {"rasa-1"}, "the other replica carried on"

    # Before the kill, round-robin: both replicas, roughly evenly, and each conversation on both.
    by_replica = Counter(names.get(a.upstream, a.upstream) for a in before)
    assert set(by_replica) == {"rasa-1", "rasa-2"}, by_replica
    assert min(by_replica.values()) >= 0.35 * len(before), f"round-robin, roughly even: {by_replica}"
    # Over interleaved conversations a conversation's five turns before the kill land on rasa-1 only by
    # chance (about 1 in 32 each, and then it has no turn on rasa-2): allow a few of the 50.
    spread = {s: {names.get(a.upstream) for a in run.answers if a.sender == s} for s in senders}
    on_one = [s for s, replicas in spread.items() if len(replicas) < 2]
    assert len(on_one) <= 6, f"conversations answered by one replica only: {on_one}"
