"""The ``livermet`` command line (typer): the commands and the groups loaded on first use."""
