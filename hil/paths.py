"""Where the project's files are, in a checkout or in an installed copy.

``hil`` needs the firmware sources, the bench files and the Robot suites beside its code.
In a checkout (or an editable install) they are the checkout's own ``firmware/``,
``fixtures/`` and ``suites/``; a wheel carries copies of them inside the package, in
``hil/_data/`` (``setup.py`` puts them there).  Everything else asks this module.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parent
_INSTALLED = _PACKAGE / "_data"


def _root() -> Path:
    for root in (_CHECKOUT, _INSTALLED):
        if (root / "firmware" / "images.json").is_file():
            return root
    return _CHECKOUT  # neither: the errors then name the checkout's missing firmware/


#: The folder that holds firmware/, fixtures/ and suites/.
ROOT = _root()
#: True when running from a checkout (or an editable install of one).
IN_CHECKOUT = ROOT == _CHECKOUT
FIRMWARE = ROOT / "firmware"
FIXTURES = ROOT / "fixtures"
SUITES = ROOT / "suites"


def default_build_dir() -> Path:
    """``build/`` of the checkout; for an installed copy, ``build/`` in the current folder
    (the installed package is no place for build products)."""
    return (_CHECKOUT if IN_CHECKOUT else Path.cwd()) / "build"
