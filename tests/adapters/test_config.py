"""The config loader: real files in tmp_path, exact `file:line: key.path: message` problems."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from ruamel.yaml.parser import RoundTripParser

from monitor.config import load_settings, parse_duration, parse_size
from monitor.core import schedule
from monitor.core.errors import ConfigError
from monitor.core.model import Settings

SHIPPED = Path(__file__).resolve().parents[2] / "config"
SHIPPED_VARIABLES = (
    "NEWSMONITOR_DATABASE",
    "SLACK_WEBHOOK_URL",
    "EMAIL_ALERTS",
    "SMTP_USER",
    "SMTP_PASSWORD",
    "SMTP_HOST",
    "ALERT_EMAIL_TO",
)
BASE = """\
database: sqlite:///test.db
channels:
  console: {url: "console://"}
"""


def write_main(directory: Path, extra: str) -> Path:
    """Write monitor.yaml: the minimal valid main file followed by `extra` (dedented)."""
    return write(directory, "monitor.yaml", BASE + textwrap.dedent(extra))


def write(directory: Path, name: str, text: str) -> Path:
    """Write a dedented config file and return its path."""
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems(path: Path, **kwargs: Callable[[str], str | None]) -> list[str]:
    """The problems load_settings reports for `path`."""
    with pytest.raises(ConfigError) as info:
        load_settings(path, **kwargs)
    return info.value.problems


@pytest.fixture
def no_shipped_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset every variable the shipped config reads."""
    for name in SHIPPED_VARIABLES:
        monkeypatch.delenv(name, raising=False)


# --- errors, one kind per test -------------------------------------------------------------


def test_yaml_syntax_error(tmp_path: Path) -> None:
    """A YAML syntax error is reported with ruamel's problem text at its 1-based line."""
    main = write(tmp_path, "monitor.yaml", "database: x\nfetch: {interval: 10m\nsources: []\n")
    assert problems(main) == [f"{main}:3: expected ',' or '}}', but got ':'"]


def test_unknown_keys(tmp_path: Path) -> None:
    """Unknown keys are rejected at the top level and inside nested items."""
    main = write_main(
        tmp_path,
        """\
        sources:
          - {name: a, url: "https://a.example/feed"}
          - name: b
            url: "https://b.example/feed"
            intervall: 5m
        watchs: []
        """,
    )
    assert problems(main) == [
        f"{main}:8: sources.1.intervall: Extra inputs are not permitted",
        f"{main}:9: watchs: Extra inputs are not permitted",
    ]


def test_missing_required_key_reports_parent_line(tmp_path: Path) -> None:
    """A missing required key is reported at the line of the mapping that lacks it."""
    main = write_main(
        tmp_path,
        """\
        sources:
          - url: "https://a.example/feed"
            interval: 5m
        """,
    )
    assert problems(main) == [f"{main}:5: sources.0.name: Field required"]


def test_missing_database_reports_line_one(tmp_path: Path) -> None:
    """A main file without `database` is reported at line 1."""
    main = write(tmp_path, "monitor.yaml", "sources: []\n")
    assert problems(main) == [f"{main}:1: database: Field required"]


def test_bad_duration(tmp_path: Path) -> None:
    """A duration that does not parse, or is below its minimum, is reported at its line."""
    main = write_main(tmp_path, "fetch:\n  interval: 10x\n  timeout: 0\n")
    assert problems(main) == [
        f"{main}:5: fetch.interval: invalid duration '10x': "
        "use e.g. 90s, 10m, 2h, 7d, 1h30m or a number of seconds",
        f"{main}:6: fetch.timeout: must be greater than 0",
    ]


def test_bad_size(tmp_path: Path) -> None:
    """A size that does not parse is reported at its line."""
    main = write_main(tmp_path, "fetch:\n  max_bytes: 10 XB\n")
    assert problems(main) == [
        f"{main}:5: fetch.max_bytes: invalid size '10 XB': "
        "use e.g. 512KB, 10MB, 1.5 MiB or a number of bytes"
    ]


def test_bad_url_scheme(tmp_path: Path) -> None:
    """A source url that is not http or https is rejected."""
    main = write_main(tmp_path, "sources:\n  - {name: a, url: 'file:///etc/passwd'}\n")
    assert problems(main) == [
        f"{main}:5: sources.0.url: must be an http:// or https:// URL with a host"
    ]


