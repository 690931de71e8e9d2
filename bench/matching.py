"""Matching benchmark (run by hand): the indexed matcher against naive evaluation, same run.

    .venv/bin/python bench/matching.py [--rules 1000,10000,100000] [--articles 2000]

For each R it builds R realistic rules (entity phrases with context OR-lists, prefix wildcards,
NEAR, NOT, term lists, field scopes, a few rules with no term to prefilter on) and a corpus of
news-like articles (title, summary, full text) that mention some of the entities, then prints:
compile time (parse + index), articles/s and µs per article (p50/p99, document analysis
included), the share of rules verified per article, peak memory, and the speed-up over naive
evaluation of every rule, asserting that both return identical matches. On a shared machine
wall-clock figures suffer from other load, so compile time, articles/s, the per-article
p50/p99 and the speed-up are also given in this process's CPU time. Naive evaluation is
run on a sample of the articles when R is large (the sample size is printed). Each R runs in
its own process, so peak memory is that R's alone.
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.core.model import Article  # noqa: E402
from monitor.core.query import NaiveMatcher, build_matcher  # noqa: E402


def _words(text: str) -> list[str]:
    return text.split()


SYLLABLES = _words(
    "ka ki ko ma mi mo na ni no ra ri ro sa si so ta ti to ha hi ho ba bi bo da di do ga gi go "
    "ja ji jo pa pi po la li lo va vi vo ze zu wan won jun min seo hyun yeon dong"
)
COMMON = _words(
    "the of and to in a is that for on was with he it as his at by be this from have or had not "
    "are but which they you were her she there been one all we their has would when who will "
    "more if no out so said what up its about into than them can only other new some could "
    "time these two may then do first any my now such like our over man me even most made "
    "after also did many before must through back years where much your way well down should "
    "because each just those people how too little state good very make world still own see "
    "men work long get here between both life being under never day same another know while "
    "last might us great old year off come since against go came right used take three "
    "officials government minister ministry talks week report police city market company "
    "country president party leader security economy court election agency region industry"
)
CONTEXT = _words(
    "trade deal deals tariff tariffs export exports sanction sanctions embargo missile "
    "missiles launch launched test tested summit merger acquisition lawsuit strike protest "
    "earthquake flood outage recall"
)
CONTEXT_GROUPS = [
    "(trade OR deal* OR tariff* OR export*)",
    "(sanction* OR embargo)",
    "(missile* OR launch* OR test*)",
    "(merger OR acquisition OR lawsuit)",
    "(strike OR protest)",
    "(earthquake OR flood OR outage OR recall)",
]


def _name(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()


def entities(count: int, rng: random.Random) -> list[str]:
    """Distinct two-word entity names ("Kimin Sodong"), the subjects of the rules."""
    found: dict[str, None] = {}
    while len(found) < count:
        found[f"{_name(rng)} {_name(rng)}"] = None
    return list(found)


def rules(
    count: int, names: list[str], rng: random.Random
) -> tuple[list[str], dict[str, list[str]]]:
    """`count` queries over the entity names, and the term lists they use."""
    terms: dict[str, list[str]] = {}
    queries: list[str] = []
    for i in range(count):
        entity = names[i]
        context = rng.choice(CONTEXT_GROUPS)
        kind = i % 8
        if kind == 0:
            queries.append(f'"{entity}" AND {context}')
        elif kind == 1:
            queries.append(f'"{entity}" NEAR/5 {context}')
        elif kind == 2:
            name = f"l{i}"
            first, last = entity.split()
            terms[name] = [entity, f"{first[0]}. {last}", f"{last} Group"]
            queries.append(f"@{name} {context}")
        elif kind == 3:
            queries.append(f'"{entity}" -sports -"opinion column"')
        elif kind == 4:
            first, last = entity.split()
            queries.append(f'{first[:4]}* "{last}" {context}')
        elif kind == 5:
            queries.append(f'title:"{entity}" OR summary:("{entity}" {context})')
        elif kind == 6:
            queries.append(f'"{entity} {rng.choice(CONTEXT)}"~2')
        else:
            queries.append(f'ATLEAST/2 "{entity}"')
    # Rules no term can prefilter: evaluated for every article, whatever R is.
    queries += ["NOT sports", r"/\bopec\+/", "-(weather OR horoscope)"]
    return queries, terms


def sentence(words: int, names: list[str], rng: random.Random, mention: float) -> str:
    out: list[str] = []
    while len(out) < words:
        roll = rng.random()
        if roll < mention:
            out += rng.choice(names).split()
        elif roll < mention + 0.05:
            out.append(rng.choice(CONTEXT))
        else:
            out.append(rng.choice(COMMON))
    return " ".join(out).capitalize() + "."


def articles(count: int, names: list[str], rng: random.Random) -> list[Article]:
    """News-like articles; a title names an entity often, the text now and then."""
    return [
        Article(
            source=rng.choice(["yonhap-en", "bbc-world", "scmp-china"]),
            key=str(i),
            url=f"https://news.example/{i}",
            title=sentence(10, names, rng, 0.08),
            summary=sentence(35, names, rng, 0.02),
            content=sentence(140, names, rng, 0.01),
            lang="en",
        )
        for i in range(count)
    ]


def run(rule_count: int, article_count: int, seed: int) -> None:
    rng = random.Random(seed)
    names = entities(rule_count, rng)
    queries, terms = rules(rule_count, names, rng)
    corpus = articles(article_count, names, rng)

    gc.collect()
    start, cpu = time.perf_counter(), time.process_time()
    matcher = build_matcher(((f"r{i}", q) for i, q in enumerate(queries)), terms)
    compile_s, compile_cpu = time.perf_counter() - start, time.process_time() - cpu
    compiled = matcher.watches

    timings: list[float] = []
    cpu_timings: list[float] = []
    results = []
    start, cpu = time.perf_counter(), time.process_time()
    for article in corpus:
        t0, c0 = time.perf_counter_ns(), time.process_time_ns()
        results.append(matcher.match(article))
        cpu_timings.append((time.process_time_ns() - c0) / 1000)
        timings.append((time.perf_counter_ns() - t0) / 1000)
    indexed_s, indexed_cpu = time.perf_counter() - start, time.process_time() - cpu

    verified = [len(matcher.scan(matcher.document(a))[1]) for a in corpus]
    matched = sum(len(r) for r in results)

    naive = NaiveMatcher(compiled)
    sample = max(10, min(article_count, 2_000_000 // len(compiled)))
    start, cpu = time.perf_counter(), time.process_time()
    for article, expected in zip(corpus[:sample], results, strict=False):
        assert naive.match(article) == expected, article.key
    naive_s = (time.perf_counter() - start) / sample
    naive_cpu = (time.process_time() - cpu) / sample

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    p99 = statistics.quantiles(timings, n=100)[98]
    cpu_p99 = statistics.quantiles(cpu_timings, n=100)[98]
    print(
        f"R={len(compiled):>7,}  compile {compile_s:.2f} s (cpu {compile_cpu:.2f} s)  "
        f"{article_count / indexed_s:,.0f} articles/s (cpu: {article_count / indexed_cpu:,.0f})  "
        f"p50 {statistics.median(timings):7.0f} µs  p99 {p99:7.0f} µs "
        f"(cpu: {statistics.median(cpu_timings):.0f} / {cpu_p99:.0f} µs)  "
        f"verified {statistics.mean(verified) / len(compiled):.3%} of rules "
        f"({statistics.mean(verified):.1f}/article)  "
        f"matches {matched / article_count:.2f}/article  peak RSS {peak_mb:,.0f} MB  "
        f"naive {naive_s * 1e6:,.0f} µs/article (on {sample} articles, identical)  "
        f"speed-up {naive_s * article_count / indexed_s:,.0f}x "
        f"(cpu: {naive_cpu * article_count / indexed_cpu:,.0f}x)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", default="1000,10000,100000")
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = [int(r) for r in args.rules.split(",")]
    if args.one:
        run(sizes[0], args.articles, args.seed)
        return
    for size in sizes:
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--one",
                "--rules",
                str(size),
                "--articles",
                str(args.articles),
                "--seed",
                str(args.seed),
            ],
            check=True,
        )


if __name__ == "__main__":
    main()
