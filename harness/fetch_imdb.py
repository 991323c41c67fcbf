"""Download the tutorial's IMDB files from Zenodo record 4477881 into a cache, and check them.

    python harness/fetch_imdb.py CACHE_DIR [--base-url URL] [--rows 25000] [--columns 500]

Fetches X_train.tsv, y_train.tsv, X_test.tsv and y_test.tsv. A file already in the cache and valid is
reused; a partial download (``NAME.part``) is resumed with an HTTP Range request. Each finished file is
checked before it is accepted: ``rows`` lines of ``columns`` integers for X (word indices 0..9999), one
0/1 label per line for y. A file that does not match is refused with one clear line and not kept.
Standard library only, so it runs with any Python.
"""
import argparse
import http.client
import os
import sys
import urllib.error
import urllib.request

ZENODO_URL = "https://zenodo.org/record/4477881/files"
FILES = ("X_train.tsv", "y_train.tsv", "X_test.tsv", "y_test.tsv")
VOCABULARY = 10000
CHUNK = 1 << 20


class DataError(Exception):
    """A download that failed or a file that is not what the tutorial's record holds."""


def download(url, target, timeout=60):
    """Fetch ``url`` to ``target``, resuming ``target.part`` when the server honours Range."""
    if not url.startswith(("http://", "https://")):
        raise DataError(f"{url}: only http:// and https:// URLs are fetched")
    part = target + ".part"
    have = os.path.getsize(part) if os.path.exists(part) else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})  # noqa: S310 (http(s) only, above)
    try:
        response = urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 (http(s) only, above)
    except urllib.error.HTTPError as error:
        if error.code == 416 and have:  # the part file is already complete
            os.replace(part, target)
            return
        raise DataError(f"{url}: HTTP {error.code} {error.reason}") from None
    except (urllib.error.URLError, OSError) as error:
        raise DataError(f"{url}: cannot connect ({getattr(error, 'reason', error)})") from None
    with response:
        resumed = response.status == 206
        expected = response.headers.get("Content-Length")
        received = 0
        with open(part, "ab" if resumed else "wb") as out:
            try:
                while chunk := response.read(CHUNK):
                    out.write(chunk)
                    received += len(chunk)
            except (OSError, http.client.HTTPException) as error:  # e.g. IncompleteRead
                raise DataError(f"{url}: download interrupted after {received} bytes ({error}); "
                                f"run again to resume") from None
    if expected is not None and received != int(expected):
        raise DataError(f"{url}: got {received} of {expected} bytes; run again to resume")
    os.replace(part, target)


def check_file(path, rows, columns, labels):
    """Raise DataError unless ``path`` has ``rows`` lines of ``columns`` ints (0/1 labels for y)."""
    name = os.path.basename(path)
    count = 0
    with open(path) as handle:
        for count, line in enumerate(handle, start=1):
            cells = line.rstrip("\n").split("\t")
            if len(cells) != columns:
                raise DataError(f"{name}: line {count} has {len(cells)} columns, expected {columns}")
            for column, cell in enumerate(cells, start=1):
                if not cell.isdigit() or (labels and cell not in ("0", "1")) or int(cell) >= VOCABULARY:
                    expected = "a 0/1 label" if labels else f"a word index in 0..{VOCABULARY - 1}"
                    raise DataError(f"{name}: line {count}, column {column} is '{cell}', expected {expected}")
    if count != rows:
        raise DataError(f"{name}: {count} lines, expected {rows}")


def fetch_all(cache, base_url=ZENODO_URL, rows=25000, columns=500, log=print):
    """Make sure the four files are in ``cache`` and valid; return their paths by name."""
    os.makedirs(cache, exist_ok=True)
    paths = {}
    for name in FILES:
        path = os.path.join(cache, name)
        is_label = name.startswith("y_")
        shape = (rows, 1 if is_label else columns)
        if os.path.exists(path):
            log(f"{name}: in the cache, checking")
        else:
            log(f"{name}: downloading from {base_url}")
            download(f"{base_url}/{name}", path)
        try:
            check_file(path, *shape, labels=is_label)
        except DataError:
            os.replace(path, path + ".rejected")  # keep it for inspection, never use it
            raise
        paths[name] = path
    return paths


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cache", help="folder to keep the files in")
    parser.add_argument("--base-url", default=ZENODO_URL)
    parser.add_argument("--rows", type=int, default=25000)
    parser.add_argument("--columns", type=int, default=500)
    args = parser.parse_args(argv)
    try:
        fetch_all(args.cache, args.base_url, args.rows, args.columns)
    except DataError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    print(f"IMDB data ready in {args.cache}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
