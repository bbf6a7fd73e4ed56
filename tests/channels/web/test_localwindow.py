"""The in-process sliding-window counter: a burst, then the budget back gradually, idle keys dropped."""

from __future__ import annotations

from bot.channels.web.localwindow import SlidingWindows


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_the_burst_is_allowed_then_refused_until_the_window_ends() -> None:
    clock = Clock(1000.0)  # the start of a 10 s window
    windows = SlidingWindows(limit=4, expiry=10, clock=clock)
    assert [windows.hit("c_1") for _ in range(4)] == [0.0] * 4
    clock.now = 1004.0
    assert windows.hit("c_1") == 6.0  # nothing came before this window: room once it ends
    assert windows.hit("c_2") == 0.0  # another key has its own budget


def test_the_previous_window_counts_by_how_much_of_it_still_overlaps() -> None:
    clock = Clock(1000.0)
    windows = SlidingWindows(limit=4, expiry=10, clock=clock)
    for _ in range(4):
        assert windows.hit("c_1") == 0.0
    clock.now = 1012.5  # a quarter into the next window: the last one weighs 4 * 0.75 = 3
    assert windows.hit("c_1") == 0.0  # floor(3) + 1 <= 4
    # 3 + 1 = 4 now: the next one waits until one of the last window's requests slides out
    # (every 10/4 = 2.5 s), i.e. 7.5 s % 2.5 s = 0 -> the smallest wait.
    assert windows.hit("c_1") == 0.001
    clock.now = 1013.0  # 4 * 0.7 + 1 = 3.8: room for one more
    assert windows.hit("c_1") == 0.0
    assert windows.hit("c_1") > 0


def test_a_key_idle_for_two_windows_is_forgotten() -> None:
    clock = Clock(1000.0)
    windows = SlidingWindows(limit=1, expiry=10, clock=clock)
    windows.hit("198.51.100.1")
    windows.hit("198.51.100.2")
    clock.now = 1010.0  # the next window: both still weigh on their budget
    assert windows.hit("198.51.100.1") > 0
    assert len(windows) == 2
    clock.now = 1025.0  # two windows after 198.51.100.2's last request
    assert windows.hit("198.51.100.3") == 0.0
    assert len(windows) == 2  # .2 is gone, .1 (last seen in the window before) stays for now
    assert windows.hit("198.51.100.2") == 0.0  # and starts afresh
