"""Tests of the ``livermet`` command line: commands, registry groups and start-up time."""
