"""Download a GTN tutorial's four tables from its Zenodo record into a cache, and check them.

    python harness/fetch_zenodo.py rnn|fnn|cnn CACHE_DIR [--base-url URL]

Fetches X_train.tsv, y_train.tsv, X_test.tsv and y_test.tsv of the tutorial's record (harness/tutorials.py:
record 4477881 for the RNN tutorial, 4660497 FNN, 4697906 CNN). A file already in the cache and valid is
reused; a partial download (``NAME.part``) is resumed with an HTTP Range request. Each finished file is
checked before it is accepted, against the shape and values harness/tutorials.py gives for that table
(e.g. 25,000 lines of 500 word indices 0..9999, a header line and 722 rows of 5 scaled numbers). A file
that does not match is refused with one clear line and not kept. Standard library only, so it runs with
any Python.
"""
import argparse
import gzip
import http.client
import os
import sys
import urllib.error
import urllib.request

import tutorials

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


def check_table(path, table, first_rows=None):
    """Raise DataError unless ``path`` (plain or ``.gz``) is ``table``: its header line, rows, columns, cells.
    ``first_rows=N``: only the header and the first N rows, any number of rows (a slice, or a folder given
    as DATA=DIR: the wrong tutorial's data is refused before Galaxy starts)."""
    name = path  # the whole path in messages: a table given as DATA=DIR is named with its folder
    opener = gzip.open if path.endswith(".gz") else open
    accepted = table.cells.spellings
    rows = 0
    with opener(path, "rt") as handle:
        if table.header:
            header = handle.readline().rstrip("\n").split("\t")
            if len(header) != table.columns:
                raise DataError(f"{name}: header line has {len(header)} columns, expected {table.columns}")
        first_row = 2 if table.header else 1
        for line_number, line in enumerate(handle, start=first_row):
            cells = line.rstrip("\n").split("\t")
            if len(cells) != table.columns:
                raise DataError(f"{name}: line {line_number} has {len(cells)} columns, expected {table.columns}")
            if not accepted.issuperset(cells):  # the common case is one set operation per line
                for column, cell in enumerate(cells, start=1):
                    if not table.cells.accepts(cell):
                        raise DataError(f"{name}: line {line_number}, column {column} is '{cell}', "
                                        f"expected {table.cells.expected}")
            rows += 1
            if rows == first_rows:
                return
    if first_rows is None and rows != table.rows:
        header_note = " after the header line" if table.header else ""
        raise DataError(f"{name}: {rows} rows{header_note}, expected {table.rows}")


def fetch_all(cache, tables, base_url, log=print):
    """Make sure each of ``tables`` (name -> tutorials.Table) is in ``cache`` as NAME.tsv and valid."""
    os.makedirs(cache, exist_ok=True)
    paths = {}
    for name, table in tables.items():
        path = os.path.join(cache, f"{name}.tsv")
        if os.path.exists(path):
            log(f"{name}.tsv: in the cache, checking")
        else:
            log(f"{name}.tsv: downloading from {base_url}")
            download(f"{base_url}/{name}.tsv", path)
        try:
            check_table(path, table)
        except DataError:
            os.replace(path, path + ".rejected")  # keep it for inspection, never use it
            raise
        paths[name] = path
    return paths


def fetch_tutorial(name, cache, base_url=None, log=print):
    """The tables of tutorial ``name`` (a key of tutorials.TUTORIALS) from its Zenodo record, into ``cache``."""
    tutorial = tutorials.TUTORIALS[name]
    return fetch_all(cache, tutorial.tables, base_url or tutorials.zenodo_files_url(tutorial), log)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tutorial", choices=sorted(tutorials.TUTORIALS))
    parser.add_argument("cache", help="folder to keep the files in")
    parser.add_argument("--base-url", help="where the four files are (default: the tutorial's Zenodo record)")
    args = parser.parse_args(argv)
    try:
        fetch_tutorial(args.tutorial, args.cache, args.base_url)
    except DataError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    print(f"{args.tutorial} data ready in {args.cache}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
