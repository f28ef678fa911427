"""Link impairment between the EMAC and the host link (our own netem: this machine's
kernel has no sch_netem, and board time is not the host's time anyway).

Two independent stages, one per direction: ``to_board`` (frames from the wire to the
board) and ``from_board`` (frames the board sends).  Each applies, in this order, to every
frame that enters it:

1. ``loss``      probability the frame is dropped;
2. ``duplicate`` probability the frame is sent twice (the copy takes steps 3-5 on its own);
3. ``corrupt``   probability one random bit is flipped past the 14-byte Ethernet header
                 (the FCS is then computed over the damaged frame: it looks good, as with
                 netem);
4. ``reorder``   probability the frame skips the delay and goes at once, overtaking the
                 frames still delayed (netem with gap 1; no effect without a delay);
5. ``delay_ms`` ± ``jitter_ms`` (uniform, never negative), then ``rate_kbps``: a frame
   leaves no earlier than the previous one's departure + its own length * 8 / rate.

Queued frames leave in order of their due time (frames with jitter larger than their
spacing change places, as with netem).  A stage holds at most :data:`QUEUE_FRAMES` frames
or :data:`QUEUE_BYTES` bytes; beyond that, frames are tail-dropped (``rate_dropped``).
Toward the board the machine stops reading the link instead while the queue is full, so
that direction drops nothing at the bound (frames wait in the kernel's socket buffer).

Random choices: each stage has its own ``random.Random`` seeded from (seed, direction),
so the two directions differ and the same seed with the same frames gives the same
decisions.  A draw is made only for an option that is set.

Link flapping (:class:`Flap`): down ``down_ms``, up ``up_ms``, ``count`` cycles (None =
until stopped); starts with the link going down.  While down the PHY reports no link and
every frame that enters a stage or leaves its queue is dropped (``link_down_dropped``).

Everything runs on board time: :class:`LinkImpairment` is one of the machine's timed
participants (``next_event_ns``/``update``), so idle skipping never jumps past a frame's
due time or a flap edge, and frames are delivered on time while the guest sleeps.
"""

import heapq
import logging
import math
import random

log = logging.getLogger("emulator")

DIRECTIONS = ("to_board", "from_board")
PROBABILITIES = ("loss", "duplicate", "corrupt", "reorder")
OPTIONS = ("loss", "delay_ms", "jitter_ms", "reorder", "duplicate", "corrupt", "rate_kbps", "seed")
COUNTERS = ("frames", "dropped", "duplicated", "reordered", "corrupted", "delayed",
            "rate_dropped", "link_down_dropped")
QUEUE_FRAMES = 100
QUEUE_BYTES = 64 * 1024
ETH_HEADER = 14


class ImpairError(ValueError):
    """A bad impairment request; the message is one line naming the option."""


