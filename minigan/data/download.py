"""Downloading MNIST and Fashion-MNIST, only when asked, into a cache folder, with SHA-256 checks.

Nothing here runs unless a user passes ``download=True`` (``minigan train --download``): the embedded
subset needs no network. Files land in ``<cache>/<dataset>/`` where ``<cache>`` is ``$MINIGAN_CACHE``,
else ``$XDG_CACHE_HOME/minigan``, else ``~/.cache/minigan``. Each file is streamed to a temporary file
beside its destination, its SHA-256 compared with the published one, and only then renamed into place,
so an interrupted or tampered download never passes for a good file.
"""
import hashlib
import os
import tempfile
import urllib.error
import urllib.request

from minigan.data.idx import IDX_FILES

# SHA-256 of the gzipped files as distributed (the same sums torchvision and TFDS pin).
DATASETS = {
    "mnist": {
        "mirrors": ("https://ossci-datasets.s3.amazonaws.com/mnist/",
                    "https://storage.googleapis.com/cvdf-datasets/mnist/"),
        "sha256": {
            "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        },
    },
    "fashion-mnist": {
        "mirrors": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        "sha256": {
            "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        },
    },
}
_CHUNK = 1 << 20


def default_cache_dir():
    """Where downloads go: $MINIGAN_CACHE, else $XDG_CACHE_HOME/minigan, else ~/.cache/minigan."""
    if os.environ.get("MINIGAN_CACHE"):
        return os.environ["MINIGAN_CACHE"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "minigan")


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch_file(urls, destination, sha256, timeout=30):
    """Fetch ``destination`` from the first of ``urls`` that answers, and check its SHA-256.

    A file already at ``destination`` with the right sum is kept as is. The bytes go to a temporary
    file in the same folder and are renamed into place only when the sum matches. Raises ValueError
    when a download's sum is wrong, ConnectionError (saying how to fetch the file by hand) when no
    URL could be reached.
    """
    if os.path.isfile(destination) and sha256_of(destination) == sha256:
        return destination
    folder = os.path.dirname(os.path.abspath(destination))
    os.makedirs(folder, exist_ok=True)
    failures = []
    for url in urls:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(destination), suffix=".part")
        try:
            digest = hashlib.sha256()
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    digest.update(chunk)
                    out.write(chunk)
            if digest.hexdigest() != sha256:
                raise ValueError(f"download of {url} has SHA-256 {digest.hexdigest()}, expected {sha256}: "
                                 "the file is damaged or not the published one; nothing was kept")
            os.replace(tmp, destination)
            return destination
        except (urllib.error.URLError, OSError) as exc:
            failures.append(f"{url}: {getattr(exc, 'reason', exc)}")
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    raise ConnectionError(
        f"could not download {os.path.basename(destination)} (are you offline?). Tried:\n  "
        + "\n  ".join(failures)
        + f"\nDownload it by hand from one of those addresses into {folder}, or point data_dir "
          "(--data-dir) at a folder that already holds the files.")


def download_idx_dataset(name, split="train", cache_dir=None, mirrors=None):
    """Download (or reuse from the cache) the IDX files of ``name``'s ``split``; returns their folder."""
    if name not in DATASETS:
        raise ValueError(f"download_idx_dataset: no download known for {name!r}; known: {sorted(DATASETS)}")
    if split not in IDX_FILES:
        raise ValueError(f"download_idx_dataset: split must be one of {sorted(IDX_FILES)}, got {split!r}")
    spec = DATASETS[name]
    folder = os.path.join(cache_dir or default_cache_dir(), name)
    for stem in IDX_FILES[split]:
        filename = stem + ".gz"
        urls = [base + filename for base in (mirrors or spec["mirrors"])]
        fetch_file(urls, os.path.join(folder, filename), spec["sha256"][filename])
    return folder
