"""Crash safety with real processes: SIGKILL at random moments, the writer lock with
its pid, a full disk, and Ctrl-C. After each, the index holds exactly the articles of
its last commit, every command works, and the next run completes the work."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from search import store
from search.indexer import index_paths
from search.lock import lock_path
from tests.conftest import CORPUS, vntc_records

INTERRUPTED = "interrupted; the index is as it was before this run"


# --------------------------------------------------------------------------- helpers


def vnsearch_cmd(*args: object) -> list[str]:
    return [sys.executable, "-m", "search", *(str(a) for a in args)]


#: ``vnsearch`` whose commit lasts half a second (its merge policy waits first), so
#: that a signal sent when ``-v`` says "committing" lands inside the commit: merges
#: read through memory maps take milliseconds, less than the test's polling.
SLOW_COMMIT = """
import sys, time
import search.indexer as indexer
quick = indexer.merge_small
def merge_small(segments):
    policy = quick(segments)
    def slow(writer, existing):
        time.sleep(0.5)
        return policy(writer, existing)
    return slow
indexer.merge_small = merge_small
from search.cli import main_entry
sys.argv[0] = "vnsearch"
main_entry()
"""


def slow_commit_cmd(*args: object) -> list[str]:
    return [sys.executable, "-c", SLOW_COMMIT, *(str(a) for a in args)]


def start(*args: object, log: Path, env: dict | None = None,
          slow_commit: bool = False) -> subprocess.Popen:
    """``vnsearch ARGS`` in its own process group, stderr to *log*, with Ctrl-C's
    default disposition, as in a terminal's foreground job (a test suite started in
    the background, ``pytest &``, would hand down SIGINT ignored, and vnsearch
    rightly leaves an ignored SIGINT ignored)."""
    with log.open("wb") as fh:
        return subprocess.Popen(
            (slow_commit_cmd if slow_commit else vnsearch_cmd)(*args),
            stdout=subprocess.DEVNULL, stderr=fh,
            start_new_session=True, env=env or dict(os.environ),
            preexec_fn=_default_sigint,
        )


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def stages(log: Path) -> list[str]:
    """The stages ``vnsearch index -v`` has reported so far ("indexing", …)."""
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    return [line.split()[1].rstrip(":") for line in text.splitlines() if line[:2].isdigit()]


def wait_for(log: Path, stage: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while stage not in stages(log):
        assert proc.poll() is None, log.read_text(encoding="utf-8", errors="replace")
        assert time.monotonic() < deadline, f"no {stage!r} stage within {timeout} s"
        time.sleep(0.01)


def articles(index_dir: Path) -> dict[str, str]:
    """``id → digest of every stored field``: what the index holds, exactly."""
    with store.open_index(index_dir).searcher() as s:
        return {
            f["id"]: hashlib.sha1(repr(sorted(f.items())).encode()).hexdigest()
            for f in s.all_stored_fields()
        }


def litter(index_dir: Path) -> list[str]:
    """Files a finished run must not leave: Whoosh's temp dir, half-written TOCs or
    manifests, a staging or retired directory, the lock file."""
    names = [p.name for p in index_dir.iterdir()] if index_dir.is_dir() else []
    bad = [n for n in names if n == "MAIN.tmp" or ".toc." in n or n.endswith(".tmp")]
    for extra in (".building", ".old"):
        if index_dir.with_name(index_dir.name + extra).exists():
            bad.append(index_dir.name + extra)
    if lock_path(index_dir).exists():
        bad.append(lock_path(index_dir).name)
    return bad


def segment_files(index_dir: Path) -> set[str]:
    return {p.name for p in index_dir.iterdir() if p.name.startswith("MAIN_") and "." in p.name}


def check_usable(cli, index_dir: Path, expected: dict[str, str], query: str = "viet nam") -> None:
    """``stats`` counts what the index holds and ``search`` finds something."""
    stats = cli("stats", "--index", index_dir, "--json")
    assert stats.exit_code == 0, stats.output
    assert json.loads(stats.stdout)["documents"] == len(expected)
    found = cli("search", query, "--index", index_dir, "--json")
    assert found.exit_code == 0, found.output
    assert json.loads(found.stdout)["total"] > 0


def write_jsonl(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line if line.endswith("\n") else line + "\n" for line in lines),
                    encoding="utf-8")


def edited(line: str, n: int) -> str:
    record = json.loads(line)
    record["text"] += f" Bản sửa lần {n}: thêm một câu mới."
    return json.dumps(record, ensure_ascii=False)


# --------------------------------------------------------------------------- archives


@dataclass
class Archives:
    """The archives of the trials, on disk (cheap to make)."""

    root: Path
    archive: Path  # a directory holding vntc.jsonl: 1,000 records, then the next run's 1,160
    seeds: Path
    fresh: Path  # a small archive for --rebuild and disk-full runs (250 other records)
    first: list[str]  # the 1,000 records of the base index
    next: list[str]  # 31 of them changed, 40 deleted, 200 new


@dataclass
class Setup(Archives):
    """A base index (1,000 VNTC records + the seeds), and the archive already holding
    the next run's version (1,165 articles)."""

    base: Path  # the base index (copy it; never write to it)
    base_articles: dict[str, str]


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> Archives:
    root = tmp_path_factory.mktemp("crash")
    lines = vntc_records(1450)
    seeds = root / "seeds"
    shutil.copytree(CORPUS, seeds)
    nxt = [edited(line, i) if i % 33 == 5 else line
           for i, line in enumerate(lines[:1000]) if i % 25 != 3]
    write_jsonl(root / "fresh" / "fresh.jsonl", lines[1200:1450])
    return Archives(root, root / "vntc", seeds, root / "fresh", lines[:1000],
                    nxt + lines[1000:1200])


