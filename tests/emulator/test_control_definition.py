"""The control channel has one definition (benchwire.control) that the emulator serves in
full: every command in it is answered with its reply fields, none outside it is, and a
request the definition refuses never reaches a handler."""

import socket

import pytest

from benchwire.control import COMMANDS, check_reply, check_request
from emulator.core.commands import ControlCommands

from .test_process import READY

# stop ends the emulator: asked last
ORDER = [name for name in COMMANDS if name != "stop"] + ["stop"]


def test_the_command_table_is_the_definition():
    handlers = {n[4:] for n in dir(ControlCommands) if n.startswith("cmd_")}
    assert handlers == set(COMMANDS)
    for cmd in COMMANDS.values():
        assert cmd.example is not None, cmd.name
        check_request({"cmd": cmd.name, **cmd.example})


def test_every_defined_command_is_served_with_its_reply_fields(emulator, testfw):
    host, guest = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    emu = emulator(testfw, "--net", f"fd:{guest.fileno()}", pass_fds=(guest.fileno(),))
    guest.close()
    emu.read_until(READY)
    for name in ORDER:
        cmd = COMMANDS[name]
        reply = emu.control({"cmd": name, **cmd.example})
        assert reply.get("ok") is True, (name, reply)
        assert check_reply(cmd, reply) == [], (name, reply)
        if name == "reset":
            emu.read_until(READY)
    code, _ = emu.wait()
    assert code == 0
    host.close()


@pytest.mark.parametrize("request_, word", [
    ({"cmd": "fly"}, "unknown cmd"),
    ({"cmd": "leds", "verbose": True}, "unknown argument 'verbose'"),
    ({"cmd": "reset", "hard": 1}, "unknown argument 'hard'"),
    ({"cmd": "link", "up": 1}, "'up' must be true or false"),
    ({"cmd": "link"}, "link needs 'up'"),
    ({"cmd": "idle", "mode": "skip", "grace_us": "soon"}, "'grace_us' must be a finite number"),
    ({"cmd": "impair", "clear": True, "loss": 0.1}, "must be true and come alone"),
])
def test_requests_the_definition_refuses_are_refused(emulator, testfw, request_, word):
    emu = emulator(testfw)
    emu.read_until(READY)
    reply = emu.control(request_)
    assert reply["ok"] is False and word in reply["error"], reply
    assert emu.control({"cmd": "status"})["state"] in ("running", "idle")
