"""The Zenodo downloader, against a local HTTP server on 127.0.0.1 serving small slices."""
import gzip
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import fetch_zenodo
import tutorials

X = "".join("\t".join(str((row * 7 + col) % 10000) for col in range(5)) + "\n" for row in range(40))
Y = "".join(f"{row % 2}\n" for row in range(40))
GOOD = {"X_train.tsv": X, "y_train.tsv": Y, "X_test.tsv": X, "y_test.tsv": Y}
# The RNN tutorial's tables (word indices, 0/1 labels), 40 rows of 5 columns instead of 25,000 of 500.
TABLES = tutorials.four_tables(40, 40, 5, tutorials.WORD_INDEX, tutorials.BINARY_LABEL)


class Server:
    """Serves ``files`` under /good; /trunc cuts X_train.tsv in half once; /bad serves wrong shapes."""

    def __init__(self):
        self.requests = []
        self.truncate_once = True
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                outer.requests.append((self.path, self.headers.get("Range")))
                prefix, _, name = self.path.strip("/").partition("/")
                files = dict(GOOD)
                if prefix == "bad":
                    files["y_train.tsv"] = Y.replace("1\n", "2\n", 1)
                if prefix not in ("good", "trunc", "bad") or name not in files:
                    self.send_error(404, "Not Found")
                    return
                body = files[name].encode()
                start = 0
                if self.headers.get("Range"):
                    start = int(self.headers["Range"].split("=")[1].rstrip("-"))
                    self.send_response(206)
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                if prefix == "trunc" and name == "X_train.tsv" and outer.truncate_once:
                    outer.truncate_once = False
                    self.wfile.write(body[start:len(body) // 2])
                    self.close_connection = True
                    return
                self.wfile.write(body[start:])

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def server():
    server = Server()
    yield server
    server.httpd.shutdown()


def fetch(server, prefix, cache, tables=TABLES):
    return fetch_zenodo.fetch_all(str(cache), tables, f"{server.url}/{prefix}", log=lambda _: None)


def test_downloads_checks_and_reuses(server, tmp_path):
    paths = fetch(server, "good", tmp_path)
    assert open(paths["X_train"]).read() == X
    count = len(server.requests)
    fetch(server, "good", tmp_path)  # second run: everything from the cache
    assert len(server.requests) == count


def test_truncated_download_is_resumed(server, tmp_path):
    with pytest.raises(fetch_zenodo.DataError, match="X_train.tsv.*run again to resume"):
        fetch(server, "trunc", tmp_path)
    assert not (tmp_path / "X_train.tsv").exists()
    half = (tmp_path / "X_train.tsv.part").stat().st_size
    assert 0 < half < len(X)
    fetch(server, "trunc", tmp_path)
    assert (tmp_path / "X_train.tsv").read_text() == X
    assert ("/trunc/X_train.tsv", f"bytes={half}-") in server.requests


def test_404_is_one_clear_error(server, tmp_path):
    with pytest.raises(fetch_zenodo.DataError, match=r"/missing/X_train.tsv: HTTP 404"):
        fetch(server, "missing", tmp_path)


def test_wrong_content_is_refused_and_not_kept(server, tmp_path):
    with pytest.raises(fetch_zenodo.DataError, match=r"y_train.tsv: line 2, column 1 is '2', expected a 0/1 label"):
        fetch(server, "bad", tmp_path)
    assert not (tmp_path / "y_train.tsv").exists()


def test_wrong_shape_is_refused(server, tmp_path):
    with pytest.raises(fetch_zenodo.DataError, match=r"X_train.tsv: line 1 has 5 columns, expected 500"):
        fetch(server, "good", tmp_path, tutorials.four_tables(40, 40, 500, tutorials.WORD_INDEX, tutorials.BINARY_LABEL))


def test_command_line_exit_status(server, tmp_path, capsys):
    assert fetch_zenodo.main(["cnn", str(tmp_path), "--base-url", f"{server.url}/missing"]) == 1
    assert capsys.readouterr().err.startswith("Error: ")


def test_a_tutorials_tables_are_checked_by_its_own_shapes(server, tmp_path, capsys):
    """The RNN record's 500 columns: the 5-column slice is refused, through the command line too."""
    assert fetch_zenodo.main(["rnn", str(tmp_path), "--base-url", f"{server.url}/good"]) == 1
    assert "X_train.tsv: line 1 has 5 columns, expected 500" in capsys.readouterr().err


def test_the_default_url_is_the_tutorials_zenodo_record():
    assert tutorials.zenodo_files_url(tutorials.TUTORIALS["fnn"]) == "https://zenodo.org/records/4660497/files"


def write(path, text):
    path.write_text(text)
    return str(path)


SCALED_TABLE = tutorials.Table(rows=2, columns=2, cells=tutorials.SCALED, header=True)


def test_a_header_line_is_not_a_row(tmp_path):
    fetch_zenodo.check_table(write(tmp_path / "X.tsv", "age\tdebt\n0.5\t1\n1e-05\t0\n"), SCALED_TABLE)


@pytest.mark.parametrize("text, message", [
    ("age\n0.5\t1\n", "X.tsv: header line has 1 columns, expected 2"),
    ("age\tdebt\n0.5\t1\n", "X.tsv: 1 rows after the header line, expected 2"),
    ("age\tdebt\n0.5\t1\n1.5\t0\n", "X.tsv: line 3, column 1 is '1.5', expected a number in 0..1"),
    ("age\tdebt\n0.5\t1\nnan\t0\n", "X.tsv: line 3, column 1 is 'nan', expected a number in 0..1"),
])
def test_scaled_tables_are_refused_with_the_place(tmp_path, text, message):
    with pytest.raises(fetch_zenodo.DataError, match=message):
        fetch_zenodo.check_table(write(tmp_path / "X.tsv", text), SCALED_TABLE)


def test_pixels_are_integers_or_numbers_in_range(tmp_path):
    pixels = tutorials.Table(rows=2, columns=3, cells=tutorials.PIXEL)
    fetch_zenodo.check_table(write(tmp_path / "X.tsv", "0\t255\t17\n0.0\t254.5\t3\n"), pixels)
    with pytest.raises(fetch_zenodo.DataError, match="line 2, column 2 is '256', expected a pixel value in 0..255"):
        fetch_zenodo.check_table(write(tmp_path / "X.tsv", "0\t255\t17\n0\t256\t3\n"), pixels)


def test_gzipped_tables_are_read(tmp_path):
    path = tmp_path / "y.tsv.gz"
    with gzip.open(path, "wt") as out:
        out.write("3\n10\n")
    with pytest.raises(fetch_zenodo.DataError, match="y.tsv.gz: line 2, column 1 is '10', expected a digit label 0..9"):
        fetch_zenodo.check_table(str(path), tutorials.Table(rows=2, columns=1, cells=tutorials.DIGIT))


def test_first_rows_only_checks_the_start_of_a_slice(tmp_path):
    imdb = tutorials.TUTORIALS["rnn"].tables["X_train"]
    slice_path = write(tmp_path / "X_train.tsv", "\t".join(["7"] * 500) + "\n")  # 1 row, not 25,000
    fetch_zenodo.check_table(slice_path, imdb, first_rows=20)
    mnist_row = write(tmp_path / "X.tsv", "\t".join(["0"] * 784) + "\n")
    with pytest.raises(fetch_zenodo.DataError, match="X.tsv: line 1 has 784 columns, expected 500"):
        fetch_zenodo.check_table(mnist_row, imdb, first_rows=20)