def _number(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ImpairError(f"impair option {name!r} must be a number, not {value!r}")
    if not math.isfinite(value):
        raise ImpairError(f"impair option {name!r} must be a finite number")
    return value


def validate(options):
    """Check one direction's options (a dict without "direction"); returns the complete
    settings dict (omitted options = 0).  Raises :class:`ImpairError`."""
    settings = dict.fromkeys(OPTIONS, 0)
    for name, value in options.items():
        if name not in OPTIONS:
            raise ImpairError(f"unknown impair option {name!r} (known: direction, "
                              f"{', '.join(OPTIONS)})")
        if name == "seed":
            if isinstance(value, bool) or not isinstance(value, int):
                raise ImpairError(f"impair option 'seed' must be an integer, not {value!r}")
            settings[name] = value
            continue
        value = _number(name, value)
        if name in PROBABILITIES and not 0 <= value <= 1:
            raise ImpairError(f"impair option {name!r} is a probability: 0..1, not {value!r}")
        if value < 0:
            raise ImpairError(f"impair option {name!r} must be >= 0, not {value!r}")
        settings[name] = value
    if settings["jitter_ms"] > settings["delay_ms"]:
        raise ImpairError(f"impair option 'jitter_ms' ({settings['jitter_ms']!r}) must not "
                          f"exceed 'delay_ms' ({settings['delay_ms']!r})")
    return settings


def parse_request(req):
    """``{"direction": ..., option: value, ...}`` -> (directions tuple, settings).
    Keys other than the options and "direction" are errors (the caller removes "cmd")."""
    opts = dict(req)
    direction = opts.pop("direction", "both")
    if direction == "both":
        dirs = DIRECTIONS
    elif direction in DIRECTIONS:
        dirs = (direction,)
    else:
        raise ImpairError(f"impair option 'direction' must be \"to_board\", \"from_board\" "
                          f"or \"both\", not {direction!r}")
    return dirs, validate(opts)


def parse_cli(text):
    """``"loss=0.1,delay_ms=5,direction=both,seed=1"`` -> (directions, settings)."""
    return parse_request(_cli_items(text, "--impair"))


def _cli_items(text, what):
    req = {}
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            raise ImpairError(f"{what} item {item!r} is not NAME=VALUE")
        if key == "direction":
            req[key] = value
            continue
        try:
            req[key] = int(value)
        except ValueError:
            try:
                req[key] = float(value)
            except ValueError:
                req[key] = value        # the validation names it
    return req


def parse_cli_flap(text):
    """``"down_ms=200,up_ms=800,count=3"`` -> (down_ms, up_ms, count or None)."""
    return validate_flap(_cli_items(text, "--flap"))


def validate_flap(req):
    """``{"down_ms", "up_ms", "count"?}`` -> (down_ms, up_ms, count or None: forever)."""
    for key in req:
        if key not in ("down_ms", "up_ms", "count"):
            raise ImpairError(f"unknown flap option {key!r} (known: down_ms, up_ms, count, stop)")
    for key in ("down_ms", "up_ms"):
        if key not in req:
            raise ImpairError(f"flap needs {key!r} (milliseconds > 0) or \"stop\": true")
        value = req[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value) or value <= 0:
            raise ImpairError(f"flap option {key!r} must be a number > 0, not {value!r}")
    count = req.get("count")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 0):
        raise ImpairError(f"flap option 'count' must be an integer >= 0 (0: until stopped), "
                          f"not {count!r}")
    return req["down_ms"], req["up_ms"], count or None


