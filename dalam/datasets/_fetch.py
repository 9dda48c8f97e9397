"""Downloading a file from a list of mirrors: to a temporary file in the target
folder, fsync, MD5 check, then an atomic rename, so a crash or a bad mirror
never leaves a half-written file under the real name."""
import hashlib
import os
import pathlib
import tempfile

from ..io.atomic import fsync_dir


def fetch(urls, dest, md5, timeout=60):
    """Download ``dest`` from the first of ``urls`` that gives a file with MD5
    ``md5``; raises RuntimeError listing every failure."""
    import urllib.request
    dest = pathlib.Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    errors = []
    for url in urls:
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
        try:
            h = hashlib.md5()
            with os.fdopen(fd, "wb") as f, urllib.request.urlopen(url, timeout=timeout) as r:
                for chunk in iter(lambda: r.read(1 << 20), b""):
                    h.update(chunk)
                    f.write(chunk)
                f.flush()
                os.fsync(f.fileno())
            got = h.hexdigest()
            if md5 is not None and got != md5:
                errors.append(f"{url}: MD5 {got}, expected {md5}")
                continue
            os.replace(tmp, dest)
            tmp = None
            fsync_dir(dest.parent)
            return dest
        except OSError as e:
            errors.append(f"{url}: {e}")
        finally:
            if tmp is not None and os.path.exists(tmp):
                os.unlink(tmp)
    raise RuntimeError(f"could not download {dest.name} (expected MD5 {md5}) from any mirror:\n  "
                       + "\n  ".join(errors) + f"\nPut the file at {dest} yourself, or pass root= / set "
                       "$DALAM_DATA to a folder that has it.")

