"""Story placement: syndicated copies, independent reports, near misses, CJK, arrival order."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.core.model import Article, StorySettings
from monitor.core.stories import StoryItem, events
from monitor.core.stories.index import MAX_SCORED, StoryIndex
from monitor.core.stories.minhash import LSHIndex, MinHasher, shingle_hashes, similarity
from monitor.core.text import tokens

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
WIRE = (
    "South Korea and China signed a trade agreement in Beijing on Monday that cuts tariffs on "
    "semiconductors and electric-vehicle batteries, officials in Seoul said, after President "
    "Lee Jae-myung met Xi Jinping for two hours."
)


def _article(title: str, lead: str, source: str = "s") -> Article:
    return Article(source=source, key=title, url=None, title=title, summary=lead)


def _stories(index: StoryIndex, batch: list[tuple[Article, datetime]]) -> list[int]:
    """Place each article in turn as if stored with ids 1, 2, ...; the story id of each."""
    out: list[int] = []
    for article, when in batch:
        [p] = index.place([(article, when)])
        article_id = index.last_id + 1
        story = p.story if p.story is not None else article_id
        index.load(
            [
                StoryItem(
                    article_id=article_id,
                    story_id=story,
                    source=article.source,
                    when=when,
                    title=article.title,
                    lead=article.summary,
                    signature=p.signature,
                )
            ]
        )
        out.append(story)
    return out


def _index(mode: str = "events") -> StoryIndex:
    return StoryIndex(StorySettings(mode=mode, window=timedelta(hours=72)))


def test_syndicated_copies_with_new_titles_are_one_story() -> None:
    """The same wire body under three different titles from three outlets is one story."""
    copies = [
        (_article("South Korea, China sign trade deal", WIRE, "a"), T0),
        (_article("Seoul and Beijing seal tariff pact", WIRE, "b"), T0 + timedelta(minutes=20)),
        (_article("Chips win in Korea-China accord", WIRE, "c"), T0 + timedelta(hours=1)),
    ]
    assert len(set(_stories(_index("copies"), copies))) == 1


def test_lightly_edited_copies_stay_together() -> None:
    """A copy with a few words changed is still a copy."""
    edited = WIRE.replace("Monday", "Tuesday").replace("two hours", "three hours")
    pair = [(_article("Trade deal", WIRE, "a"), T0), (_article("Trade deal", edited, "b"), T0)]
    assert len(set(_stories(_index("copies"), pair))) == 1


def test_stories_that_share_only_a_dateline_and_boilerplate_are_apart() -> None:
    """Two different wire stories with the same dateline and footer are two stories."""
    boiler = "SEOUL, Dec 1 (Wire) - {} Reporting by the Seoul bureau; editing by the desk."
    one = boiler.format("North Korea fired a ballistic missile into the sea east of the peninsula.")
    two = boiler.format("The Bank of Korea held its policy rate at 2.5 percent for a third month.")
    pair = [(_article("Missile launch", one, "a"), T0), (_article("Rates on hold", two, "b"), T0)]
    assert len(set(_stories(_index("events"), pair))) == 2


def test_cjk_copies_are_shingled_by_characters() -> None:
    """Korean and Chinese copies under new titles are found; unrelated CJK stories are not."""
    ko = (
        "한국과 중국은 월요일 베이징에서 반도체와 배터리 관세를 인하하는 "
        "무역 협정에 서명했다고 정부 관계자가 밝혔다."
    )
    zh = "韩国和中国周一在北京签署贸易协定。降低半导体和电池关税。首尔官员表示双方谈判历时两年。"
    other = "日本央行周二宣布维持利率不变。东京股市小幅上涨。日元兑美元汇率走弱。"
    batch = [
        (_article("한중 무역협정 서명", ko, "a"), T0),
        (_article("한국·중국, 관세 인하 합의", ko, "b"), T0),
        (_article("中韩签署贸易协定", zh, "c"), T0),
        (_article("中韩贸易协定降低关税", zh, "d"), T0),
        (_article("日本央行维持利率", other, "e"), T0),
    ]
    a, b, c, d, e = _stories(_index("copies"), batch)
    assert a == b and c == d and len({a, c, e}) == 3
    # One shingle per three characters of a run with no spaces, not one for the whole run.
    assert shingle_hashes(tokens(zh)).size > 30


def test_independent_reports_of_one_event_join_in_events_mode_only() -> None:
    """Two outlets' own reports of the signing join in `events` mode, not in `copies` mode."""
    own = (
        "President Lee Jae-myung and Xi Jinping agreed in Beijing to cut tariffs on chips and "
        "batteries, a deal that Seoul says will lift exports; South Korea and China had "
        "negotiated since 2024."
    )
    pair = [
        (_article("South Korea, China sign trade deal", WIRE, "a"), T0),
        (_article("Lee and Xi agree chip tariff cuts", own, "b"), T0 + timedelta(hours=3)),
    ]
    assert len(set(_stories(_index("events"), pair))) == 1
    assert len(set(_stories(_index("copies"), pair))) == 2


