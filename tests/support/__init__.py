"""Helpers shared by the test directories: real servers (in-process and as ``gameserver
serve`` subprocesses) and a TCP proxy that can cut or blind connections.

Import them as ``from support.servers import ...`` (the tests directory is on the path,
as for ``from conftest import SmallDisk``).
"""
