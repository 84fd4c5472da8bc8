"""Reading a user's text file (a CSV of series, a digitised curve, a risk table).

One reader, so that every command answers a missing file, a folder or a file that is not UTF-8
the same way, naming the argument or option that gave the path.
"""

from __future__ import annotations

from pathlib import Path

from livermet.errors import InputError


def read_text(path: str | Path, field: str = "path") -> str:
    """Read a UTF-8 text file (a byte-order mark is dropped).

    A missing file, a folder or an unreadable file is an InputError naming ``field`` (the
    argument or option that gave the path).
    """
    p = Path(path)
    if p.is_dir():
        raise InputError(f"{p} is a folder, not a file", field)
    try:
        return p.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise InputError(f"no such file: {p}", field) from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{p.name}: not UTF-8 text ({exc.reason})", field) from exc
    except OSError as exc:
        raise InputError(f"cannot read {p}: {exc.strerror or exc}", field) from exc
