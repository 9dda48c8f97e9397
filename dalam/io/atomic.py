"""Atomic file writes: a temporary file in the same folder, flushed and
fsynced, renamed over the target with ``os.replace``, then the folder fsynced.
A reader (or a process killed mid-write) sees either the old file or the new
one, never a partial file."""
import os
import pathlib
import tempfile


def fsync_dir(path):
    """Make a rename in ``path`` durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _umask():
    """The process umask (reading it means setting it; restored at once)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path, data):
    """Write ``data`` (bytes, or str as UTF-8) to ``path`` atomically; returns the path."""
    path = pathlib.Path(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    folder = path.parent if str(path.parent) else pathlib.Path(".")
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        # mkstemp creates 0600; give the file the mode a plain open() would (0666 & ~umask)
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    fsync_dir(folder)
    return path
