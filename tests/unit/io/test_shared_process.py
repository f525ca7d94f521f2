"""The one reference-counted helper for a shared process (gaptools.io.shared.Shared): started once
however many users arrive at once, stopped at the last release, and a start that fails counts no one."""
import threading
import time

import pytest

from gaptools.io.shared import Shared


class Recorder:
    """Starts and stops numbered things, recording each event (and how many are running at once)."""

    def __init__(self, fail_first: int = 0, slow: float = 0.0):
        self.lock = threading.Lock()
        self.events: list[tuple[str, int]] = []
        self.running: set[int] = set()
        self.most_at_once = 0
        self.fail_first, self.slow = fail_first, slow

    def start(self) -> int:
        time.sleep(self.slow)  # a slow start: other threads arrive meanwhile
        with self.lock:
            n = len([e for e in self.events if e[0] in ("start", "failed")]) + 1
            if n <= self.fail_first:
                self.events.append(("failed", n))
                raise OSError(f"could not start {n}")
            self.events.append(("start", n))
            self.running.add(n)
            self.most_at_once = max(self.most_at_once, len(self.running))
            return n

    def stop(self, n: int) -> None:
        with self.lock:
            self.events.append(("stop", n))
            self.running.remove(n)


def test_many_threads_at_once_share_one_thing_stopped_at_the_last_release():
    rec = Recorder(slow=0.05)
    shared = Shared(rec.start, rec.stop)
    gate = threading.Barrier(16)
    got, inside = [], threading.Event()
    release_all = threading.Event()

    def user():
        gate.wait()  # all 16 ask at the same moment, while the first start is still sleeping
        with shared.use() as thing:
            got.append(thing)
            if len(got) == 16:
                inside.set()
            release_all.wait(5)

    threads = [threading.Thread(target=user) for _ in range(16)]
    for t in threads:
        t.start()
    assert inside.wait(5)
    assert shared.users == 16 and rec.events == [("start", 1)] and shared.peek() == 1
    release_all.set()
    for t in threads:
        t.join()
    assert got == [1] * 16
    assert rec.events == [("start", 1), ("stop", 1)]  # started once, stopped once, after the last user
    assert shared.users == 0 and shared.peek() is None and not rec.running


def test_acquire_and_release_from_threads_in_any_interleaving_never_leave_it_running_or_double_started():
    rec = Recorder()
    shared = Shared(rec.start, rec.stop)
    rounds = 200

    def user():
        for _ in range(rounds):
            with shared.use() as thing:
                assert thing in rec.running  # what a user holds is never stopped under it

    threads = [threading.Thread(target=user) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    starts = [n for e, n in rec.events if e == "start"]
    stops = [n for e, n in rec.events if e == "stop"]
    assert starts == sorted(stops) and 1 <= len(starts) <= 8 * rounds
    # stop runs outside the lock, so a new one may start while the old one is closing: at most two
    assert rec.most_at_once <= 2
    assert shared.users == 0 and shared.peek() is None and not rec.running


def test_nested_users_share_it_and_only_the_outermost_release_stops_it():
    rec = Recorder()
    shared = Shared(rec.start, rec.stop)
    with shared.use() as outer:
        with shared.use() as inner:
            assert inner == outer == 1 and shared.users == 2
        assert rec.events == [("start", 1)] and shared.peek() == 1
    assert rec.events == [("start", 1), ("stop", 1)]
    with shared.use() as again:  # a later use starts a new one
        assert again == 2
    assert rec.events[-2:] == [("start", 2), ("stop", 2)]


def test_a_start_that_fails_counts_no_user_and_the_next_use_tries_again():
    rec = Recorder(fail_first=2)
    shared = Shared(rec.start, rec.stop)
    for _ in range(2):
        with pytest.raises(OSError, match="could not start"):
            shared.acquire()
        assert shared.users == 0 and shared.peek() is None
    with pytest.raises(RuntimeError, match="released more often"):
        shared.release()  # nothing was counted, so there is nothing to release
    with shared.use() as thing:
        assert thing == 3 and shared.users == 1
    assert rec.events == [("failed", 1), ("failed", 2), ("start", 3), ("stop", 3)]


def test_a_start_that_fails_under_many_threads_leaks_no_count():
    rec = Recorder(fail_first=1, slow=0.02)
    shared = Shared(rec.start, rec.stop)
    gate = threading.Barrier(6)
    outcomes = []

    def user():
        gate.wait()
        try:
            with shared.use() as thing:
                outcomes.append(thing)
        except OSError:
            outcomes.append("failed")

    threads = [threading.Thread(target=user) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("failed") == 1 and len(outcomes) == 6  # one failed start, the others got one
    assert shared.users == 0 and shared.peek() is None and not rec.running


def test_get_keeps_it_without_a_count_until_counted_users_come_and_go():
    rec = Recorder()
    shared = Shared(rec.start, rec.stop)
    assert shared.peek() is None and rec.events == []  # peek starts nothing
    assert shared.get() == 1 and shared.get() == 1 and shared.users == 0
    assert rec.events == [("start", 1)]  # kept (a Dask worker between tasks)
    with shared.use() as thing:
        assert thing == 1
    assert rec.events == [("start", 1), ("stop", 1)]