def test_a_report_among_many_stories_naming_the_same_countries_joins_its_event() -> None:
    """Hundreds of other stories name South Korea, China, Beijing and Seoul; only a few of
    them are scored, and the report still finds the signing."""
    index = _index("events")
    others = [
        (
            _article(
                f"Talks on topic{i}",
                f"South Korea and China a{i} b{i} c{i} d{i} e{i} f{i} g{i} h{i} in Beijing "
                f"and Seoul i{i} j{i} k{i} l{i}.",
            ),
            T0 - timedelta(hours=1),
        )
        for i in range(300)
    ]
    _stories(index, [*others[:150], (_article("South Korea, China sign trade deal", WIRE), T0)])
    _stories(index, others[150:])
    signing = index.last_id - 150
    own = (
        "President Lee Jae-myung and Xi Jinping agreed in Beijing to cut tariffs on chips and "
        "batteries, a deal that Seoul says will lift exports; South Korea and China had "
        "negotiated since 2024."
    )
    scored = index.scored
    [story] = _stories(index, [(_article("Lee and Xi agree chip tariff cuts", own), T0)])
    assert story == signing
    assert index.scored - scored <= MAX_SCORED


def test_a_cjk_report_finds_its_event_by_terms_among_later_ones() -> None:
    """CJK reports have no names to go by; their shared terms find the event past later news."""
    first = _article(
        "中国与韩国签署贸易协定", "中国与韩国周一在北京签署贸易协定\uff0c降低芯片和电池关税。"
    )
    later = [
        (_article(f"第{i}号新闻", f"上海市第{i}号公告发布了有关天气与交通的消息。"), T0)
        for i in range(200)
    ]
    second = _article(
        "中韩签署贸易协定降低关税", "韩国与中国在北京签署贸易协定\uff0c降低芯片关税和电池关税。"
    )
    stories = _stories(_index("events"), [(first, T0), *later, (second, T0 + timedelta(hours=1))])
    assert stories[-1] == stories[0]


def test_reactions_follow_ups_and_another_day_are_new_stories() -> None:
    """A reaction, a later stage and the same topic days later do not join the event."""
    reaction = (
        "Japan condemns the trade agreement South Korea and China signed in Beijing, saying "
        "tariff cuts on chips by Seoul and Xi Jinping's government distort markets."
    )
    later = (
        "South Korea and China began cutting tariffs on semiconductors on Friday under the trade "
        "agreement Lee Jae-myung and Xi Jinping signed in Beijing, officials in Seoul said."
    )
    batch = [
        (_article("South Korea, China sign trade deal", WIRE, "a"), T0),
        (_article("Japan slams Korea-China trade deal", reaction, "b"), T0 + timedelta(hours=5)),
        (_article("Korea-China tariff cuts take effect", later, "c"), T0 + timedelta(days=4)),
    ]
    assert len(set(_stories(_index("events"), batch))) == 3


def test_a_release_is_a_later_stage_than_the_seizure() -> None:
    """A report that the captive was freed is a story of its own, apart from the abduction."""
    seized = (
        "Gunmen took Prime Minister Omar Haddad from the Grand Palace Hotel in Valletta before "
        "dawn on Thursday, the government of Malta said, and drove him to an unknown place."
    )
    freed = (
        "Prime Minister Omar Haddad was back in his office in Valletta on Thursday, hours after "
        "gunmen took him from the Grand Palace Hotel, the government of Malta said."
    )
    batch = [
        (_article("Malta's prime minister seized by gunmen", seized, "a"), T0),
        (_article("Maltese PM freed hours after abduction", freed, "b"), T0 + timedelta(hours=4)),
    ]
    assert len(set(_stories(_index("events"), batch))) == 2


def test_event_features_take_one_form_of_each_name_and_word() -> None:
    """Possessives and demonyms share a name's stem, a name ends with its sentence, and the
    forms of a word are one term."""
    a = events.report(
        "x", "Troops left Libya's capital Tripoli. Ali Zeidan said the crashes ended."
    )
    b = events.report(
        "x", "Troops from the Libyan army and Ali Zeidan said a crash ended in Tripoli."
    )
    assert "tripoli" in a.whole and not any("." in name for name in a.whole)
    assert events.shared_names(a, b) == 3  # Tripoli, Libya and Ali Zeidan
    assert a.terms["crash"] == 1 and b.terms["crash"] == 1