def test_bad_allowed_address(tmp_path: Path) -> None:
    """An allow_addresses entry that is not an IP network is rejected."""
    main = write_main(tmp_path, "fetch: {allow_addresses: [127.0.0.1, intranet]}\n")
    assert problems(main) == [
        f"{main}:4: fetch.allow_addresses.1: 'intranet' is not an IP address or network "
        "(e.g. 10.0.0.0/8)"
    ]


def test_allowed_addresses_cannot_open_metadata_ranges(tmp_path: Path) -> None:
    """allow_addresses may not open link-local, metadata or unspecified addresses."""
    main = write_main(
        tmp_path, "fetch: {allow_addresses: [169.254.0.0/16, 0.0.0.0/0, fd00:ec2::/32]}\n"
    )
    never = "overlaps link-local, cloud metadata or unspecified addresses, which are never allowed"
    assert problems(main) == [
        f"{main}:4: fetch.allow_addresses.{i}: {net} {never}"
        for i, net in enumerate(["169.254.0.0/16", "0.0.0.0/0", "fd00:ec2::/32"])
    ]


def test_a_source_may_allow_private_networks(tmp_path: Path) -> None:
    """allow_private_networks on a source is kept; unset, it follows fetch: (None)."""
    main = write_main(
        tmp_path,
        """\
        sources:
          - {name: intranet, url: "http://wiki.corp/feed", allow_private_networks: true}
          - {name: public, url: "https://news.test/feed"}
        """,
    )
    sources = load_settings(main).sources
    assert [s.allow_private_networks for s in sources] == [True, None]


def test_intervals_below_30s_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A config may not poll more often than every 30 s (the suite lowers the floor)."""
    monkeypatch.setattr(schedule, "INTERVAL_FLOOR", timedelta(seconds=30))
    main = write_main(
        tmp_path,
        """\
        fetch: {interval: 10s, min_interval: 29s}
        sources:
          - {name: fast, url: "https://news.test/feed", interval: 5s}
          - {name: ok, url: "https://news.test/feed2", interval: 30s}
        """,
    )
    assert problems(main) == [
        f"{main}:4: fetch.interval: must be at least 30s",
        f"{main}:4: fetch.min_interval: must be at least 30s",
        f"{main}:6: sources.0.interval: must be at least 30s",
    ]


def test_interval_auto_adapts_within_min_and_max(tmp_path: Path) -> None:
    """interval: auto (in fetch: or on a source) is adaptive, starting at min_interval."""
    main = write_main(
        tmp_path,
        """\
        fetch: {interval: auto, min_interval: 2m, max_interval: 3h, per_host: 4}
        sources:
          - {name: inherits, url: "https://news.test/a"}
          - {name: fixed, url: "https://news.test/b", interval: 5m}
        """,
    )
    settings = load_settings(main)
    assert (settings.fetch.adaptive, settings.fetch.max_interval) == (True, timedelta(hours=3))
    assert settings.fetch.per_host == 4
    assert [(s.adaptive, s.interval) for s in settings.sources] == [
        (True, timedelta(minutes=2)),
        (False, timedelta(minutes=5)),
    ]
    wrong = write_main(tmp_path, "fetch: {min_interval: 2h, max_interval: 1h}\n")
    assert problems(wrong) == [f"{wrong}:4: fetch.max_interval: must be at least min_interval"]


def test_duplicate_source_name(tmp_path: Path) -> None:
    """A second source with the same name is reported at its line, naming where the first is."""
    main = write_main(
        tmp_path,
        """\
        sources:
          - {name: yonhap, url: "https://en.yna.co.kr/RSS/news.xml"}
          - {name: bbc, url: "https://feeds.bbci.co.uk/news/world/rss.xml"}
          - {name: yonhap, url: "https://www.yna.co.kr/rss/news.xml"}
        """,
    )
    assert problems(main) == [
        f"{main}:7: sources.2.name: duplicate source 'yonhap' (first defined at {main}:5)"
    ]


def test_duplicate_watch_across_included_files(tmp_path: Path) -> None:
    """A watch name defined in two included files is an error naming both places."""
    main = write_main(tmp_path, "include: [watches/*.yaml]\n")
    watch = "watches:\n  - name: trade\n    query: trade\n    notify: [console]\n"
    first = write(tmp_path, "watches/a.yaml", watch)
    write(tmp_path, "watches/b.yaml", "\n" + watch)
    second = tmp_path / "watches" / "b.yaml"
    assert problems(main) == [
        f"{second}:3: watches.0.name: duplicate watch 'trade' (first defined at {first}:2)"
    ]


def test_a_config_file_is_parsed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tags and duplicate keys are checked on the events the data is built from: a second
    parse for those checks alone took a third of a reload of 1,000 watches."""
    streams: list[object] = []
    start = RoundTripParser.parse_stream_start
    monkeypatch.setattr(
        RoundTripParser, "parse_stream_start", lambda self: streams.append(self) or start(self)
    )
    load_settings(write_main(tmp_path, "sources:\n  - {name: a, url: 'https://example.org/'}\n"))
    assert len(streams) == 1