class ImpairStage:
    """One direction.  :meth:`offer` takes a frame in; :meth:`pop_due` hands frames out."""

    def __init__(self, direction, settings=None):
        self.direction = direction
        self.counters = dict.fromkeys(COUNTERS, 0)
        self._queue = []            # heap of (due_ns, seq, frame)
        self._seq = 0
        self._bytes = 0
        self._last_departure = 0
        self.configure(settings or validate({}))

    def configure(self, settings):
        self.settings = dict(settings)
        s = self.settings
        self.rng = random.Random(f"{s['seed']}:{self.direction}")
        self._delay_ns = int(s["delay_ms"] * 1e6)
        self._jitter_ns = int(s["jitter_ms"] * 1e6)
        self._ns_per_byte = 8e6 / s["rate_kbps"] if s["rate_kbps"] else 0.0

    @property
    def active(self):
        """Settings that do something, or frames still queued."""
        s = self.settings
        return bool(self._queue) or any(s[k] for k in OPTIONS if k != "seed")

    def __len__(self):
        return len(self._queue)

    def has_room(self):
        return len(self._queue) < QUEUE_FRAMES and self._bytes < QUEUE_BYTES

    # -- in ----------------------------------------------------------------------------
    def offer(self, frame, now_ns, link_up=True):
        c = self.counters
        c["frames"] += 1
        if not link_up:
            c["link_down_dropped"] += 1
            return
        s, rng = self.settings, self.rng
        if s["loss"] and rng.random() < s["loss"]:
            c["dropped"] += 1
            return
        copies = 1
        if s["duplicate"] and rng.random() < s["duplicate"]:
            c["duplicated"] += 1
            copies = 2
        for _ in range(copies):
            self._one(frame, now_ns)

    def _one(self, frame, now_ns):
        s, rng, c = self.settings, self.rng, self.counters
        if s["corrupt"] and rng.random() < s["corrupt"] and len(frame) > ETH_HEADER:
            frame = bytearray(frame)
            bit = rng.randrange((len(frame) - ETH_HEADER) * 8)
            frame[ETH_HEADER + bit // 8] ^= 1 << (bit % 8)
            frame = bytes(frame)
            c["corrupted"] += 1
        if not self.has_room():
            c["rate_dropped"] += 1
            return
        if s["reorder"] and rng.random() < s["reorder"]:
            c["reordered"] += 1
            due = now_ns
        else:
            delay = self._delay_ns
            if self._jitter_ns:
                delay += rng.randint(-self._jitter_ns, self._jitter_ns)
            due = now_ns + max(0, delay)
            if self._ns_per_byte:
                due = max(due, self._last_departure) + int(len(frame) * self._ns_per_byte)
                self._last_departure = due
            if due > now_ns:
                c["delayed"] += 1
        self._seq += 1
        self._bytes += len(frame)
        heapq.heappush(self._queue, (due, self._seq, frame))

    # -- out ---------------------------------------------------------------------------
    def next_due_ns(self):
        return self._queue[0][0] if self._queue else None

    def pop_due(self, now_ns):
        """The next frame due at *now_ns*, or None."""
        q = self._queue
        if q and q[0][0] <= now_ns:
            frame = heapq.heappop(q)[2]
            self._bytes -= len(frame)
            return frame
        return None

    def make_all_due(self, now_ns):
        """Every queued frame due now, order kept (``clear``)."""
        self._queue = [(min(due, now_ns), seq, f) for due, seq, f in sorted(self._queue)]
        heapq.heapify(self._queue)
        self._last_departure = 0

    def shift(self, delta_ns):
        """Board time was reset: keep the remaining delays."""
        self._queue = [(due + delta_ns, seq, f) for due, seq, f in self._queue]
        heapq.heapify(self._queue)
        self._last_departure = max(0, self._last_departure + delta_ns)

    def status(self):
        return {**self.settings, "queued": len(self._queue), "counters": dict(self.counters)}


class Flap:
    """Link down ``down_ms``, up ``up_ms``, ``count`` times (None: until stopped)."""

    def __init__(self, down_ms, up_ms, count, now_ns):
        self.down_ms, self.up_ms, self.count = down_ms, up_ms, count
        self.down_ns, self.up_ns = int(down_ms * 1e6), int(up_ms * 1e6)
        self.link_up = False
        self.cycles_done = 0
        self.next_ns = now_ns + self.down_ns

    @property
    def finished(self):
        return self.count is not None and self.cycles_done >= self.count

    def advance(self, now_ns):
        """Apply every edge due by *now_ns*; returns True if the link state changed."""
        before = self.link_up
        while not self.finished and self.next_ns <= now_ns:
            if self.link_up:
                self.link_up = False
                self.next_ns += self.down_ns
            else:
                self.link_up = True
                self.cycles_done += 1
                self.next_ns += self.up_ns
        return self.link_up != before

    def next_event_ns(self):
        return None if self.finished else self.next_ns

    def status(self, now_ns):
        return {"down_ms": self.down_ms, "up_ms": self.up_ms, "count": self.count,
                "cycles_done": self.cycles_done, "link_up": self.link_up,
                "next_change_us": (None if self.finished
                                   else max(0, self.next_ns - now_ns) // 1000)}


class LinkImpairment:
    """The machine's impairment stage: both directions and the flap schedule, a timed
    participant of the run loop.  Wired between EMAC and link only while it has something
    to do (:meth:`Machine._wire_link` swaps the callbacks); otherwise frames take the
    machine's plain path and this object costs nothing."""

    def __init__(self, machine):
        self.m = machine
        self.stages = {d: ImpairStage(d) for d in DIRECTIONS}
        self.flap = None
        self._pumping = False

    @property
    def active(self):
        return self.flap is not None or any(s.active for s in self.stages.values())

    def link_up(self):
        return self.flap is None or self.flap.link_up

    # -- control ---------------------------------------------------------------------------
    def configure(self, directions, settings):
        for d in directions:
            self.stages[d].configure(settings)

    def start_flap(self, down_ms, up_ms, count):
        self.flap = Flap(down_ms, up_ms, count, self.m.clock.now_ns())
        self.apply_phy()

    def stop_flap(self):
        self.flap = None
        self.apply_phy()

    def clear(self):
        """No impairment, no flapping, link up; frames still queued leave at once, in
        order.  Returns the status before."""
        before = self.status()
        self.flap = None
        now = self.m.clock.now_ns()
        for stage in self.stages.values():
            stage.configure(validate({}))
            stage.make_all_due(now)
        self.apply_phy()
        self.update(now)
        for stage in self.stages.values():
            stage.counters = dict.fromkeys(COUNTERS, 0)
        return before

    def apply_phy(self):
        emac = self.m.emac
        if emac is not None:
            emac.phy.link_up = self.link_up()

    def settings(self):
        return {d: dict(s.settings) for d, s in self.stages.items()}

    def status(self):
        st = {d: s.status() for d, s in self.stages.items()}
        st["flap"] = self.flap.status(self.m.clock.now_ns()) if self.flap else None
        return st

    def shift(self, delta_ns):
        for stage in self.stages.values():
            stage.shift(delta_ns)
        if self.flap is not None:
            self.flap.next_ns += delta_ns

    # -- frames ---------------------------------------------------------------------------
    def from_board(self, frame):
        """EMAC tx_sink while impaired (after the machine wrote the pcap)."""
        m = self.m
        now = m.clock.now_ns()
        self.stages["from_board"].offer(frame, now, self.link_up())
        self._send_due(now)

    def to_board(self, frame):
        """Link on_frame while impaired."""
        now = self.m.clock.now_ns()
        self.stages["to_board"].offer(frame, now, self.link_up())
        self.pump()

    def can_read(self):
        """Link can_receive while impaired: the queue toward the board has room."""
        return self.stages["to_board"].has_room()

    def _send_due(self, now):
        stage = self.stages["from_board"]
        frame = stage.pop_due(now)
        while frame is not None:
            if not self.link_up():
                stage.counters["link_down_dropped"] += 1
            else:
                self.m.send_to_wire(frame)
            frame = stage.pop_due(now)

    def pump(self):
        """Deliver the frames due toward the board while the EMAC has room, then read the
        link again if it was held for a full queue (also the EMAC's on_rx_space)."""
        if self._pumping:
            return
        self._pumping = True
        try:
            m = self.m
            stage = self.stages["to_board"]
            for _ in range(8):
                now = m.clock.now_ns()
                emac = m.emac
                while stage.next_due_ns() is not None and stage.next_due_ns() <= now:
                    if not self.link_up():
                        stage.pop_due(now)
                        stage.counters["link_down_dropped"] += 1
                        continue
                    if emac is not None and not emac.can_receive():
                        break
                    m.deliver_to_board(stage.pop_due(now))
                link = m.link
                if link is None or not link.held or not stage.has_room():
                    break
                link.release()              # reads more; offers come back here (guarded)
        finally:
            self._pumping = False
        if not self.active:
            m.unwire_impairment()

    # -- timed participant --------------------------------------------------------------------
    def next_event_ns(self):
        nearest = None
        if self.flap is not None:
            nearest = self.flap.next_event_ns()
        t = self.stages["from_board"].next_due_ns()
        if t is not None and (nearest is None or t < nearest):
            nearest = t
        stage = self.stages["to_board"]
        link = self.m.link
        if link is not None and link.held and stage.has_room():
            return self.m.clock.now_ns()     # read the link again (pump)
        t = stage.next_due_ns()
        if t is not None and (nearest is None or t < nearest):
            emac = self.m.emac
            # a due frame waiting for a descriptor is the EMAC's to wake (on_rx_space)
            if t > self.m.clock.now_ns() or emac is None or emac.can_receive():
                nearest = t
        return nearest

    def update(self, now_ns):
        if self.flap is not None:
            if self.flap.advance(now_ns):
                self.apply_phy()
                log.debug("flap: link %s", "up" if self.flap.link_up else "down")
            if self.flap.finished:
                self.flap = None
                self.apply_phy()
        self._send_due(now_ns)
        self.pump()

    def rebase(self, now_ns):
        """The CPU clock changes: nothing to do, the stage counts board time only."""
