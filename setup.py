"""Packaging hook (the rest is in pyproject.toml): a wheel carries firmware/, fixtures/ and
suites/ inside the ``hil`` package, as ``hil/_data/``, so an installed ``hil`` builds the
firmware and runs the suites as a checkout does (``hil/paths.py`` finds either).  An
editable install reads the checkout itself and copies nothing."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
DATA = ("firmware", "fixtures", "suites")


class BuildPyWithData(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "hil" / "_data"
        for name in DATA:
            shutil.copytree(HERE / name, target / name, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildPyWithData})
