"""Command-line arguments of the scripts (``scripts/*``): one line on stderr and exit 2 on bad input.

Light on purpose (argparse only): ``scripts/report`` imports it without importing JAX.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path


def die(message: str, status: int = 2) -> None:
    """Print ``error: <message>`` as one line on stderr and exit with ``status``."""
    print("error: " + (" ".join(str(message).split()) or "failed"), file=sys.stderr, flush=True)
    sys.exit(status)


class Parser(argparse.ArgumentParser):
    """argparse whose errors are one line (``error: ...``, exit 2) instead of usage plus message."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # argparse's hook for bad arguments
        die(f"{message} (see {self.prog} --help)")


def whole(minimum: int = 1, maximum: int | None = None):
    """An argparse ``type``: a whole number in [minimum, maximum]."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            bounds = f">= {minimum}" + ("" if maximum is None else f" and <= {maximum}")
            raise argparse.ArgumentTypeError(f"must be {bounds}, got {value}")
        return value

    return parse


def positive(text: str) -> float:
    """An argparse ``type``: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


def experiments(names: list[str] | None, valid: list[str]) -> list[str]:
    """``names`` (all of ``valid`` when empty), each checked to be an experiment; exit 2 otherwise."""
    unknown = [n for n in names or [] if n not in valid]
    if unknown:
        die(f"unknown experiment(s) {', '.join(unknown)}; valid: {', '.join(valid)}")
    return list(names) if names else list(valid)


def writable_file(path: Path) -> Path:
    """``path`` if a file can be written there (its folder exists or can be made, it is not a folder);
    tried with a temporary file that is removed, so nothing stays behind either way."""
    path = Path(path)
    if path.is_dir():
        die(f"{path} is a folder; name a file")
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        if not folder.is_dir():
            raise NotADirectoryError(20, "not a folder", str(folder))
        fd, probe = tempfile.mkstemp(prefix=".write-probe-", dir=folder)
        os.close(fd)
        os.remove(probe)
        if path.exists() and not os.access(path, os.W_OK):
            raise PermissionError(13, "no write permission", str(path))
    except OSError as err:
        die(f"cannot write {path} ({err.strerror or err} in {folder})")
    return path
