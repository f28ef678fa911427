"""Every process ``hil`` starts ends with it.

A CI job that times out sends SIGTERM (or SIGKILL) to ``hil``; the emulators, the
namespace daemon and anything else started from here must not live on, re-parented to
PID 1.  Two halves:

- :func:`die_with_parent` is the ``preexec_fn`` for every child: Linux sends the child
  SIGTERM when its parent ends, however it ends (``PR_SET_PDEATHSIG``, kept across
  ``exec``), SIGKILL included.  The signal follows the *thread* that started the child,
  so children are started from a thread that lives as long as they do (the main thread).
- :func:`stop_on_signals` turns SIGTERM and SIGHUP in ``hil`` itself into
  :class:`Stopped` (a ``SystemExit``), so ``finally`` blocks and context managers stop
  the bench in order, as Ctrl-C does.
"""

from __future__ import annotations

import ctypes
import os
import signal

_PR_SET_PDEATHSIG = 1


class Stopped(SystemExit):
    """hil was asked to stop by a signal; the exit status is 128 + the signal number."""


def die_with_parent(sig: int = signal.SIGTERM):
    """A ``preexec_fn`` (``subprocess.Popen(..., preexec_fn=die_with_parent())``): the child
    gets ``sig`` when the process that started it ends."""
    parent = os.getpid()
    libc = ctypes.CDLL(None, use_errno=True)

    def preexec():
        libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        if os.getppid() != parent:  # the parent ended before prctl: nobody will signal us
            os.kill(os.getpid(), sig)
    return preexec


def stop_on_signals(signals=(signal.SIGTERM, signal.SIGHUP)):
    """In ``hil``'s main thread: raise :class:`Stopped` on these signals."""
    def handler(signum, frame):
        raise Stopped(128 + signum)

    for s in signals:
        signal.signal(s, handler)
