"""The Zenodo downloader, against a local HTTP server on 127.0.0.1 serving small slices."""
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import fetch_imdb

X = "".join("\t".join(str((row * 7 + col) % 10000) for col in range(5)) + "\n" for row in range(40))
Y = "".join(f"{row % 2}\n" for row in range(40))
GOOD = {"X_train.tsv": X, "y_train.tsv": Y, "X_test.tsv": X, "y_test.tsv": Y}


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


def fetch(server, prefix, cache):
    return fetch_imdb.fetch_all(str(cache), f"{server.url}/{prefix}", rows=40, columns=5, log=lambda _: None)


def test_downloads_checks_and_reuses(server, tmp_path):
    paths = fetch(server, "good", tmp_path)
    assert open(paths["X_train.tsv"]).read() == X
    count = len(server.requests)
    fetch(server, "good", tmp_path)  # second run: everything from the cache
    assert len(server.requests) == count


def test_truncated_download_is_resumed(server, tmp_path):
    with pytest.raises(fetch_imdb.DataError, match="X_train.tsv.*run again to resume"):
        fetch(server, "trunc", tmp_path)
    assert not (tmp_path / "X_train.tsv").exists()
    half = (tmp_path / "X_train.tsv.part").stat().st_size
    assert 0 < half < len(X)
    fetch(server, "trunc", tmp_path)
    assert (tmp_path / "X_train.tsv").read_text() == X
    assert ("/trunc/X_train.tsv", f"bytes={half}-") in server.requests


def test_404_is_one_clear_error(server, tmp_path):
    with pytest.raises(fetch_imdb.DataError, match=r"/missing/X_train.tsv: HTTP 404"):
        fetch(server, "missing", tmp_path)


def test_wrong_content_is_refused_and_not_kept(server, tmp_path):
    with pytest.raises(fetch_imdb.DataError, match=r"y_train.tsv: line 2, column 1 is '2', expected a 0/1 label"):
        fetch(server, "bad", tmp_path)
    assert not (tmp_path / "y_train.tsv").exists()


def test_wrong_shape_is_refused(server, tmp_path):
    with pytest.raises(fetch_imdb.DataError, match=r"X_train.tsv: line 1 has 5 columns, expected 500"):
        fetch_imdb.fetch_all(str(tmp_path), f"{server.url}/good", rows=40, columns=500, log=lambda _: None)


def test_command_line_exit_status(server, tmp_path, capsys):
    assert fetch_imdb.main([str(tmp_path), "--base-url", f"{server.url}/missing"]) == 1
    assert capsys.readouterr().err.startswith("Error: ")