def test_off_mode_makes_every_article_its_own_story() -> None:
    """With stories off, even exact copies are separate stories."""
    pair = [(_article("Deal", WIRE, "a"), T0), (_article("Deal", WIRE, "b"), T0)]
    assert len(set(_stories(_index("off"), pair))) == 2


def test_copies_in_one_batch_join_the_first() -> None:
    """Within one poll, a copy of an earlier new article points at it."""
    first, second = _index().place([(_article("Deal", WIRE), T0), (_article("Pact", WIRE), T0)])
    assert first.story is None and first.joins is None
    assert second.joins == 0


def test_the_index_survives_a_restart_from_stored_signatures() -> None:
    """A fresh index loaded with stored items places a copy in the stored story."""
    before = _index()
    [p] = before.place([(_article("Deal", WIRE), T0)])
    after = _index()
    after.load(
        [
            StoryItem(
                article_id=7,
                story_id=7,
                source="a",
                when=T0,
                title="Deal",
                lead=WIRE,
                signature=p.signature,
            )
        ]
    )
    [q] = after.place([(_article("Pact", WIRE, "b"), T0)])
    assert q.story == 7


def test_articles_outside_the_window_do_not_join() -> None:
    """A copy published after the window closed starts a story of its own."""
    pair = [
        (_article("Deal", WIRE, "a"), T0),
        (_article("Deal", WIRE, "b"), T0 + timedelta(days=4)),
    ]
    assert len(set(_stories(_index(), pair))) == 2


def test_signatures_are_stable_and_estimate_jaccard() -> None:
    """The same text gives the same signature in any hasher; unrelated texts score near 0, and
    word order counts."""
    a = MinHasher().signature(shingle_hashes(tokens(WIRE)))
    assert (a == MinHasher().signature(shingle_hashes(tokens(WIRE)))).all()
    assert similarity(a, MinHasher().signature(shingle_hashes(tokens(_BODIES[1])))) < 0.2
    shuffled = " ".join(sorted(WIRE.split()))
    assert similarity(a, MinHasher().signature(shingle_hashes(tokens(shuffled)))) < 0.2


def test_stored_signatures_keep_their_values() -> None:
    """Signatures are stored: the same title and lead hash to the values they always had."""
    sig = MinHasher().signature(shingle_hashes(tokens("Korea deal"), tokens(WIRE)))
    assert sig[:4].tolist() == [45574919, 187404315, 54580523, 173392076]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["deal", "korea", "中国", "한국", "x"]), max_size=6)))
def test_shingles_of_runs_are_each_runs_own(runs: list[list[str]]) -> None:
    """Runs hashed together give the shingles of each run hashed alone, none spanning two."""
    alone = set().union(*(shingle_hashes(run).tolist() for run in runs))
    assert set(shingle_hashes(*runs).tolist()) == alone


def test_lsh_buckets_forget_removed_items() -> None:
    """An item removed from the index is no longer found; one sharing its buckets still is."""
    lsh = LSHIndex()
    sig = MinHasher().signature(shingle_hashes(tokens(WIRE)))
    lsh.add(1, sig)
    lsh.add(2, sig)
    lsh.remove(1)
    assert [i for i, _ in lsh.query(sig, 0.9)] == [2]
    lsh.remove(2)
    assert lsh.query(sig, 0.1) == [] and len(lsh) == 0


_BODIES = [
    WIRE,
    "The Bank of Korea held its policy rate at 2.5 percent for a third straight month on Thursday.",
    "North Korea fired a ballistic missile into the sea east of the peninsula, Seoul said.",
]


@settings(max_examples=40, deadline=None)
@given(st.permutations([(i, copy) for i in range(len(_BODIES)) for copy in range(3)]))
def test_exact_copies_cluster_the_same_in_any_arrival_order(order: list[tuple[int, int]]) -> None:
    """Whatever order exact copies arrive in, each body's copies form exactly one story."""
    batch = [(_article(f"Title {i}-{c}", _BODIES[i], f"o{c}"), T0) for i, c in order]
    stories = _stories(_index("copies"), batch)
    groups: dict[int, set[int]] = {}
    for (body, _), story in zip(order, stories, strict=True):
        groups.setdefault(body, set()).add(story)
    assert all(len(s) == 1 for s in groups.values())
    assert len({next(iter(s)) for s in groups.values()}) == len(_BODIES)


