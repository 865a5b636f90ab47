"""Files written whole or not at all: the shared helper, and every writer of viz and nets."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from autodiff.viz import atomic_file, write_file


def test_write_file_writes_text_and_bytes_and_leaves_nothing_else(tmp_path: Path) -> None:
    """write_file writes str as UTF-8 and bytes as they are; the folder holds only the files."""
    write_file(tmp_path / "a.txt", "é\n")
    write_file(tmp_path / "b.bin", b"\x00\xff")
    assert (tmp_path / "a.txt").read_bytes() == b"\xc3\xa9\n"
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\xff"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.bin"]


def test_a_new_file_gets_the_permissions_of_any_new_file(tmp_path: Path) -> None:
    """The file is not left private to its owner (as a temporary file is): 0o666 less umask."""
    umask = os.umask(0o022)
    try:
        path = write_file(tmp_path / "page.html", "<p>")
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644


def test_ctrl_c_while_writing_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    """Ctrl-C halfway through leaves the previous complete file as it was, and no other file."""
    target = tmp_path / "graph.svg"
    target.write_text("the old, complete picture")

    def interrupted_halfway() -> None:
        with atomic_file(target) as temporary:
            temporary.write_text("half of a new pict")
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted_halfway()
    assert target.read_text() == "the old, complete picture"
    assert [p.name for p in tmp_path.iterdir()] == ["graph.svg"]


def test_an_error_names_the_file_asked_for(tmp_path: Path) -> None:
    """A folder that does not exist is an OSError naming the file asked for, not a temporary."""
    target = tmp_path / "gone" / "page.html"
    with pytest.raises(FileNotFoundError) as caught:
        write_file(target, "<p>")
    assert caught.value.errno == errno.ENOENT
    assert caught.value.filename == str(target)


_FULL_DISK = """
    import os, pathlib, resource, sys
    from autodiff import Value
    from autodiff.viz import explore, render
    from nets import plots

    folder = pathlib.Path(sys.argv[1])
    x = Value(2.0, label="x")
    y = x * x
    y.label = "y"
    y.backward()
    page = explore(y)
    figure, (ax,) = plots.new_figure()
    ax.plot([0, 1, 2], [3, 1, 2])
    # Files may now grow to 100 bytes: a page, an SVG and a PNG are all larger. Python ignores
    # SIGXFSZ, so a write past the limit is cut short, and the next one fails with EFBIG.
    resource.setrlimit(resource.RLIMIT_FSIZE, (100, 100))
    for name, write in [
        ("page.html", lambda path: page.save(path)),
        ("graph.svg", lambda path: render(y, path)),
        ("plot.png", lambda path: plots.save(figure, path)),
    ]:
        try:
            write(folder / name)
        except OSError as error:
            print(name, error.errno, pathlib.Path(error.filename).name)
"""


@pytest.mark.needs_dot
def test_a_full_disk_leaves_no_truncated_page_or_picture(tmp_path: Path) -> None:
    """A write cut short (file size limit) raises, naming the file, and leaves the old file."""
    (tmp_path / "page.html").write_text("the old page")
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_FULL_DISK), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"page.html {errno.EFBIG} page.html",
        f"graph.svg {errno.EFBIG} graph.svg",
        f"plot.png {errno.EFBIG} plot.png",
    ]
    assert (tmp_path / "page.html").read_text() == "the old page"
    assert [p.name for p in tmp_path.iterdir()] == ["page.html"]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_a_symbolic_link_is_written_through_and_the_file_keeps_its_mode(tmp_path: Path) -> None:
    """Writing to a link writes the file it points to; a private file (0o600) stays private."""
    real = tmp_path / "real"
    real.mkdir()
    (real / "g.dot").write_text("old")
    os.chmod(real / "g.dot", 0o600)
    link = tmp_path / "g.dot"
    link.symlink_to(real / "g.dot")
    write_file(link, "new")
    assert link.is_symlink()
    assert (real / "g.dot").read_text() == "new"
    assert (real / "g.dot").stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in real.iterdir()) == ["g.dot"]  # no temporary left behind
