"""Writing output files whole: a temp file beside the target, then a rename (never half-written)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from gpufleet.errors import InputError


def atomic_write(target: Path, write: Callable[[Path], object], make_parent: bool = False) -> None:
    """Write through `write(tmp)` to a temp file beside `target`, then rename: never a half-written file.

    A target that is a folder, or whose folder cannot be made or written, is bad input (the path came
    from the user), not an internal error.
    """
    if target.is_dir():
        raise InputError("is a folder; expected a file path", where=str(target))
    try:
        if make_parent:
            target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    except (FileNotFoundError, FileExistsError, NotADirectoryError, PermissionError) as exc:
        raise InputError(f"cannot write here: {exc.strerror}", where=str(target)) from None
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual mode
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
