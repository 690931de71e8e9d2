"""Watch examples: read from the config (texts and article files), run by `newsmonitor check`."""

from __future__ import annotations

from pathlib import Path

from monitor.config import load_settings
from monitor.core.rulecheck import check_examples
from tests.adapters.test_config import SHIPPED, problems, write, write_main
from tests.support import process

WATCHES = """\
watches:
  - name: trade
    query: "Seoul AND (trade OR tariff*)"
    notify: [console]
    examples:
      match:
        - "Seoul weighs tariffs on steel"
        - {file: articles/seoul.txt}
        - {title: "Talks resume", summary: "Seoul and Beijing discuss trade."}
        - "Tokyo weighs tariffs on steel"
      no_match:
        - "Seoul subway fares rise"
        - "Seoul trade fair opens"
"""


def _config(tmp_path: Path) -> Path:
    main = write_main(tmp_path, "include: [watches/*.yaml]\n")
    write(tmp_path, "watches/trade.yaml", WATCHES)
    write(tmp_path, "watches/articles/seoul.txt", "Markets\nSeoul cuts tariffs on rice.\n")
    return main


def test_each_failing_example_is_reported_with_its_place_and_watch(tmp_path: Path) -> None:
    """Examples that hold pass silently; each one that fails names its file:line and watch."""
    _config(tmp_path)
    report = check_examples(load_settings(tmp_path / "monitor.yaml"))
    where = tmp_path / "watches" / "trade.yaml"
    assert report.total == 6
    assert report.failures == (
        f"{where}:10: watches.0.examples.match.3: watch 'trade' should match "
        "'Tokyo weighs tariffs on steel' but does not",
        f"{where}:13: watches.0.examples.no_match.1: watch 'trade' should not match "
        "'Seoul trade fair opens' but does (found: Seoul, trade)",
    )


def test_an_example_file_that_cannot_be_read_is_a_config_error(tmp_path: Path) -> None:
    """A missing article file, or one outside the config directory, is reported at its line."""
    main = _config(tmp_path)
    where = tmp_path / "watches" / "trade.yaml"
    where.write_text(
        WATCHES.replace("articles/seoul.txt", "articles/gone.txt").replace(
            '"Seoul subway fares rise"', "{file: ../secret.txt}"
        )
    )
    assert problems(main) == [
        f"{where}:8: watches.0.examples.match.1.file: cannot read example file "
        "'articles/gone.txt': No such file or directory",
        f"{where}:12: watches.0.examples.no_match.0.file: '../secret.txt' is outside the "
        "config directory",
    ]


def test_an_example_is_either_a_file_or_fields(tmp_path: Path) -> None:
    """An example giving both a file and a title is rejected, as is an unknown key."""
    main = write_main(
        tmp_path,
        """\
        watches:
          - name: w
            query: x
            notify: [console]
            examples: {match: [{file: a.txt, title: x}], no_match: [{body: x}]}
        """,
    )
    found = problems(main)
    assert len(found) == 2
    assert "watches.0.examples.match.0" in found[0]
    assert "either file or the article's fields" in found[0]
    assert "watches.0.examples.no_match.0" in found[1]


def test_the_shipped_watches_pass_their_examples() -> None:
    """Every example in the shipped config/watches holds, and there are some of each kind."""
    settings = load_settings(SHIPPED / "monitor.yaml")
    report = check_examples(settings)
    assert report.failures == ()
    kinds = {e.match for w in settings.watches for e in w.examples}
    assert kinds == {True, False}


def test_check_exits_two_and_lists_failing_examples(tmp_path: Path) -> None:
    """`newsmonitor check` prints each failing example and exits 2; fixed, it passes."""
    main = _config(tmp_path)
    done = process.run(main, "check")
    assert done.returncode == 2
    assert "should match 'Tokyo weighs tariffs on steel' but does not" in done.stderr
    assert "2 of 6 watch example(s) fail" in done.stderr
    trade = tmp_path / "watches" / "trade.yaml"
    fixed = trade.read_text().replace('"Tokyo', '"Seoul').replace("trade fair", "subway fair")
    trade.write_text(fixed)
    done = process.run(main, "check")
    assert done.returncode == 0, done.stderr
    assert "examples: all 6 hold" in done.stdout