def test_short_items_with_near_identical_titles_are_not_copies() -> None:
    """Items too short to judge ("trade deal, part 1" and "part 2") are separate stories."""
    batch = [
        (_article(f"Seoul and Beijing trade deal, part {n}", "", f"o{n}"), T0) for n in range(3)
    ]
    assert len(set(_stories(_index("events"), batch))) == 3


def test_short_reports_sharing_a_sentence_are_not_one_event() -> None:
    """Two brief items with the same one-line lead are too thin to call one event."""
    batch = [
        (_article("Japan's central bank holds rates", "No change in Tokyo.", "a"), T0),
        (_article("Seoul rates", "No change in Tokyo.", "b"), T0 + timedelta(minutes=5)),
    ]
    assert len(set(_stories(_index("events"), batch))) == 2


def test_the_parser_workers_path_does_not_load_numpy() -> None:
    """Parsing workers import the pipeline; only the story index brings numpy in."""
    code = (
        "import sys, monitor.sources.parsing, monitor.core.pipeline; print('numpy' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def _plain_shared(a: events.Report, b: events.Report) -> int:
    """Shared names as defined: a name whole in one report that is one of the other's names
    or a run of words inside one of them."""
    shared = {n for n in a.names & b.names if n in a.whole or n in b.whole}
    for short, long in ((a.whole, b.whole), (b.whole, a.whole)):
        shared |= {n for n in short if " " in n and any(f" {n} " in f" {m} " for m in long)}
    return len(shared)


_NAMES = st.lists(
    st.sampled_from(["Lao", "Airlines", "ATR", "Bank", "Korea", "North", "Pakse", "Vientiane"]),
    min_size=1,
    max_size=4,
)


@given(st.lists(_NAMES, min_size=1, max_size=4), st.lists(_NAMES, min_size=1, max_size=4))
@settings(max_examples=200, deadline=None)
def test_names_inside_longer_names_are_found_by_lookup(
    left: list[list[str]], right: list[list[str]]
) -> None:
    """Looking a name up among the runs of the other's longer names counts what searching
    each longer name for it would."""
    a, b = (events.report("x", "; ".join(" ".join(n) for n in side)) for side in (left, right))
    assert events.shared_names(a, b) == _plain_shared(a, b)


def test_eviction_forgets_articles_by_publication_time_whatever_their_order() -> None:
    """Articles loaded out of time order, and one rewound and stored again later, are each
    forgotten once their own time leaves the window."""
    index = _index("copies")
    times = [T0 + timedelta(hours=h) for h in (5, 1, 3)]
    for i, when in enumerate(times, 1):
        title = f"Report {i} on harbour cranes"
        lead = f"{WIRE} Item {i} of {len(times)}."
        [p] = index.place([(_article(title, lead), when)])
        index.load(
            [
                StoryItem(
                    article_id=i,
                    story_id=i,
                    source="s",
                    when=when,
                    title=title,
                    lead=lead,
                    signature=p.signature,
                )
            ]
        )
    index.rewind(2)
    index.load(
        [
            StoryItem(
                article_id=3,
                story_id=3,
                source="s",
                when=T0 + timedelta(hours=9),
                title="Later",
                lead=WIRE,
                signature=None,
            )
        ]
    )
    index.evict(T0 + timedelta(hours=4))
    assert len(index) == 2  # 1 (at 5 h) and 3 (at 9 h) remain
    index.evict(T0 + timedelta(hours=6))
    assert len(index) == 1
    index.evict(T0 + timedelta(hours=10))
    assert len(index) == 0


def test_a_copy_names_the_group_of_the_text_it_copies() -> None:
    """Another outlet's own report joins the event's story but starts a group of copies of
    its own; a copy of it joins that group."""
    own = (
        "South Korea and China agreed on Monday to lower tariffs on chips and electric-vehicle "
        "batteries, in a trade deal that Seoul and Beijing negotiated for two years, the trade "
        "ministries said after Lee Jae-myung met Xi Jinping."
    )
    index = _index("events")
    placed = []
    for i, (title, lead) in enumerate(
        [
            ("South Korea, China sign trade deal", WIRE),
            ("Seoul, Beijing cut tariffs", own),
            ("Korea and China cut chip tariffs", own),
        ],
        1,
    ):
        [p] = index.place([(_article(title, lead, f"s{i}"), T0 + timedelta(minutes=i))])
        placed.append(p)
        index.load(
            [
                StoryItem(
                    article_id=i,
                    story_id=p.story or i,
                    source=f"s{i}",
                    when=T0 + timedelta(minutes=i),
                    title=title,
                    lead=lead,
                    signature=p.signature,
                )
            ]
        )
    assert [(p.how, p.story, p.copies) for p in placed] == [
        ("new", None, None),
        ("event", 1, None),
        ("copy", 1, 2),
    ]
