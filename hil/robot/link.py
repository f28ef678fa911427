from __future__ import annotations

import os

from robot.api import logger
from robot.api.deco import keyword
from robot.libraries.BuiltIn import BuiltIn

from ..impairment import Flap, Impairment, ImpairmentError, parse_direction, parse_seed, seed_for


class LinkKeywords:
    """A lossy, slow, reordering or flapping wire between the board and the bench.

    Impairment lasts until `Clear Board Link Impairment` or the end of the test, whichever
    comes first: it never leaks into the next test.  Random choices (which frame is lost,
    duplicated, reordered, how much jitter) come from a seed: by default one derived from
    the test's full name (and ``HIL_SEED`` when set), so a failing run repeats exactly;
    the seed is logged, and ``seed=`` sets it."""

    def __init__(self, lib):
        self.lib = lib
        self._armed: set[str] = set()     # boards whose impairment is cleared at test end

    def _arm_cleanup(self, board):
        if board.name in self._armed:
            return

        def clear():
            self._armed.discard(board.name)
            counters = board.clear_link_impairment()
            if counters:
                logger.info(f"link impairment on {board.name} cleared: {counters}")
        self._armed.add(board.name)
        self.lib.cleanups.append(clear)

    def _seed(self, seed) -> int:
        if seed not in (None, ""):
            return parse_seed(seed)
        label = BuiltIn().get_variable_value("${TEST NAME}") or \
            BuiltIn().get_variable_value("${SUITE NAME}") or "hil"
        suite = BuiltIn().get_variable_value("${SUITE NAME}") or ""
        return seed_for(f"{suite}.{label}", os.environ.get("HIL_SEED"))

    @keyword("Impair Board Link")
    def impair_board_link(self, loss="0", delay="0", jitter="0", reorder="0", duplicate="0",
                          corrupt="0", rate=None, direction: str = "both", seed=None,
                          name: str | None = None) -> int:
        """Impair the board's Ethernet in ``direction`` (``both``, ``to_board`` or
        ``from_board``); returns the seed used.

        | ``loss``      | share of frames dropped (``10%`` or ``0.1``) |
        | ``delay``     | added latency (``5ms``), with ``jitter`` (``2ms``: uniform ±2 ms) |
        | ``reorder``   | share of frames sent at once, overtaking delayed ones (needs a delay) |
        | ``duplicate`` | share of frames sent twice |
        | ``corrupt``   | share of frames with one bit flipped past the Ethernet header |
        | ``rate``      | a bit-rate limit (``512kbit``, ``10 Mbit/s``); frames queue behind it |

        A call replaces what was set before for the direction(s) it names.  Every option is
        checked before anything changes; an unknown or impossible one fails at once.

        | Impair Board Link | loss=10% | delay=5ms | jitter=2ms | reorder=25% | duplicate=2% |
        """
        try:
            imp = Impairment.parse(loss, delay, jitter, reorder, duplicate, corrupt, rate)
            where = parse_direction(direction)
            seed_ = self._seed(seed)
        except ImpairmentError as exc:
            raise AssertionError(f"cannot impair the link: {exc}") from None
        board = self.lib.bench.board(name or None)
        self._arm_cleanup(board)
        board.impair_link(where, imp, seed_)
        logger.info(f"link of {board.name} ({where}): {imp.describe()}; seed {seed_}")
        return seed_

    @keyword("Flap Board Link")
    def flap_board_link(self, down, up, count: int = 0, name: str | None = None):
        """Take the board's link down for ``down`` and up for ``up`` (board time), ``count``
        times or, with 0, until cleared.  While down the board's PHY reports no link and
        frames in both directions are lost, as with a cable that is pulled and plugged."""
        try:
            flap = Flap.parse(down, up, count)
        except ImpairmentError as exc:
            raise AssertionError(f"cannot flap the link: {exc}") from None
        board = self.lib.bench.board(name or None)
        self._arm_cleanup(board)
        board.flap_link(flap)
        logger.info(f"link of {board.name} flaps: {flap.down_ms:g} ms down, {flap.up_ms:g} ms "
                    f"up, {flap.count or 'until cleared'} times")

    @keyword("Clear Board Link Impairment")
    def clear_board_link_impairment(self, name: str | None = None) -> dict:
        """A clean, steady link again; returns (and logs) the counters of what the
        impairment did: frames dropped, duplicated, reordered, corrupted, delayed."""
        board = self.lib.bench.board(name or None)
        counters = board.clear_link_impairment()
        logger.info(f"link impairment on {board.name} cleared: {counters}")
        return counters

    @keyword("Board Link Impairment")
    def board_link_impairment(self, name: str | None = None) -> dict:
        """The impairment in force on the board's link and its counters, per direction
        (``to_board``, ``from_board``, and ``flap``)."""
        return self.lib.bench.board(name or None).link_impairment()
