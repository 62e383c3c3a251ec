"""The restart back-off and the duration helpers (node/backoff.py)."""

import pytest

from node.backoff import RestartBackoff, RetryDelay, go_duration, parse_duration


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def crash_loop(backoff, clock, crashes):
    """Crash ``crashes`` times at once after each allowed restart; return the waits."""
    waits = []
    for _ in range(crashes):
        finished = clock.now
        wait = 0.0
        if backoff.in_backoff_since("pod/c", finished):
            wait = backoff.remaining("pod/c", finished)
            clock.now += wait
        backoff.next("pod/c", finished)
        waits.append(wait)
    return waits


def test_first_restart_is_immediate_then_delays_double_to_the_cap():
    clock = FakeClock()
    backoff = RestartBackoff(10, 300, clock=clock)

    waits = crash_loop(backoff, clock, 8)

    assert waits == [0, 10, 20, 40, 80, 160, 300, 300]


def test_a_long_clean_run_resets_the_back_off():
    clock = FakeClock()
    backoff = RestartBackoff(10, 300, clock=clock)
    crash_loop(backoff, clock, 4)

    clock.now += 601  # ran cleanly for more than twice the cap

    assert not backoff.in_backoff_since("pod/c", clock.now)
    backoff.next("pod/c", clock.now)
    assert backoff.delay("pod/c") == 10


def test_forget_drops_a_pods_entries():
    clock = FakeClock()
    backoff = RestartBackoff(10, 300, clock=clock)
    crash_loop(backoff, clock, 2)

    backoff.forget("pod/")

    assert backoff.delay("pod/c") == 0.0


def test_retry_delays_grow_and_never_reach_zero():
    delay = RetryDelay(initial=0.2, cap=1.0)

    values = [delay() for _ in range(6)]

    assert all(v > 0 for v in values)
    assert values[-1] <= 1.2
    assert values[2] > values[0]


@pytest.mark.parametrize("seconds, text", [
    (10, "10s"), (20, "20s"), (80, "1m20s"), (160, "2m40s"), (300, "5m0s"),
    (0.2, "200ms"), (0, "0s"), (3725, "1h2m5s"), (1.5, "1.5s"),
], ids=["10s", "20s", "80s", "160s", "cap", "fraction", "zero", "hours", "half"])
def test_go_duration(seconds, text):
    assert go_duration(seconds) == text


@pytest.mark.parametrize("text, seconds", [
    ("10s", 10), ("1m30s", 90), ("200ms", 0.2), ("5m", 300), ("2.5", 2.5), ("1h", 3600),
], ids=["seconds", "minutes-seconds", "millis", "minutes", "bare", "hour"])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["x", "10x", "s"],
                         ids=["word", "unit", "no-number"])
def test_parse_duration_rejects_garbage(text):
    with pytest.raises(ValueError):
        parse_duration(text)
