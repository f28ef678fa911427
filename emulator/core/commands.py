"""The control channel's command table, built from its one definition
(:mod:`benchwire.control`, shared with ``hil``).

An unknown command or a bad argument is refused from the definition before any handler
runs; a handler gets the checked arguments and answers with the command's reply fields.
Every command in the definition has a handler here and there is none without one
(:meth:`ControlCommands.__init__` checks both).
"""

from benchwire.control import COMMANDS, ControlRequestError, check_request

from .impair import ImpairError, parse_request, validate_flap
from .loader import ImageError


class ControlCommands:
    """``handle(request) -> reply`` for one machine (``ControlServer``'s handler)."""

    def __init__(self, machine):
        self.m = machine
        self.table = {name: getattr(self, f"cmd_{name}", None) for name in COMMANDS}
        missing = [n for n, fn in self.table.items() if fn is None]
        extra = [n[4:] for n in dir(self) if n.startswith("cmd_") and n[4:] not in COMMANDS]
        if missing or extra:
            raise RuntimeError(f"control commands and their definition differ: "
                               f"without handler {missing}, not defined {extra}")

    def handle(self, req):
        try:
            cmd, args = check_request(req)
        except ControlRequestError as e:
            return {"ok": False, "error": str(e)}
        if self.m.pcap is not None:
            self.m.pcap.flush()  # whoever asks sees every frame so far in the file
        return self.table[cmd.name](**args)

    # -- one handler per command of benchwire.control.COMMANDS --------------------------------
    def cmd_status(self):
        return self.m.status()

    def cmd_leds(self):
        return {"ok": True, "leds": self.m.leds()}

    def cmd_reset(self):
        try:
            self.m.reset()
        except ImageError as e:
            return {"ok": False, "error": str(e)}
        return {"ok": True}

    def cmd_stop(self):
        self.m.stop_requested = True
        self.m.exit_code = 0
        return {"ok": True}

    def cmd_idle(self, mode, grace_us=None):
        runner = self.m.runner
        if grace_us is not None:
            runner.skip_grace_s = grace_us / 1e6
        runner.idle_mode = mode
        return {"ok": True, "mode": mode}

    def cmd_pause(self):
        self.m.clock.pause()
        return {"ok": True}

    def cmd_resume(self):
        self.m.clock.resume()
        return {"ok": True}

    def cmd_inject(self, frame, fcs="good"):
        # Wire-level faults no host NIC can send: runts, bad FCS, giant frames.
        m = self.m
        if m.emac is None:
            return {"ok": False, "error": "this board has no Ethernet"}
        data = bytes.fromhex(frame)
        if not data:
            return {"ok": False, "error": 'inject needs a non-empty "frame"'}
        if m.pcap is not None:
            m.pcap.write(data)
        return {"ok": True, "outcome": m.emac.receive(data, fcs_ok=(fcs == "good"), as_is=True)}

    def cmd_impair(self, clear=False, **opts):
        m = self.m
        error = m.no_link_error()
        if error:
            return {"ok": False, "error": error}
        if clear:
            return {"ok": True, "impair": m.clear_impairment()}
        try:
            directions, settings = parse_request(opts)
        except ImpairError as e:
            return {"ok": False, "error": str(e)}
        m.set_impairment(directions, settings)
        return {"ok": True, "impair": m.impair.status()}

    def cmd_flap(self, stop=False, **opts):
        m = self.m
        error = m.no_link_error()
        if error:
            return {"ok": False, "error": error}
        if stop:
            return {"ok": True, "impair": m.stop_flap()}
        try:
            down_ms, up_ms, count = validate_flap(opts)
        except ImpairError as e:
            return {"ok": False, "error": str(e)}
        m.start_flap(down_ms, up_ms, count)
        return {"ok": True, "impair": m.impair.status()}

    def cmd_link(self, up):
        if self.m.emac is None:
            return {"ok": False, "error": "this board has no Ethernet"}
        self.m.emac.phy.link_up = up
        return {"ok": True}
