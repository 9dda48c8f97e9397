"""Finding, downloading and checking dataset files (text datasets).

Search order, as DESIGN.md says: the ``root`` argument, then ``$DALAM_DATA``,
then ``~/.cache/dalam`` (then ``../shared/data`` beside a development
checkout).  A missing file is downloaded into the first writable
place and verified by MD5 before use."""
import hashlib
import os
import pathlib


def search_dirs(root=None):
    dirs = []
    if root is not None:
        dirs.append(pathlib.Path(root).expanduser())
    env = os.environ.get("DALAM_DATA")
    if env:
        dirs.append(pathlib.Path(env).expanduser())
    dirs.append(pathlib.Path("~/.cache/dalam").expanduser())
    # a development checkout: the project's shared data folder beside the repository
    shared = pathlib.Path(__file__).resolve().parents[3] / "shared" / "data"
    if shared.is_dir():
        dirs.append(shared)
    return dirs


def md5sum(path):
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def find(relpaths, root=None):
    """First existing file among ``dir/rel`` for the search dirs and relpaths."""
    for d in search_dirs(root):
        for rel in relpaths:
            p = d / rel
            if p.is_file():
                return p
    return None


def download(url, dest, md5=None, what="file"):
    """Fetch ``url`` to ``dest`` atomically and check its MD5."""
    import urllib.request
    dest = pathlib.Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(dest.suffix + ".part")
    try:
        with urllib.request.urlopen(url, timeout=60) as r, open(tmp, "wb") as f:
            while True:
                b = r.read(1 << 20)
                if not b:
                    break
                f.write(b)
    except OSError as e:
        if tmp.exists():
            tmp.unlink()
        raise RuntimeError(f"could not download {what} from {url}: {e}. Put the file at {dest} "
                           "yourself, or pass root= / set $DALAM_DATA to a folder that has it.") from None
    if md5 is not None:
        got = md5sum(tmp)
        if got != md5:
            tmp.unlink()
            raise RuntimeError(f"{what} downloaded from {url} has MD5 {got}, expected {md5}; "
                               "the download is corrupt or the source changed.")
    os.replace(tmp, dest)
    return dest