@pytest.fixture(scope="module")
def setup(archives: Archives) -> Setup:
    write_jsonl(archives.archive / "vntc.jsonl", archives.first)
    base = archives.root / "base-ix"
    summary = index_paths(base, [archives.archive, archives.seeds])
    assert summary.added == 1005 and not summary.failed
    write_jsonl(archives.archive / "vntc.jsonl", archives.next)
    return Setup(**vars(archives), base=base, base_articles=articles(base))


def copy_base(s: Setup, name: str) -> Path:
    target = s.root / "trials" / name
    shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(s.base, target)
    return target


# --------------------------------------------------------------------------- SIGKILL


@dataclass
class Kind:
    """One way of running ``vnsearch index`` in the trials."""

    name: str
    rebuild: bool
    procs: int

    def args(self, s: Setup, index_dir: Path) -> list[object]:
        paths = [s.fresh, s.seeds] if self.rebuild else [s.archive, s.seeds]
        extra = ["--rebuild"] if self.rebuild else []
        return ["index", *paths, "--index", index_dir, "--procs", self.procs, "-v", "-q", *extra]


@dataclass
class Calibration:
    """When each stage began in an uninterrupted run, and what it produced."""

    times: dict[str, float]
    end: float
    after: dict[str, str]


def calibrate(s: Setup, kind: Kind) -> Calibration:
    index_dir = copy_base(s, f"calibrate-{kind.name}")
    log = index_dir.with_name(index_dir.name + ".log")
    t0 = time.monotonic()
    proc = start(*kind.args(s, index_dir), log=log)
    times: dict[str, float] = {}
    while proc.poll() is None:
        for stage in stages(log):
            times.setdefault(stage, time.monotonic() - t0)
        time.sleep(0.005)
    end = time.monotonic() - t0
    assert proc.returncode == 0, log.read_text(encoding="utf-8")
    for stage in stages(log):
        times.setdefault(stage, end)
    assert not litter(index_dir)
    return Calibration(times, end, articles(index_dir))


def pick_moment(rng: random.Random, kind: Kind, cal: Calibration, n: int) -> tuple[str, float]:
    """Where to kill: a stage to wait for, then a random delay within that stage's
    calibrated length (stage-relative, so a loaded machine still hits the stage)."""
    order = ["start-up", "indexing", "committing", "committed"] + (
        ["swapping"] if kind.rebuild else [])
    begins = {"start-up": 0.0, **cal.times}
    stage = order[n % len(order)]
    later = [begins[s] for s in order if begins.get(s, cal.end) > begins[stage]]
    length = (min(later) if later else cal.end) - begins[stage]
    return stage, rng.uniform(0.05 if stage == "start-up" else 0.0, max(0.05, length))


