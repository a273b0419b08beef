"""Writing into a results folder so that what was written stays readable.

Whole files (run.json, timeseries.csv, the reports, load-seconds.jsonl, the marker) go
through `atomic_write`: a temporary file in the same folder, fsync, then a rename over
the name, so a reader sees the old file or the new one, never half of one. The logs a
run appends to while it runs (events-<arch>.jsonl, metrics.jsonl, writes.jsonl) cannot
be renamed into place line by line; they go through `AppendLog` and are read back by
`read_jsonl`, which leaves out a last line that a full disk or a kill cut off (and
says so), never a line in the middle.

A write that fails (a full disk, a folder removed while the run writes it) becomes one
`ResultsError` naming the folder, the file and what the system said. A run `watch`es
its folder: whichever thread's write failed, and also when the folder is removed or
replaced while nothing writes, the watch is set, and the run stops on it.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from harness.errors import ConfigError, ResultsError

#: how often a watch looks whether its folder is still there
POLL_S = 0.5


def atomic_write(path: Path, data: str | bytes) -> None:
    """Write to a temporary file next to `path`, fsync, then rename over it.

    ResultsError when it cannot (the old file, if any, stays as it was).
    """
    with _replacing(path) as fd, os.fdopen(fd, "wb") as fh:
        fh.write(data.encode() if isinstance(data, str) else data)
        fh.flush()
        os.fsync(fh.fileno())


@contextlib.contextmanager
def atomic_open(path: Path, *, newline: str | None = None) -> Iterator[TextIO]:
    """A text file to stream `path` into: renamed into place when the block ends without
    an error, removed otherwise (a large file need not be built in memory first)."""
    with _replacing(path) as fd, os.fdopen(fd, "w", encoding="utf-8", newline=newline) as fh:
        yield fh
        fh.flush()
        os.fsync(fh.fileno())


@contextlib.contextmanager
def _replacing(path: Path) -> Iterator[int]:
    """The descriptor of a temporary file next to `path`, renamed over it at the end."""
    tmp = ""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        yield fd
        # mkstemp makes the file private; results are for everyone on the machine to read
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        _remove(tmp)
        raise failed(path, exc) from None
    except BaseException:
        _remove(tmp)
        raise


def _remove(tmp: str) -> None:
    if tmp:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


class AppendLog:
    """An append-only file of lines that never raises: a failed write is remembered.

    The run's threads (orchestrators, the collector, the fault executor) append here
    and must not die of a full disk; the first failure goes to the folder's watch, the
    log stops writing (the caller keeps its lines in memory) and `error` says why.
    Not thread-safe by itself: the caller holds its own lock.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.error: ResultsError | None = None

    def append(self, lines: Iterable[str]) -> bool:
        """Append the lines (each ending in a newline); False once a write has failed."""
        if self.error is not None:
            return False
        try:
            with self.path.open("a") as fh:
                fh.writelines(lines)
        except OSError as exc:
            self.error = failed(self.path, exc)
            return False
        return True


