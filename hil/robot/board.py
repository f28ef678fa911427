from __future__ import annotations

from robot.api import logger
from robot.api.deco import keyword

from ..agent.client import AgentError
from ..console import ConsoleTimeout
from ..protocol import definition
from .timeouts import Timeout, secs

# The contract's enums, each a name -> value table; a name belongs to exactly one of them.
_ENUMS = (definition.UDPSOCKET_ERRORS, definition.UDPSOCKET_EVENTS, definition.ETHERNET_ERRORS,
          definition.TCPSOCKET_ERRORS, definition.TCPSOCKET_EVENTS, definition.DNS_ERRORS,
          definition.DNS_REPLIES)
_CONTRACT = {name: value for table in _ENUMS for name, value in table.items()}


def _enum_of(name: str) -> dict:
    return next(table for table in _ENUMS if name in table)


class BoardKeywords:
    """Board lifecycle, console, LEDs and device counters."""

    def __init__(self, lib):
        self.lib = lib

    def board(self, name=None):
        return self.lib.bench.board(name or None)

    @keyword
    def start_board(self, name: str | None = None):
        """Start board ``name`` (default: the bench's first target) and bring its network up.

        Returns the board's IP address.  Most keywords start the board on first use, so
        this is only needed to control when start-up happens (e.g. in a suite setup)."""
        b = self.board(name)
        logger.info(f"{b.name}: ready at {b.ip} ({b.serial_url})")
        return b.ip

    @keyword
    def start_board_with_image(self, image: str, name: str, profile: str = "default",
                               ip: str = "192.0.2.20", agent: bool = False):
        """Start another emulated board running ``image`` (a name from firmware/images.json
        such as ``udp_socket_example`` or ``echo_server``, or a path), built with
        ``profile``.  It is powered off when the test ends.

        Without ``agent``: the test sees the board through its console (`Wait For Line On
        Uart` with ``name=``) and the network; ``ip`` is the address the image is known to
        use (the example images' static address) and keywords with ``name=`` talk to it
        there.  With ``agent=True`` (the ``agent`` image, e.g. in another profile) the board
        answers the agent protocol like the bench's own targets, and its network comes up
        with the static address ``ip``."""
        bench = self.lib.bench
        board = bench.add_board(name, image, profile=profile, agent=bool(agent))
        self.lib.cleanups.append(lambda: bench.remove_board(name))
        if agent:
            board.configure_network(ip, netmask=bench.netmask, gateway=bench.host_ip,
                                    dns=bench.host_ip)
        else:
            board.set_address(ip)
        logger.info(f"{name}: {image} ({profile}) on {board.serial_url}")
        return name

    @keyword
    def stop_board(self, name: str | None = None):
        """Power the board off; the next keyword that needs it starts it again."""
        bench = self.lib.bench
        name = name or next(iter(bench.config.targets))
        board = bench.boards.pop(name, None)
        if board:
            board.stop()

    @keyword
    def reset_board(self, name: str | None = None, network: bool = True):
        """Hardware reset, wait for the agent, and bring the network up again.

        With ``network=False`` the board is left without an interface (no
        ``EthernetNetIf``), as an application before ``setup()``; `Start Board Network`
        brings it up later."""
        b = self.board(name)
        b.reset()
        if network:
            self.start_board_network(name)

    @keyword
    def start_board_network(self, name: str | None = None):
        """Create the board's ``EthernetNetIf`` with its static address and run ``setup()``."""
        b = self.board(name)
        return self.lib.bench.start_network(b)

    @keyword
    def wait_for_line_on_uart(self, pattern: str, timeout: Timeout = 5.0, regex: bool = False,
                              name: str | None = None):
        """Wait until the board prints a line containing ``pattern`` (a regular expression
        when ``regex=True``).  Each printed line satisfies one wait only (as in Renode)."""
        try:
            return self.board(name).console.wait_for_line(pattern, secs(timeout), regex)
        except ConsoleTimeout as exc:
            raise AssertionError(str(exc)) from None

    @keyword("Set LED")
    def set_led(self, led: int, on: bool = True, name: str | None = None):
        """Switch LED1..LED4 through the agent."""
        self.board(name).require_ready().request("LED_SET", led=int(led), on=int(bool(on)))

    @keyword("LED Should Be On")
    def led_should_be_on(self, led: int, name: str | None = None):
        """Check the LED as the board shows it (for the emulator: the GPIO pin state)."""
        state = self.board(name).leds()
        if not state[int(led) - 1]:
            raise AssertionError(f"LED{led} is off (LEDs: {state})")

    @keyword("LED Should Be Off")
    def led_should_be_off(self, led: int, name: str | None = None):
        """Fail if the LED is lit (see `LED Should Be On`)."""
        state = self.board(name).leds()
        if state[int(led) - 1]:
            raise AssertionError(f"LED{led} is on (LEDs: {state})")

    @keyword
    def get_device_counter(self, counter: str, name: str | None = None) -> int:
        """Read one device counter (e.g. ``eth_rx_runt``, ``udp_bad_checksum``)."""
        stats = self.board(name).require_ready().stats()
        if counter not in stats:
            raise AssertionError(f"no counter {counter!r}; known: {', '.join(stats)}")
        return stats[counter]

    @keyword
    def agent_should_answer(self, name: str | None = None):
        """Fail unless the agent answers a request now."""
        try:
            self.board(name).require_ready().request("ECHO", data=b"ping")
        except AgentError as exc:
            raise AssertionError(str(exc)) from None

    @keyword
    def send_raw_bytes_to_board(self, data: bytes | str, name: str | None = None):
        """Write bytes as they are on the board's serial link (garbage, broken frames).

        A string is taken as hexadecimal (``"00 01 ff"``)."""
        if isinstance(data, str):
            data = bytes.fromhex(data)
        self.board(name).require_ready().send_raw(data)

    @keyword
    def result_should_be(self, result, expected: str):
        """Compare a NetServices return value with a contract name or number.

        | ${rc}=    Bind UDP Socket    ${sock}    7
        | Result Should Be    ${rc}    UDPSOCKET_INUSE

        A failure names the value in the enum ``expected`` belongs to:
        ``expected UDPSOCKET_INUSE (-65531), got 0 (UDPSOCKET_OK)``.
        """
        if expected in _CONTRACT:
            want, names = _CONTRACT[expected], _enum_of(expected)
        else:
            want, names = int(expected), {}
        got = int(result)
        if got != want:
            # Name the value in the enum of the expected name: 0 is UDPSOCKET_OK beside
            # UDPSOCKET_INUSE, not "UDPSOCKET_OK or ETH_OK or DNS_PRTCL or ...".
            name = next((k for k, v in names.items() if v == got), None)
            raise AssertionError(f"expected {expected} ({want}), got {result}"
                                 + (f" ({name})" if name else ""))