def test_duplicate_key_in_mapping(tmp_path: Path) -> None:
    """A key written twice in one mapping is an error at the second one's line."""
    main = write(tmp_path, "monitor.yaml", BASE + "  console: {url: 'json://localhost'}\n")
    assert problems(main) == [f"{main}:4: channels.console: duplicate key (first at line 3)"]


def test_unknown_channel_in_notify(tmp_path: Path) -> None:
    """A watch notifying an undefined channel is reported at that list item's line."""
    main = write_main(
        tmp_path,
        """\
          analysts: {url: "", enabled: false}
        watches:
          - name: trade
            query: trade
            notify:
              - console
              - team-slack
        """,
    )
    assert problems(main) == [
        f"{main}:10: watches.0.notify.1: unknown channel 'team-slack' (defined: analysts, console)"
    ]


def test_unknown_term_list_in_query(tmp_path: Path) -> None:
    """A query naming an undefined @list is reported with the watch name and column."""
    main = write_main(
        tmp_path,
        """\
        terms:
          china: [China, Beijing]
        watches:
          - {name: trade, query: "trade AND @south_korea", notify: [console]}
        """,
    )
    assert problems(main) == [
        f"{main}:7: watches.0.query: watch 'trade': column 11: "
        "unknown term list @south_korea (defined lists: china)"
    ]


def test_query_syntax_error_with_column(tmp_path: Path) -> None:
    """A query that does not parse is reported with the column the parser gives."""
    main = write_main(
        tmp_path,
        "watches:\n  - {name: korea-china-trade, query: 'Korea AND (China', notify: [console]}\n",
    )
    assert problems(main) == [
        f"{main}:5: watches.0.query: watch 'korea-china-trade': column 11: "
        "unbalanced parenthesis: '(' is never closed"
    ]


def test_bad_alias_reported_at_term_list(tmp_path: Path) -> None:
    """An alias with nothing to match is reported at its term list, not at every watch using it."""
    main = write_main(
        tmp_path,
        "terms:\n  odd: ['!!!']\nwatches:\n  - {name: w, query: '@odd', notify: [console]}\n",
    )
    assert problems(main) == [f"{main}:5: terms.odd: '!!!' has no letters or digits to match"]


def test_unset_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unset ${VAR} without a default is reported once, at the value's line."""
    monkeypatch.delenv("SLACK_WEBHOOK_URL", raising=False)
    main = write(tmp_path, "monitor.yaml", BASE + "  team-slack: {url: '${SLACK_WEBHOOK_URL}'}\n")
    assert problems(main) == [
        f"{main}:4: channels.team-slack.url: environment variable SLACK_WEBHOOK_URL is not set"
    ]


def test_yaml_tags_rejected_and_never_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A YAML tag is rejected before anything is constructed, so no code runs."""
    monkeypatch.chdir(tmp_path)
    main = write_main(
        tmp_path,
        'sources: !!python/object/apply:os.system ["touch canary"]\nfetch: {interval: !foo 1}\n',
    )
    assert problems(main) == [
        f"{main}:4: YAML tags are not allowed",
        f"{main}:5: YAML tags are not allowed",
    ]
    assert not (tmp_path / "canary").exists()


def test_include_glob_matching_nothing(tmp_path: Path) -> None:
    """An include pattern that matches no file is an error at its list item."""
    main = write_main(tmp_path, "include:\n  - watches/*.yml\n")
    assert problems(main) == [f"{main}:5: include.0: 'watches/*.yml' matches no file"]


def test_include_escaping_the_directory(tmp_path: Path) -> None:
    """Include patterns and symlinks that lead outside the main file's directory are rejected."""
    write(tmp_path, "outside.yaml", "watches: []\n")
    main = write(
        tmp_path, "conf/monitor.yaml", BASE + "include: [../outside.yaml, /etc/*.conf, w/*]\n"
    )
    (tmp_path / "conf" / "w").mkdir()
    (tmp_path / "conf" / "w" / "link.yaml").symlink_to(tmp_path / "outside.yaml")
    assert problems(main) == [
        f"{main}:4: include.0: '../outside.yaml' is outside the config directory",
        f"{main}:4: include.1: '/etc/*.conf' is outside the config directory",
        f"{main}:4: include.2: 'w/link.yaml' resolves outside the config directory",
    ]