def read_jsonl(path: Path, notes: list[str] | None = None) -> Iterator[dict[str, Any]]:
    """The objects of a JSON-lines file, one a line; blank lines skipped.

    A last line with no newline that does not parse was cut off mid-write (a full disk,
    a killed run); any other line that is not a JSON object is damage. Either is left
    out and `notes` gets a line saying so: what was written whole stays readable.
    ConfigError when the file cannot be read at all.
    """
    try:
        fh = path.open(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    with fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                row = None
            if isinstance(row, dict):
                yield row
            elif notes is not None:
                # only the last line can lack its newline: readline stops there at the end
                why = ("was cut off mid-write" if not line.endswith("\n")
                       else "is not a JSON object")
                notes.append(f"{path}: line {number} {why}; left out")


# -- the run's watch on its folder --

class Watch(threading.Event):
    """Set when the results folder cannot be written any more; `error` says why.

    A threading.Event, so it doubles as the load's stop signal.
    """

    def __init__(self, folder: Path, *, sentinel: str | None = None) -> None:
        super().__init__()
        self.folder = Path(os.path.abspath(folder))
        #: a file the run keeps in the folder (its INCOMPLETE marker): gone = the folder was
        #: removed, even when something made a new, empty one under the same name
        self.sentinel = sentinel
        self.error: ResultsError | None = None
        self._identity = _identity(self.folder)
        self._lock = threading.Lock()

    def fail(self, error: ResultsError) -> None:
        """Remember the first failure and set the watch."""
        with self._lock:
            if self.error is None:
                self.error = error
        self.set()

    def look(self) -> bool:
        """True when the folder failed: a write did, or it is gone or replaced now."""
        if not self.is_set():
            gone = _identity(self.folder) != self._identity or (
                self.sentinel is not None and not (self.folder / self.sentinel).exists())
            if gone:
                self.fail(ResultsError(f"results folder {self.folder}: removed while the run "
                                       "was writing it; nothing more of the run can be kept"))
        return self.is_set()

    def check(self) -> None:
        """Raise the folder's failure, if there is one."""
        if self.look():
            assert self.error is not None
            raise self.error

    def explain(self, exc: BaseException) -> ResultsError | None:
        """The folder's failure behind `exc`, if it is one (a write under it, or it is gone)."""
        if isinstance(exc, OSError) and exc.filename and _within(str(exc.filename), self.folder):
            self.fail(_error(self.folder, Path(str(exc.filename)), exc))
        return self.error if self.look() else None


_watches: list[Watch] = []
_watches_lock = threading.Lock()


@contextlib.contextmanager
def watch(folder: Path, *, sentinel: str | None = None, poll_s: float = POLL_S
          ) -> Iterator[Watch]:
    """Watch a results folder while the block runs: every failed write under it, and a
    look every `poll_s` whether it is still there."""
    seen = Watch(folder, sentinel=sentinel)
    done = threading.Event()

    def poll() -> None:
        while not done.wait(poll_s) and not seen.look():
            pass

    with _watches_lock:
        _watches.append(seen)
    poller = threading.Thread(target=poll, name="results-watch", daemon=True)
    poller.start()
    try:
        yield seen
    finally:
        done.set()
        poller.join(timeout=5)
        with _watches_lock:
            _watches.remove(seen)


def failed(path: Path, exc: OSError) -> ResultsError:
    """The ResultsError of a failed write to `path`, told to the watch of its folder."""
    absolute = os.path.abspath(path)
    with _watches_lock:
        watching = [w for w in _watches if _within(absolute, w.folder)]
    folder = watching[0].folder if watching else Path(absolute).parent
    error = _error(folder, Path(absolute), exc)
    for w in watching:
        w.fail(error)
    return error


def _error(folder: Path, path: Path, exc: OSError) -> ResultsError:
    try:
        name = str(path.relative_to(folder))
    except ValueError:
        name = str(path)
    what = (exc.strerror or str(exc)).lower()
    # the harness writes only into folders it made: one that is not there was removed
    # (an `rm -rf` may still be on its way up to the folder itself)
    if not folder.is_dir() or exc.errno == errno.ENOENT:
        return ResultsError(f"results folder {folder}: removed while the run was writing it "
                            f"({name}: {what}); nothing more of the run can be kept")
    hint = {errno.ENOSPC: "free some space or give another --out",
            errno.EDQUOT: "raise the quota or give another --out",
            errno.EROFS: "give a writable --out",
            errno.EACCES: "give a writable --out"}.get(exc.errno or 0, "")
    return ResultsError(f"results folder {folder}: cannot write {name}: {what}"
                        + (f"; {hint}" if hint else ""))


def _identity(folder: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(folder)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _within(path: str, folder: Path) -> bool:
    absolute = os.path.abspath(path)
    return absolute == str(folder) or absolute.startswith(str(folder) + os.sep)