def kill_in(proc: subprocess.Popen, log: Path, stage: str, delay: float) -> str:
    """SIGKILL *proc*'s group *delay* seconds into *stage*; the stage reached then
    ("exited" when the run ended first)."""
    while stage != "start-up" and stage not in stages(log) and proc.poll() is None:
        time.sleep(0.005)
    time.sleep(delay)
    if proc.poll() is not None:
        proc.wait()
        return "exited"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return (stages(log) or ["start-up"])[-1]


@pytest.mark.slow
def test_sigkill_at_random_moments_never_leaves_half_an_index(setup, cli, capsys) -> None:
    seed = int(os.environ.get("VNSEARCH_KILL_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    kinds = [Kind("procs1", False, 1), Kind("procs2", False, 2), Kind("rebuild", True, 1)]
    counts = {"procs1": 7, "procs2": 7, "rebuild": 6}
    cals = {k.name: calibrate(setup, k) for k in kinds}
    rows: list[tuple] = []
    for kind in kinds:
        cal = cals[kind.name]
        assert cal.after != setup.base_articles
        for n in range(counts[kind.name]):
            index_dir = copy_base(setup, f"{kind.name}-{n}")
            log = index_dir.with_name(index_dir.name + ".log")
            target, delay = pick_moment(rng, kind, cal, n)
            proc = start(*kind.args(setup, index_dir), log=log)
            phase = kill_in(proc, log, target, delay)
            moment = f"{target}+{delay:.2f}s"

            # The index opens and holds exactly its last commit: before or after the run.
            held = articles(index_dir)
            outcome = ("before" if held == setup.base_articles
                       else "after" if held == cal.after else "MIXED")
            assert outcome != "MIXED", (seed, kind.name, n, moment, phase)
            check_usable(cli, index_dir, held)
            stale = lock_path(index_dir).exists()

            # The next run completes it and clears what the killed one left.
            t_done = time.monotonic()
            done = cli(*kind.args(setup, index_dir))
            assert done.exit_code == 0, done.output
            assert ("cleared a stale lock" in done.stderr) == stale, done.stderr
            assert articles(index_dir) == cal.after
            assert not litter(index_dir), litter(index_dir)
            rows.append((kind.name, n, moment, phase, outcome,
                         "stale lock cleared" if stale else "-",
                         f"completed in {time.monotonic() - t_done:.1f}s"))
    with capsys.disabled():
        print(f"\nSIGKILL trials (seed {seed}; VNSEARCH_KILL_SEED={seed} repeats them)")
        for name, cal in cals.items():
            stage_times = ", ".join(f"{k} {v:.2f}s" for k, v in cal.times.items())
            print(f"  calibration {name}: {stage_times}, end {cal.end:.2f}s")
        print(f"  {'run':<8} {'#':>2} {'killed at':<18} {'phase reached':<13} "
              f"{'index held':<10} {'next run':<19} result")
        for name, n, moment, phase, outcome, stale, result in rows:
            print(f"  {name:<8} {n:>2} {moment:<18} {phase:<13} {outcome:<10} {stale:<19} "
                  f"{result}")
    assert len(rows) >= 20


# --------------------------------------------------------------------------- the lock


@pytest.mark.slow
def test_a_live_writer_stops_a_second_one_at_once(setup, tmp_path) -> None:
    """Two rebuilds at once: the second fails at once naming the first's pid, and the
    first (frozen meanwhile) still finishes: its staging directory was never touched."""
    index_dir = copy_base(setup, "live-lock")
    log = tmp_path / "first.log"
    first = start("index", setup.fresh, setup.seeds, "--index", index_dir, "--rebuild", "-v",
                  log=log)
    try:
        wait_for(log, "indexing", first)
        os.killpg(first.pid, signal.SIGSTOP)
        staged = index_dir.with_name(index_dir.name + ".building")
        assert staged.is_dir()
        for extra in ([], ["--rebuild"]):
            t0 = time.monotonic()
            second = subprocess.run(
                vnsearch_cmd("index", setup.seeds, "--index", index_dir, *extra),
                capture_output=True, text=True, timeout=60,
            )
            assert time.monotonic() - t0 < 10
            assert second.returncode == 1, second.stderr
            assert f"another vnsearch is indexing (pid {first.pid})" in second.stderr
            assert "Traceback" not in second.stderr and len(second.stderr.splitlines()) == 1
            assert staged.is_dir()
    finally:
        os.killpg(first.pid, signal.SIGCONT)
    assert first.wait(timeout=120) == 0, log.read_text(encoding="utf-8")
    assert len(articles(index_dir)) == 255 and not litter(index_dir)


@pytest.mark.slow
def test_a_dead_writers_lock_is_cleared_with_a_message(setup, tmp_path) -> None:
    index_dir = copy_base(setup, "stale-lock")
    log = tmp_path / "killed.log"
    victim = start("index", setup.archive, setup.seeds, "--index", index_dir, "-v", log=log)
    wait_for(log, "indexing", victim)
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait()
    assert lock_path(index_dir).read_text().strip() == str(victim.pid)
    after = subprocess.run(
        vnsearch_cmd("stats", "--index", index_dir), capture_output=True, text=True
    )
    assert after.returncode == 0  # readers never wait for the lock
    rerun = subprocess.run(
        vnsearch_cmd("index", setup.archive, setup.seeds, "--index", index_dir, "-q"),
        capture_output=True, text=True, timeout=300,
    )
    assert rerun.returncode == 0, rerun.stderr
    note = [line for line in rerun.stderr.splitlines() if "stale lock" in line]
    assert len(note) == 1 and f"pid {victim.pid}" in note[0] and "no longer running" in note[0]
    assert not litter(index_dir)


# --------------------------------------------------------------------------- a full disk


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 1.5 MB tmpfs: room for the seeds' index, not for 400 more articles."""
    mount = tmp_path / "disk"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1536k", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({made.stderr.strip()}): needs root")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.parametrize("rebuild", [False, True])
def test_a_full_disk_fails_with_one_line_and_keeps_the_index(
    archives, cli, small_disk, rebuild
) -> None:
    setup = archives
    index_dir = small_disk / "ix"
    assert cli("index", setup.seeds, "--index", index_dir, "-q").exit_code == 0
    before, files = articles(index_dir), sorted(p.name for p in index_dir.iterdir())
    extra = ["--rebuild"] if rebuild else []
    result = subprocess.run(
        vnsearch_cmd("index", setup.fresh, setup.seeds, "--index", index_dir, *extra),
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert (f"no space left on device while writing the index at '{index_dir}'; "
            f"the index is as it was") in lines[0]
    assert articles(index_dir) == before
    assert sorted(p.name for p in index_dir.iterdir()) == files
    assert sorted(p.name for p in small_disk.iterdir()) == ["ix"]  # no lock, no staging
    check_usable(cli, index_dir, before, query="dang vien")


def child_pids(pid: int) -> list[int]:
    """Processes whose parent is *pid* (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def gone(pids: list[int], timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not [p for p in pids if Path(f"/proc/{p}").exists()
                and "Z" not in Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1][:3]]:
            return True
        time.sleep(0.05)
    return False



def wait_for_workers(proc: subprocess.Popen, log: Path, n: int) -> list[int]:
    """Wait until the run has *n* writer processes, while it is still indexing."""
    deadline = time.monotonic() + 60
    while len(child_pids(proc.pid)) < n:
        assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
        time.sleep(0.01)
    assert stages(log)[-1] == "indexing", stages(log)
    return child_pids(proc.pid)

# --------------------------------------------------------------------------- Ctrl-C


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["incremental", "rebuild", "first run"])
def test_ctrl_c_stops_cleanly(setup, tmp_path, mode) -> None:
    """SIGINT to the whole process group, as a terminal sends it, with two writer
    processes: one line, exit 130, no worker traceback, nothing left behind."""
    if mode == "first run":
        index_dir = tmp_path / "new-ix"
        before = None
    else:
        index_dir = copy_base(setup, f"ctrl-c-{mode}")
        before = articles(index_dir)
        files = sorted(p.name for p in index_dir.iterdir())
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = dict(os.environ, TMPDIR=str(temp))
    log = tmp_path / "run.log"
    # Enough new articles that the run is still reading when its workers have started.
    paths = [setup.archive, setup.seeds] + ([setup.fresh] if mode == "incremental" else [])
    extra = ["--rebuild"] if mode == "rebuild" else []
    proc = start("index", *paths, "--index", index_dir, "--procs", 2, "-v", *extra, log=log,
                 env=env)
    wait_for_workers(proc, log, 1)
    os.killpg(proc.pid, signal.SIGINT)
    assert proc.wait(timeout=60) == 130, log.read_text(encoding="utf-8")
    errors = [line for line in log.read_text(encoding="utf-8").splitlines()
              if not line[:2].isdigit()]  # the -v stage lines aside
    assert len(errors) == 1 and errors[0].endswith(INTERRUPTED), errors
    assert "Traceback" not in log.read_text(encoding="utf-8")
    assert list(temp.iterdir()) == []
    assert not litter(index_dir)
    if mode == "first run":
        assert not index_dir.exists()
    else:
        assert articles(index_dir) == before
        assert sorted(p.name for p in index_dir.iterdir()) == files


@pytest.mark.slow
def test_ctrl_c_while_committing_lets_the_commit_finish(setup, tmp_path) -> None:
    """Stopping half-way through writing the table of contents is what must never
    happen: the commit completes, and the message says the index holds the run."""
    index_dir = copy_base(setup, "ctrl-c-commit")
    log = tmp_path / "run.log"
    proc = start("index", setup.archive, setup.seeds, "--index", index_dir, "--procs", 1, "-v",
                 log=log, slow_commit=True)
    wait_for(log, "committing", proc)
    os.killpg(proc.pid, signal.SIGINT)
    assert proc.wait(timeout=60) == 130
    text = log.read_text(encoding="utf-8")
    assert "interrupted after the commit: the index holds this run's changes" in text
    assert "Traceback" not in text
    assert len(articles(index_dir)) == 1165 and not litter(index_dir)


@pytest.mark.slow
def test_killing_only_the_parent_takes_its_workers_with_it(setup, tmp_path) -> None:
    """``kill -9 PID`` of the parent alone: its writer processes would wait on their
    job queue forever, holding the index's locks. They die with it, and the next
    run clears the stale lock and completes."""
    index_dir = copy_base(setup, "orphans")
    log = tmp_path / "run.log"
    args = ["index", setup.archive, setup.seeds, "--index", index_dir, "--rebuild"]
    proc = start(*args, "--procs", 2, "-v", log=log)
    workers = wait_for_workers(proc, log, 2)
    os.kill(proc.pid, signal.SIGKILL)  # the parent only, not the group
    proc.wait()
    try:
        assert gone(workers), f"orphaned workers still running: {workers}"
    finally:
        for pid in workers:  # never leave them behind, even when the test fails
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    assert articles(index_dir) == setup.base_articles
    rerun = subprocess.run(vnsearch_cmd(*args, "-q"), capture_output=True, text=True,
                           timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert "cleared a stale lock" in rerun.stderr and not litter(index_dir)
    assert len(articles(index_dir)) == 1165


@pytest.mark.slow
def test_sigterm_stops_like_ctrl_c(setup, tmp_path) -> None:
    """``kill PID`` (what ``timeout`` and service managers send) stops the run as
    cleanly as Ctrl-C, with exit code 143."""
    index_dir = copy_base(setup, "sigterm")
    before = articles(index_dir)
    log = tmp_path / "run.log"
    proc = start("index", setup.archive, setup.seeds, "--index", index_dir, "--rebuild",
                 "--procs", 2, "-v", log=log)
    workers = wait_for_workers(proc, log, 1)
    os.kill(proc.pid, signal.SIGTERM)
    assert proc.wait(timeout=60) == 143, log.read_text(encoding="utf-8")
    text = log.read_text(encoding="utf-8")
    assert INTERRUPTED in text and "Traceback" not in text
    assert gone(workers) and articles(index_dir) == before and not litter(index_dir)
