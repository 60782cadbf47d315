"""Near misses for training: our verbs (forecast, route, draft, recommend, stock, alert)
about things that are not our supply chain, with the openers and sign-offs of the grammar.
The honest reply is the refusal, not a tool call. Training only: a near miss whose shape is a
held-out off-topic prompt is dropped."""

from __future__ import annotations

import random

from assistant.protocol import Turn
from finetune.entities import CITIES
from finetune.examples import Example, add_typos
from finetune.grammar import CLOSERS, OPENERS, shape
from finetune.templates import IRRELEVANT, REFUSAL, split_of

# Near misses: our verbs (forecast, route, draft, recommend, stock, alert) about things that
# are not our supply chain. The honest reply is the refusal, not a tool call.
NEAR_MISS = [
    (
        "forecast {x}",
        [
            "the weather in {city}",
            "the election",
            "bitcoin",
            "tonight's match",
            "my salary",
            "the lottery",
            "house prices",
            "the oscars",
        ],
    ),
    (
        "draft an email to {x}",
        [
            "my boss about a day off",
            "my sister",
            "the school",
            "my landlord",
            "a recruiter",
            "the gym about my membership",
            "my neighbour",
        ],
    ),
    (
        "write {x}",
        [
            "a birthday card",
            "a wedding speech",
            "a song about {city}",
            "my essay",
            "a dating profile",
            "a toast for friday",
        ],
    ),
    (
        "plan {x}",
        [
            "a trip to {city}",
            "my weekend",
            "a party",
            "my wedding",
            "a road trip",
            "dinner",
            "a hike near {city}",
        ],
    ),
    (
        "route {x}",
        [
            "me home",
            "me to {city} avoiding tolls",
            "my bike ride",
            "to the airport",
            "a running loop",
        ],
    ),
    (
        "recommend {x}",
        [
            "a restaurant in {city}",
            "a laptop",
            "a tv series",
            "a holiday destination",
            "a wine",
            "a gift for my dad",
            "a hairdresser",
        ],
    ),
    (
        "what's the stock {x}",
        ["price of apple", "market doing today", "of the ecb", "tip of the day"],
    ),
    (
        "any {x}",
        ["news from {city}", "good jokes", "plans for tonight", "gossip", "concerts in {city}"],
    ),
    (
        "explain {x}",
        [
            "relativity",
            "the rules of chess",
            "how vaccines work",
            "crypto",
            "the french revolution",
        ],
    ),
    (
        "how {x}",
        [
            "do I bake bread",
            "is the weather in {city}",
            "old is the queen",
            "do magnets work",
            "do I get to {city}",
        ],
    ),
    (
        "who {x}",
        ["is the ceo of apple", "won the world cup", "painted the mona lisa", "runs {city}"],
    ),
    # The new tools' words about other things (a what-if, a count, a briefing, something to
    # buy or order, a ranking): stage 14 learnt those tools and then called them for off-topic
    # requests that shared only a frame with them.
    (
        "what if {x}",
        [
            "the moon disappeared",
            "I quit my job",
            "it snows in {city} all week",
            "dinosaurs were still alive",
            "I moved to {city}",
            "humans could fly",
        ],
    ),
    (
        "how many {x}",
        [
            "people live in {city}",
            "legs does a spider have",
            "days until my holiday",
            "goals did ronaldo score",
            "languages are spoken in india",
            "bones are in the body",
        ],
    ),
    (
        "brief me on {x}",
        [
            "today's headlines",
            "the history of {city}",
            "the latest phones",
            "the premier league table",
            "the royal family",
        ],
    ),
    (
        "what should I {x}",
        [
            "cook tonight",
            "wear to the party",
            "buy my mum for her birthday",
            "order for lunch",
            "watch on netflix",
            "study at university",
        ],
    ),
    (
        "top {x}",
        [
            "10 films of all time",
            "5 beaches in europe",
            "3 songs this week",
            "10 things to do in {city}",
            "5 board games",
        ],
    ),
    # Off-topic noun phrases after the grammar's openers alone ("can u do ", "pls ", "quick q: "):
    # those openers were only ever followed by our own requests ("can u do supplier ranking"),
    # so an opener by itself had come to mean "call a tool".
    (
        "{opener}{x}",
        [
            "my homework",
            "a birthday card for my mum",
            "my cv",
            "the dishes",
            "my car insurance renewal",
            "a logo for my band",
            "my wedding playlist",
            "a crossword",
            "my visa application",
            "a speech for my brother",
            "my holiday photos",
            "the school run",
        ],
    ),
    # Personal errands and money: someone's own life, not our stock or suppliers.
    (
        "can you {x}",
        [
            "sort out my car insurance",
            "fill in my visa form",
            "pay my phone bill",
            "renew my passport",
            "cancel my gym membership",
            "fix my laptop",
            "find me a flat in {city}",
            "file my holiday request",
        ],
    ),
    (
        "is {x} a good investment",
        ["gold", "a flat in {city}", "ethereum", "my pension fund", "art", "a vintage watch"],
    ),
    (
        "{x}",
        [
            "thanks",
            "ok",
            "hello",
            "good morning",
            "lol",
            "asdfgh",
            "?",
            "test",
            "bye",
            "you're useless",
        ],
    ),
]


def near_miss_refusals(rng: random.Random, count: int) -> list:
    held_out = {shape(t) for i, t in enumerate(IRRELEVANT) if split_of(i) == "test"}
    examples, seen = [], set()
    for _ in range(count * 10):
        if len(examples) == count:
            break
        index = rng.randrange(len(NEAR_MISS))
        frame, fills = NEAR_MISS[index]
        if "{opener}" in frame:  # always after an opener: that pairing is what it teaches
            opener = rng.choice([o for o in OPENERS if o])
            text = frame.format(opener=opener, x=rng.choice(fills)) + rng.choice(CLOSERS)
        else:
            text = frame.format(x=rng.choice(fills)).replace("{city}", rng.choice(CITIES))
            text = rng.choice(OPENERS) + text + rng.choice(CLOSERS)
        if rng.random() < 0.3:
            text = add_typos(text, rng)
        if shape(text) in held_out or text in seen:
            continue
        seen.add(text)
        examples.append(
            Example(
                [Turn("user", text)],
                Turn("assistant", REFUSAL),
                "refusal",
                f"irrelevant/c{index}",
                "train",
            )
        )
    return examples
