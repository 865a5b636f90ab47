"""Writing files whole or not at all: every picture and page ``autodiff.viz`` and ``nets`` save.

This module owns one decision: a file is written under a temporary name in its own folder and
renamed onto its final name (``os.replace``) only once it is complete. A full disk, a folder
removed meanwhile, an error of the program drawing it or Ctrl-C then leaves the final name as
it was (absent, or the previous complete file) and no temporary file behind; a learner never
opens a truncated page. It draws nothing itself.

Example:
    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = write_file(pathlib.Path(folder) / "note.txt", "whole")
    ...     print(path.name, path.read_text(), sorted(p.name for p in path.parent.iterdir()))
    note.txt whole ['note.txt']
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import stat
from collections.abc import Iterator

__all__ = ["atomic_file", "write_file"]


def _temporary_name(target: pathlib.Path) -> pathlib.Path:
    """A name in ``target``'s folder that no file has: ``.<name>.<random>.tmp``."""
    return target.with_name(f".{target.name}.{os.urandom(6).hex()}.tmp")


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike[str]) -> Iterator[pathlib.Path]:
    """Give a temporary path to write; on success it replaces ``path``, on failure it is removed.

    The temporary file is created empty in the folder of the file ``path`` names (so that the
    rename cannot cross file systems), with that file's permissions if it exists, else those a
    new file gets there; a symbolic link is written through, not replaced. Whatever the
    ``with`` block raises (an OSError, Ctrl-C) removes it and leaves ``path`` untouched; an
    OSError about the temporary file is raised again naming ``path``, the file the caller asked
    for.

    Args:
        path: The file to write; its folder must exist.

    Raises:
        OSError: The file cannot be created, written or renamed; ``filename`` is ``path``.

    Example:
        >>> import pathlib, tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     target = pathlib.Path(folder) / "a.txt"
        ...     with atomic_file(target) as temporary:
        ...         _ = temporary.write_text("done")
        ...         print(target.exists())
        ...     print(target.read_text())
        False
        done
    """
    asked = pathlib.Path(path)
    target = pathlib.Path(os.path.realpath(asked))  # through symbolic links, to the file itself
    temporary = _temporary_name(target)
    try:
        while True:
            try:  # 0o666: the folder's umask applies, as for any new file
                os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
                break
            except FileExistsError:  # pragma: no cover  # 48 random bits taken: draw again
                temporary = _temporary_name(target)
        try:
            with contextlib.suppress(FileNotFoundError):  # the file it replaces keeps its mode
                os.chmod(temporary, stat.S_IMODE(os.stat(target).st_mode))
            yield temporary
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    except OSError as error:
        if error.errno is None or error.filename == str(asked):
            raise
        # The reason is the system's; the file is the one asked for, not the temporary one.
        raise OSError(error.errno, error.strerror, str(asked)) from error


def write_file(path: str | os.PathLike[str], content: str | bytes) -> pathlib.Path:
    r"""Write ``content`` (text as UTF-8, or bytes) to ``path`` whole, or not at all.

    Returns:
        ``path`` as a ``pathlib.Path``.

    Raises:
        OSError: As ``atomic_file``: ``path`` is then as it was before.

    Example:
        >>> import pathlib, tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     print(write_file(pathlib.Path(folder) / "b.bin", b"\x00\x01").read_bytes())
        b'\x00\x01'
    """
    with atomic_file(path) as temporary:
        if isinstance(content, str):
            temporary.write_text(content, encoding="utf-8")
        else:
            temporary.write_bytes(content)
    return pathlib.Path(path)
