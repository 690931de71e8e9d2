"""News-like synthetic articles for the `events` benchmark of bench/stories.py.

Many distinct events share a few common names (countries, leaders) and a middle tier (cities,
ministries, companies) in Zipf proportions, as a day's wire does; each event also has rare names
and topic words of its own, and is told by one to four sources in their own words.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

COMMON = """United States|China|Russia|Ukraine|Israel|Gaza|Iran|India|Japan|Germany|France|
Britain|European Union|United Nations|Donald Trump|Xi Jinping|Vladimir Putin|Volodymyr Zelenskiy|
Benjamin Netanyahu|Narendra Modi|Emmanuel Macron|Keir Starmer|Friedrich Merz|North Korea|
South Korea|Taiwan|Turkey|Brazil|Canada|Mexico|Pakistan|Saudi Arabia|Syria|Lebanon|Egypt|
Nigeria|Australia|Indonesia|Philippines|White House|Pentagon|Kremlin|NATO|Washington|Beijing|
Moscow|Kyiv|London|Paris|Tokyo""".replace("\n", "").split("|")
_SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ra",
    "ten",
    "vor",
    "das",
    "bel",
    "qui",
    "zan",
    "por",
    "fel",
    "gri",
    "mun",
    "sad",
    "tor",
    "ul",
    "ve",
    "rin",
    "ash",
]
_FIRST = [
    "Maria",
    "Jan",
    "Ahmed",
    "Li",
    "Olga",
    "Pedro",
    "Aiko",
    "Samuel",
    "Fatima",
    "Ivan",
    "Grace",
    "Omar",
    "Lucia",
    "Kenji",
]


@dataclass(frozen=True, slots=True)
class NewsItem:
    title: str
    lead: str
    event: int


def _pseudo(rng: random.Random, parts: int) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(parts))


def corpus(n: int, seed: int) -> list[NewsItem]:
    """`n` articles in arrival order; reports of one event arrive close together."""
    rng = random.Random(seed)
    vocab = sorted({_pseudo(rng, rng.randint(2, 4)) for _ in range(40_000)})
    rng.shuffle(vocab)
    cum = list(itertools.accumulate(1 / (i + 1) for i in range(len(vocab))))
    kinds = ("City", "Ministry", "Group", "Party")
    middle = sorted({f"{_pseudo(rng, 2).title()} {rng.choice(kinds)}" for _ in range(800)})
    rng.shuffle(middle)
    common_cum = list(itertools.accumulate(1 / (i + 1) ** 0.7 for i in range(len(COMMON))))
    middle_cum = list(itertools.accumulate(1 / (i + 1) for i in range(len(middle))))

    def words(k: int) -> list[str]:
        return rng.choices(vocab, cum_weights=cum, k=k)

    items: list[NewsItem] = []
    pending: list[NewsItem] = []
    event = 0
    while len(items) < n:
        if not pending or rng.random() < 0.5:
            event += 1
            names = set(rng.choices(COMMON, cum_weights=common_cum, k=rng.randint(2, 3)))
            names |= set(rng.choices(middle, cum_weights=middle_cum, k=rng.randint(1, 2)))
            names |= {
                f"{rng.choice(_FIRST)} {_pseudo(rng, 3).title()}" for _ in range(rng.randint(0, 2))
            }
            topic = words(10)
            for _ in range(min(4, 1 + int(rng.expovariate(1.2)))):
                told = rng.sample(sorted(names), len(names))
                title = " ".join([told[0], *rng.sample(topic, 4), "in", told[-1], *words(2)])
                lead = (
                    f"The {' '.join(words(3))} {told[0]} {' '.join(rng.sample(topic, 6))} "
                    f"{' '.join(words(8))} with {' and '.join(told[1:])}. "
                    f"The {' '.join(words(12))} {' '.join(rng.sample(topic, 4))} "
                    f"{' '.join(words(10))}."
                )
                pending.append(NewsItem(title, lead, event))
        items.append(pending.pop(rng.randrange(len(pending))))
    return items
