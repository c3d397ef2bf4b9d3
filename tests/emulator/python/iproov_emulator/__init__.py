"""The iProov emulator for your own tests: a local, stateful stand-in for the iProov REST API
v2 (the ``iproov-emulator`` binary this wheel installs) and a pytest fixture,
``iproov_emulator``, that runs it. See TESTING.md."""

from ._emulator import Credentials, Emulator, EmulatorError, find_binary, start_emulator
from ._guard import real_iproov_target

__all__ = ["Credentials", "Emulator", "EmulatorError", "find_binary", "real_iproov_target", "start_emulator"]
