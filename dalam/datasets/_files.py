"""Finding, downloading and checking dataset files (text datasets).

Search order, as DESIGN.md says: the ``root`` argument, then ``$DALAM_DATA``,
then ``~/.cache/dalam`` (then ``../shared/data`` beside a development
checkout).  A missing file is downloaded into the first writable
place and verified by MD5 before use."""
import os
import pathlib

from ._idx import md5sum  # noqa: F401  (the text datasets check files with it)


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


def find(relpaths, root=None):
    """First existing file among ``dir/rel`` for the search dirs and relpaths."""
    for d in search_dirs(root):
        for rel in relpaths:
            p = d / rel
            if p.is_file():
                return p
    return None


def download(url, dest, md5=None):
    """Fetch ``url`` to ``dest`` atomically and check its MD5 (one mirror)."""
    from ._fetch import fetch
    return fetch([url], dest, md5)
