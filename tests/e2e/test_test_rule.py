"""`newsmonitor test-rule` as a process: match or not, why, JSONL in and out, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support import process
from tests.support.scenario import write_config

CONFIG = Path(__file__).resolve().parents[2] / "config" / "monitor.yaml"
pytestmark = pytest.mark.slow


def test_a_query_on_text_prints_match_and_why() -> None:
    """A matching query prints `match` and each clause with its field and marked snippet."""
    done = process.run(
        CONFIG, "test-rule", "@north_korea NEAR/3 missile*", "--text", "North Korea fires missile"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "match",
        "  @north_korea NEAR/3 missile*  [title]  «North Korea» fires «missile»",
    ]


def test_no_match_still_exits_zero() -> None:
    """A query that does not match says so and exits 0."""
    done = process.run(CONFIG, "test-rule", "{US} tariff*", "--text", "Tariffs worry all of us")
    assert (done.returncode, done.stdout.strip()) == (0, "no match")


def test_jsonl_documents_give_one_json_object_each(tmp_path: Path) -> None:
    """Each JSONL document gets one object with its id, match and explanation, in order."""
    docs = tmp_path / "docs.jsonl"
    lines = [
        {"id": "a", "title": "북한, 동해상으로 탄도미사일 발사", "lang": "ko"},
        {"id": "b", "title": "Weather", "summary": "Sunny in Seoul"},
        {"title": "DPRK", "content": "Pyongyang said the SLBM test-fired", "source": "nk-news"},
    ]
    docs.write_text("\n".join(json.dumps(d, ensure_ascii=False) for d in lines) + "\n")
    done = process.run(
        CONFIG, "test-rule", "--watch", "nk-missile-tests", "--file", str(docs), "--json"
    )
    assert done.returncode == 0, done.stderr
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(o["id"], o["match"]) for o in out] == [("a", True), ("b", False), (3, True)]
    assert out[0]["terms"] == ["북한", "미사일", "발사"]
    assert ("@missile (SLBM)", "content") in [(h["clause"], h["field"]) for h in out[2]["hits"]]
    assert out[1]["hits"] == []


def test_jsonl_documents_answer_in_json_without_the_flag(tmp_path: Path) -> None:
    """Documents, one JSON object a line, get one JSON object each even without --json."""
    docs = tmp_path / "docs.txt"
    docs.write_text('{"id": "x", "title": "Missile launched"}\n{"id": "y", "title": "Weather"}\n')
    done = process.run(CONFIG, "test-rule", "missile", "--file", str(docs))
    assert done.returncode == 0, done.stderr
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(o["id"], o["match"]) for o in out] == [("x", True), ("y", False)]
    assert out[0]["hits"][0]["clause"] == "missile"


def test_a_bad_jsonl_line_is_reported_and_the_rest_still_run(tmp_path: Path) -> None:
    """A line that is not a document is named with its line number; the others are answered."""
    docs = tmp_path / "docs.jsonl"
    docs.write_text('{"id": 1, "title": "missile"}\nnot json\n{"id": 3, "titel": "x"}\n')
    done = process.run(CONFIG, "test-rule", "missile", "--file", str(docs), "--json")
    assert done.returncode == 2
    assert [json.loads(line)["id"] for line in done.stdout.splitlines()] == [1]
    assert f"{docs}:2: not JSON" in done.stderr
    assert f"{docs}:3: unknown key 'titel'" in done.stderr


def test_a_text_file_is_one_document(tmp_path: Path) -> None:
    """A plain text file is one document: first line the title, the rest its content."""
    text = tmp_path / "article.txt"
    text.write_text("Talks stall\n\nInspectors found enriched uranium.\n")
    done = process.run(CONFIG, "test-rule", "content:uranium -title:uranium", "--file", str(text))
    assert (done.returncode, done.stdout.splitlines()[0]) == (0, "match")


@pytest.mark.parametrize(
    ("query", "caret"),
    [
        ("missile (launch", "        ^"),
        ('"missile test', "^"),
        ("missile @dprk", "        ^"),
        (r"missile /(a)\1/", "            ^"),
    ],
)
def test_a_syntax_error_points_at_its_column_and_exits_two(query: str, caret: str) -> None:
    """Unbalanced brackets or quotes, unknown lists and backreferences get a caret, exit 2."""
    done = process.run(CONFIG, "test-rule", query, "--text", "x")
    assert done.returncode == 2
    assert done.stderr.splitlines()[-2:] == [query, caret]
    assert done.stdout == ""


def test_an_unknown_watch_is_a_usage_error() -> None:
    """--watch with a name the config does not have lists the watches and exits 2."""
    done = process.run(CONFIG, "test-rule", "--watch", "nope", "--text", "x")
    assert done.returncode == 2
    assert "korea-china-trade" in done.stderr


def test_check_lists_watches_that_cannot_be_prefiltered(tmp_path: Path) -> None:
    """`check` names the watches evaluated for every article (only NOT, only a regex)."""
    extra = (
        "  - {name: no-sports, query: 'NOT sports', notify: [console]}\n"
        "  - {name: opec, query: '/opec\\+/', notify: [console]}\n"
    )
    config = write_config(
        tmp_path / "monitor.yaml",
        feeds={},
        channels={"console": "console://"},
        database=f"sqlite:///{tmp_path / 'db.sqlite'}",
        extra=extra,
    )
    done = process.run(config, "check")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].endswith("regular expressions): no-sports, opec")
