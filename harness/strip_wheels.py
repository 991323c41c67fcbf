"""Strip the symbol tables from the large native libraries of the wheels in a wheelhouse, in place.

TensorFlow's, JAX's and XGBoost's wheels ship their shared libraries with their static symbol tables
(`.symtab`): 320 MB of the tools' image that no job reads (the dynamic linker and Python's extension loader
use the dynamic symbols, `.dynsym`, which `strip --strip-unneeded` keeps; only a debugger's symbol names
are lost). harness/container.sh runs this on the host, before the image is built, so that the build needs
neither binutils nor network. Each changed wheel is rewritten with its RECORD's hashes and sizes updated, so
it is a valid wheel. Only libraries of MIN_BYTES or more, outside auditwheel's vendored `NAME.libs/` folders,
are stripped: auditwheel rewrites those with patchelf, and strip can break a patchelf'ed library (the large
ones, TensorFlow's, JAX's and XGBoost's own, are not). A wheel once stripped is marked and skipped.

usage: strip_wheels.py WHEELHOUSE
"""
import base64
import csv
import hashlib
import io
import os
import re
import subprocess
import sys
import tempfile
import zipfile

MIN_BYTES = 20 * 2**20
SHARED_LIBRARY = re.compile(r"\.so(\.\d+)*$")
STRIPPED_MARK = ".stripped-symtab"  # an empty file added to a wheel's .dist-info once stripped


def record_entry(name: str, data: bytes) -> list[str]:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return [name, f"sha256={digest}", str(len(data))]


def strip_wheel(path: str) -> int:
    """Strip the wheel at PATH; the bytes saved (0 when it has no large library or was stripped before)."""
    with zipfile.ZipFile(path) as wheel:
        members = wheel.infolist()
        large = [m.filename for m in members if SHARED_LIBRARY.search(m.filename) and m.file_size >= MIN_BYTES
                 and ".libs/" not in m.filename]
        record = next(m.filename for m in members if m.filename.endswith(".dist-info/RECORD"))
        if not large or any(m.filename.endswith(STRIPPED_MARK) for m in members):
            return 0
        with tempfile.TemporaryDirectory() as scratch:
            for name in large:
                wheel.extract(name, scratch)
            subprocess.run(["strip", "--strip-unneeded", *[os.path.join(scratch, n) for n in large]], check=True)
            stripped = {}
            for name in large:
                with open(os.path.join(scratch, name), "rb") as handle:
                    stripped[name] = handle.read()
        saved = sum(wheel.getinfo(n).file_size - len(data) for n, data in stripped.items())
        mark = os.path.join(os.path.dirname(record), STRIPPED_MARK)
        rows = [row for row in csv.reader(io.StringIO(wheel.read(record).decode())) if row and row[0] != record]
        rows = [record_entry(row[0], stripped[row[0]]) if row[0] in stripped else row for row in rows]
        rows += [record_entry(mark, b""), [record, "", ""]]
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerows(rows)
        partial = path + ".part"
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as out:
            for member in members:
                if member.filename == record:
                    continue
                data = stripped.get(member.filename)
                out.writestr(member, data if data is not None else wheel.read(member.filename))
            out.writestr(mark, b"")
            out.writestr(record, text.getvalue())
    os.replace(partial, path)
    return saved


def main(wheelhouse: str) -> int:
    total = 0
    for name in sorted(os.listdir(wheelhouse)):
        if name.endswith(".whl"):
            saved = strip_wheel(os.path.join(wheelhouse, name))
            if saved:
                print(f"stripped {name}: {saved / 2**20:.0f} MB of symbol tables")
            total += saved
    print(f"strip_wheels: {total / 2**20:.0f} MB saved")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
