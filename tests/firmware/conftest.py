"""Fixtures of tests/firmware (the device network stack built for the build machine)."""

import shutil

import pytest

from .netbuild import HostBuild

_builds: dict = {}



@pytest.fixture(scope="session")
def host_build(tmp_path_factory):
    if not shutil.which("g++"):
        pytest.skip("g++ is not installed (it builds the stack's host unit tests)")

    def get(profile: str) -> HostBuild:
        if profile not in _builds:
            _builds[profile] = HostBuild(tmp_path_factory.mktemp(f"net-{profile}"), profile).build()
        return _builds[profile]

    return get