def test_main_only_keys_in_included_file(tmp_path: Path) -> None:
    """`database` and `include` in an included file are errors."""
    main = write_main(tmp_path, "include: [more.yaml]\n")
    more = write(tmp_path, "more.yaml", "database: sqlite:///other.db\ninclude: [x.yaml]\n")
    assert problems(main) == [
        f"{more}:1: database: only allowed in the main config file",
        f"{more}:2: include: only allowed in the main config file",
    ]


def test_unreadable_main_file(tmp_path: Path) -> None:
    """A missing main file is one problem naming the file."""
    missing = tmp_path / "monitor.yaml"
    assert problems(missing) == [f"{missing}: cannot read config: No such file or directory"]


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    """A file holding a list instead of keys is reported."""
    main = write(tmp_path, "monitor.yaml", "- database\n")
    assert problems(main) == [f"{main}:1: the top level must be a mapping of config keys"]


def test_several_errors_reported_together(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every problem in every file is reported at once, ordered by file and line."""
    monkeypatch.delenv("NOPE_TOKEN", raising=False)
    main = write(
        tmp_path,
        "monitor.yaml",
        """\
        database: mysql://root:hunter2@db/news
        include: [watches/*.yaml]
        fetch: {interval: 0s, max_bytes: lots}
        sources:
          - {name: Yonhap, url: "https://en.yna.co.kr/RSS/news.xml"}
        channels:
          slack: {url: "https://hooks.slack.com/services/${NOPE_TOKEN}"}
        """,
    )
    watches = write(
        tmp_path,
        "watches/korea.yaml",
        """\
        watches:
          - {name: nk, query: "@north_korea AND", notify: [slack, pager]}
        """,
    )
    assert problems(main) == [
        f"{main}:1: database: must be a sqlite:// or postgresql+psycopg:// URL",
        f"{main}:3: fetch.interval: must be at least 1s",
        f"{main}:3: fetch.max_bytes: invalid size 'lots': "
        "use e.g. 512KB, 10MB, 1.5 MiB or a number of bytes",
        f"{main}:5: sources.0.name: must match [a-z0-9][a-z0-9_.-]*",
        f"{main}:7: channels.slack.url: environment variable NOPE_TOKEN is not set",
        f"{watches}:2: watches.0.notify.1: unknown channel 'pager' (defined: slack)",
        f"{watches}:2: watches.0.query: watch 'nk': column 14: AND needs a term after it",
    ]


def test_check_channel_url_error_at_url_line(tmp_path: Path) -> None:
    """The injected channel check runs on enabled channels with a url; its message lands there."""
    main = write_main(
        tmp_path,
        """\
          pager:
            enabled: true
            url: "notaschema://x"
          off: {url: "notaschema://y", enabled: false}
          empty: {url: ""}
        watches: []
        """,
    )
    seen: list[str] = []

    def check(url: str) -> str | None:
        seen.append(url)
        return None if url == "console://" else "apprise does not know this URL"

    assert problems(main, check_channel_url=check) == [
        f"{main}:6: channels.pager.url: apprise does not know this URL"
    ]
    assert seen == ["console://", "notaschema://x"]


def test_errors_do_not_echo_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A value from a secret variable that fails validation is not repeated in the message."""
    monkeypatch.setenv("EMAIL_ALERTS", "s3cret-value")
    main = write(
        tmp_path,
        "monitor.yaml",
        "database: postgresql://u:s3cret-value@db/x\n"
        "channels:\n  mail: {url: 'x', enabled: '${EMAIL_ALERTS}'}\n",
    )
    found = problems(main)
    assert len(found) == 2
    assert not any("s3cret-value" in problem for problem in found)


# --- what loads ----------------------------------------------------------------------------


def test_shipped_config_loads_with_defaults(no_shipped_env: None) -> None:
    """The shipped config loads with no variables set: seed watches, console on, the rest off."""
    settings = load_settings(SHIPPED / "monitor.yaml")
    assert [watch.name for watch in settings.watches] == ["korea-china-trade", "nk-missile-tests"]
    assert all(w.notify == ("console", "team-slack", "analysts") for w in settings.watches)
    assert any("ko" in source.tags for source in settings.sources)
    assert {tag for source in settings.sources for tag in source.tags} >= {
        "korea",
        "china",
        "world",
    }
    assert {c.name: c.enabled for c in settings.channels} == {
        "console": True,
        "team-slack": False,
        "analysts": False,
    }
    assert settings.database == "sqlite:///data/newsmonitor.db"
    assert {"south_korea", "china", "north_korea", "missile", "launch"} <= set(settings.terms)


def test_every_shipped_config_file_is_read(no_shipped_env: None) -> None:
    """Every YAML file under config/ is part of the shipped config."""
    settings = load_settings(SHIPPED / "monitor.yaml")
    assert {Path(name).resolve() for name in settings.files} == set(SHIPPED.rglob("*.yaml"))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # apprise's email plugin imports imghdr
def test_shipped_channels_turn_on_from_environment(
    no_shipped_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Setting the Slack and SMTP variables turns those channels on, with URLs apprise accepts."""
    import apprise

    monkeypatch.setenv("SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T000/B000/XXXX")
    monkeypatch.setenv("EMAIL_ALERTS", "true")
    monkeypatch.setenv("SMTP_USER", "bot")
    monkeypatch.setenv("SMTP_PASSWORD", "p%40ss")
    monkeypatch.setenv("SMTP_HOST", "smtp.example.org")
    monkeypatch.setenv("ALERT_EMAIL_TO", "desk@example.org")

    def check(url: str) -> str | None:
        if url == "console://":  # registered by the notify adapter, not built into apprise
            return None
        return None if apprise.Apprise.instantiate(url) else "apprise does not accept this URL"

    settings = load_settings(SHIPPED / "monitor.yaml", check_channel_url=check)
    channels = {channel.name: channel for channel in settings.channels}
    assert channels["team-slack"].enabled and channels["analysts"].enabled
    assert channels["team-slack"].url == "https://hooks.slack.com/services/T000/B000/XXXX"
    assert channels["analysts"].url == "mailtos://bot:p%40ss@smtp.example.org?to=desk@example.org"


def test_environment_expansion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """${VAR} and ${VAR:-default} expand in values only, once, and the result is validated."""
    monkeypatch.setenv("HOOK", "https://hooks.example/${NOT_EXPANDED}#x: y")
    monkeypatch.setenv("EMPTY", "")
    monkeypatch.setenv("ATTEMPTS", "3")
    monkeypatch.delenv("UNSET", raising=False)
    main = write(
        tmp_path,
        "monitor.yaml",
        """\
        database: "${UNSET:-sqlite:///default.db}"
        delivery: {max_attempts: "${ATTEMPTS}"}
        channels:
          hook: {url: "${HOOK}", enabled: "${UNSET:-false}"}
          blank: {url: "${EMPTY}"}
          fallback: {url: "${EMPTY:-console://}"}
          "${UNSET:-x}": {url: ""}
        """,
    )
    settings = load_settings(main)
    assert settings.database == "sqlite:///default.db"
    assert settings.delivery.max_attempts == 3
    channels = {channel.name: channel for channel in settings.channels}
    assert channels["hook"].url == "https://hooks.example/${NOT_EXPANDED}#x: y"
    assert not channels["hook"].enabled
    assert (channels["blank"].url, channels["blank"].enabled) == ("", False)
    assert (channels["fallback"].url, channels["fallback"].enabled) == ("console://", True)
    assert "${UNSET:-x}" in channels


def test_included_files_merge_in_order(tmp_path: Path) -> None:
    """Included files add their lists after the main file's, in sorted order, and are listed."""
    main = write_main(
        tmp_path,
        """\
        include: [watches/*.yaml, extra.yaml]
        fetch: {interval: 15m}
        sources:
          - {name: first, url: "https://first.example/feed", interval: 1m}
        """,
    )
    write(tmp_path, "extra.yaml", "sources:\n  - {name: last, url: 'https://last.example/'}\n")
    write(tmp_path, "watches/b.yaml", "watches:\n  - {name: b, query: '@k', notify: [console]}\n")
    write(
        tmp_path,
        "watches/a.yaml",
        "terms:\n  k: [Korea]\nwatches:\n  - {name: a, query: x, notify: [console]}\n",
    )
    settings = load_settings(main)
    assert settings.files == (
        str(main),
        str(tmp_path / "watches" / "a.yaml"),
        str(tmp_path / "watches" / "b.yaml"),
        str(tmp_path / "extra.yaml"),
    )
    assert [(s.name, s.interval) for s in settings.sources] == [
        ("first", timedelta(minutes=1)),
        ("last", timedelta(minutes=15)),
    ]
    assert [watch.name for watch in settings.watches] == ["a", "b"]
    assert settings.terms == {"k": ("Korea",)}


def test_relative_path_names_files_as_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a relative main path, included files are named relative to it too."""
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "conf/monitor.yaml", BASE + "include: [w/*.yaml]\n")
    write(tmp_path, "conf/w/a.yaml", "watches:\n  - {name: a, query: x, notify: [nowhere]}\n")
    assert problems(Path("conf/monitor.yaml")) == [
        "conf/w/a.yaml:2: watches.0.notify.0: unknown channel 'nowhere' (defined: console)"
    ]


def test_settings_values(tmp_path: Path) -> None:
    """Written-out blocks become domain values, with unset keys keeping the domain defaults."""
    main = write_main(
        tmp_path,
        """\
        fetch: {max_bytes: 512KB, max_age: 0, allow_private_networks: true,
                allow_addresses: [10.1.2.3, 192.168.0.0/16]}
        delivery: {retry_base: 10s}
        stories: {mode: copies, window: 1d}
        """,
    )
    settings = load_settings(main)
    assert isinstance(settings, Settings)
    assert settings.fetch.max_bytes == 512 * 1024
    assert settings.fetch.max_age == timedelta(0)
    assert settings.fetch.interval == timedelta(minutes=10)
    assert settings.fetch.allow_addresses == ("10.1.2.3/32", "192.168.0.0/16")
    assert settings.delivery.retry_base == timedelta(seconds=10)
    assert (settings.stories.mode, settings.stories.window) == ("copies", timedelta(days=1))


# --- units ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("10m", timedelta(minutes=10)),
        ("2h", timedelta(hours=2)),
        ("7d", timedelta(days=7)),
        ("1h30m", timedelta(minutes=90)),
        ("1d 2h", timedelta(hours=26)),
        ("1.5h", timedelta(minutes=90)),
        ("0", timedelta(0)),
        ("45", timedelta(seconds=45)),
        (30, timedelta(seconds=30)),
        (0.5, timedelta(milliseconds=500)),
    ],
)
def test_parse_duration(text: str | int | float, expected: timedelta) -> None:
    """Durations read units s, m, h, d, combinations of them, and bare seconds."""
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "10x", "m", "-5s", "30m1h", "1m1m", "10 minutes", True, -1])
def test_parse_duration_rejects(text: str | int) -> None:
    """Malformed, negative or out-of-order durations raise ValueError."""
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10MB", 10 * 1024**2),
        ("512KB", 512 * 1024),
        ("1MiB", 1024**2),
        ("1.5 MB", 1536 * 1024),
        ("2g", 2 * 1024**3),
        ("100B", 100),
        ("4096", 4096),
        (65536, 65536),
    ],
)
def test_parse_size(text: str | int, expected: int) -> None:
    """Sizes read B, K/KB/KiB, M/MB/MiB, G/GB/GiB (powers of 1024) and bare bytes."""
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "10XB", "MB", "-1MB", "ten", -1, True])
def test_parse_size_rejects(text: str | int) -> None:
    """Malformed or negative sizes raise ValueError."""
    with pytest.raises(ValueError, match="invalid size"):
        parse_size(text)


def test_follow_up_at_is_read_and_checked(tmp_path: Path) -> None:
    """A watch's follow_up_at reaches the domain value; below 2 it is an error with its line."""
    main = write_main(
        tmp_path, "watches:\n  - {name: w, query: x, notify: [console], follow_up_at: 5}\n"
    )
    assert load_settings(main).watches[0].follow_up_at == 5
    bad = write_main(
        tmp_path, "watches:\n  - {name: w, query: x, notify: [console], follow_up_at: 1}\n"
    )
    assert problems(bad) == [f"{bad}:5: watches.0.follow_up_at: must be at least 2"]
