"""newsmonitor against rss2email (run by hand): whole processes on the same local feeds.

    .venv/bin/pip install -c constraints.txt -e '.[bench]'
    .venv/bin/python bench/peer.py [--feeds 200] [--entries 50] [--trials 3]

rss2email fetches feeds one at a time with feedparser; it is what a user might pick instead.
Both poll the same N feeds of M entries on 127.0.0.1 (bench/feedhost.py, with ETags), as
`newsmonitor run --once` and `r2e run --no-send`, each from a fresh state per trial:
  cold   the first poll (N x M entries, all new to the tool);
  new    5 new entries in every feed, stored (newsmonitor's watch matches none), not sent;
  304    nothing new: every answer a 304.
Wall time and CPU (the process and its children: newsmonitor's parse workers) are medians of
the trials. Then the start: `newsmonitor version`, `newsmonitor check` on the shipped config and
`r2e --version`, medians of 5. The package is byte-compiled first, as an install leaves it.
Targets: cold and new at most 0.5x rss2email's CPU, 304 at most 0.5x its wall time, version at
most 150 ms, check at most 600 ms.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.polling import serve  # noqa: E402

R2E = shutil.which("r2e") or str(Path(sys.executable).with_name("r2e"))
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def timed(argv: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and CPU seconds (with every child it waited for) of one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=ENV, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def newsmonitor_setup(tmp: Path, base: str, feeds: int) -> list[str]:
    lines = [
        f'database: "sqlite:///{tmp / "nm.db"}"',
        # rss2email never reads article pages: neither does newsmonitor here.
        "fetch: {per_host: 16, allow_addresses: [127.0.0.1/32], full_text: never}",
        "channels:",
        '  console: {url: "console://"}',
        "watches:",
        "  - {name: none, query: 'zzqx AND qqzx', notify: [console]}",
        "sources:",
        *(f"  - {{name: f{i}, url: '{base}/feed{i}.xml'}}" for i in range(feeds)),
    ]
    (tmp / "nm.yaml").write_text("\n".join(lines) + "\n")
    return [sys.executable, "-m", "monitor", "-c", str(tmp / "nm.yaml"), "run", "--once"]


def r2e_setup(tmp: Path, base: str, feeds: int) -> list[str]:
    cfg, data = tmp / "r2e.cfg", tmp / "r2e.json"
    head = [R2E, "-c", str(cfg), "-d", str(data)]
    subprocess.run([*head, "new", "desk@example.com"], check=True, capture_output=True)
    with cfg.open("a") as out:
        for i in range(feeds):
            out.write(f"\n[feed.f{i}]\nurl = {base}/feed{i}.xml\n")
    return [*head, "run", "--no-send"]


def byte_compile() -> None:
    """Compile the package as `pip install` compiled rss2email's: a checkout run with
    PYTHONDONTWRITEBYTECODE set would otherwise compile every module at every start."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "monitor")], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--entries", type=int, default=50)
    parser.add_argument("--trials", type=int, default=3)
    args = parser.parse_args()
    byte_compile()
    here, there = multiprocessing.Pipe()
    server = multiprocessing.Process(target=serve, args=(there, args.feeds, args.entries))
    server.start()
    base = here.recv()
    runs: dict[tuple[str, str], list[tuple[float, float]]] = {}
    version = 0
    try:
        for trial in range(args.trials):
            with tempfile.TemporaryDirectory() as name:
                tmp = Path(name)
                tools = {
                    "rss2email": r2e_setup(tmp, base, args.feeds),
                    "newsmonitor": newsmonitor_setup(tmp, base, args.feeds),
                }
                for poll in ("cold", "new", "304"):
                    if poll == "new":
                        version += 1
                        here.send(version)
                        here.recv()
                    for tool, argv in tools.items():
                        runs.setdefault((tool, poll), []).append(timed(argv, tmp))
            print(f"trial {trial + 1} of {args.trials} done", file=sys.stderr)
    finally:
        here.send(None)
        server.join(10)
    med = {
        k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
        for k, v in runs.items()
    }
    print(f"{args.feeds} feeds of {args.entries} entries, medians of {args.trials} (wall / CPU, s)")
    print(f"{'poll':<6} {'rss2email':>16} {'newsmonitor':>16}   ratio (CPU; 304: wall)")
    for poll in ("cold", "new", "304"):
        (rw, rc), (nw, nc) = med[("rss2email", poll)], med[("newsmonitor", poll)]
        ratio = nw / rw if poll == "304" else nc / rc
        print(
            f"{poll:<6} {rw:7.2f} / {rc:6.2f} {nw:7.2f} / {nc:6.2f}   {ratio:.2f}x (target <= 0.5x)"
        )
    starts = {
        "newsmonitor version": [sys.executable, "-m", "monitor", "version"],
        "newsmonitor check": [
            sys.executable,
            "-m",
            "monitor",
            "-c",
            "config/monitor.yaml",
            "check",
        ],
        "r2e --version": [R2E, "--version"],
    }
    for label, argv in starts.items():
        samples = [timed(argv, ROOT) for _ in range(5)]
        wall = statistics.median(w for w, _ in samples)
        cpu = statistics.median(c for _, c in samples)
        print(f"{label:<20} wall {wall * 1000:6.0f} ms   CPU {cpu * 1000:6.0f} ms")


if __name__ == "__main__":
    main()
