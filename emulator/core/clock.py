"""Board clock: board time in nanoseconds since the last reset.

board time = monotonic wall time since reset - paused time + skipped idle time.
In ``skip`` idle mode the run loop calls :meth:`skip_to` to jump straight to the next
timer deadline instead of sleeping.
"""

from time import monotonic_ns


class BoardClock:
    def __init__(self):
        self._origin = monotonic_ns()
        self._paused_at = None
        self.skipped_ns = 0

    def reset(self):
        self._origin = monotonic_ns()
        self.skipped_ns = 0
        if self._paused_at is not None:
            self._paused_at = self._origin

    def now_ns(self):
        if self._paused_at is not None:
            return self._paused_at - self._origin
        return monotonic_ns() - self._origin

    def skip_to(self, board_ns):
        """Advance board time to *board_ns* at once (no-op if already past it)."""
        ahead = board_ns - self.now_ns()
        if ahead > 0:
            self._origin -= ahead
            self.skipped_ns += ahead

    def pause(self):
        if self._paused_at is None:
            self._paused_at = monotonic_ns()

    def resume(self):
        if self._paused_at is not None:
            self._origin += monotonic_ns() - self._paused_at
            self._paused_at = None

    @property
    def paused(self):
        return self._paused_at is not None

    def wall_delay_ns(self, board_ns):
        """Wall-clock nanoseconds until board time reaches *board_ns* (>= 0)."""
        return max(0, board_ns - self.now_ns())
