"""Building and calling an estimator from an uploaded file in a child process that cannot reach anything else.

The audits of :mod:`gxkeras.modelfile.h5mlm` and :mod:`gxkeras.modelfile.sklearn_loaders.reader` check what they can
see, but an uploaded model is then built and called by scikit-learn's, scipy's, XGBoost's and TensorFlow's C code,
and a file crafted to corrupt memory there runs code inside the job, which on most servers can read every user's
datasets. So that part of a tool runs in a child process that locks itself down first
(:mod:`gxkeras.modelfile.lockdown`: Landlock, seccomp-bpf, limits) and reads only the software and the job's inputs.
This module is the parent's side: it starts the child, relays what it prints, bounds its wall-clock time
(:data:`WALL_VARIABLE`; its CPU time, :data:`CPU_VARIABLE`, the child bounds itself), and turns how it ended
into the tool's outcome.

The child is a fresh Python (``sys.executable``), not a ``fork`` of the tool: Landlock confines only the
thread that asks, and a fresh interpreter is single-threaded until it imports numpy; a forked TensorFlow also
deadlocks. The child imports the tool's module and calls the given function with JSON arguments. It writes its
output in one of two ways, and the parent puts the output in place only when the child has exited 0:

- one stream (``output``, model_prediction): it goes through a pipe to ``<output>.part``, then renamed;
- files (``outputs``, the trainer: a model, weights, tables): the child may create, write and remove files
  in one private folder (its working directory and ``TMPDIR``, made by the parent in the job's working
  directory) and nowhere else; the parent moves each named file to its output path, then removes the folder.

A crash (SIGSEGV ...), a kill, running out of memory or time, or any exception gives one ``Error:`` line that
names the model input, a non-zero exit and no output; a :class:`~gxkeras.galaxy.errors.ToolInputError` raised in
the child reaches the user as it would have in-process. ``GXKERAS_CONTAINMENT`` (:data:`MODE_VARIABLE`):
``required`` makes a missing layer an error; ``off`` runs the work unconfined in the tool's own process, for
measuring only (the containment's cost; what the work itself imports).
"""
import codecs
import contextlib
import inspect
import json
import os
import selectors
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import IO, Any, cast

from gxkeras.galaxy.errors import OUT_OF_MEMORY, ModelRefused, ToolInputError
from gxkeras.galaxy.outputs import atomic_output, move_into_place
from gxkeras.galaxy.values import choice, parse_int
from gxkeras.keras.environment import galaxy_slots
from gxkeras.modelfile.lockdown import MODE_VARIABLE, existing_paths

MODES = ("auto", "required", "off")
# CPU seconds the child may use (RLIMIT_CPU); default one day per core Galaxy gave the job (GALAXY_SLOTS).
CPU_VARIABLE = "GXKERAS_CPU_SECONDS"
CPU_SECONDS_PER_SLOT = 24 * 3600
# Wall-clock seconds the child may run, also when it waits without using the CPU; default one day.
WALL_VARIABLE = "GXKERAS_WALL_SECONDS"
DEFAULT_WALL_SECONDS = 24 * 3600
MAX_SECONDS = 10 ** 8

# What libraries expect of the child's environment: joblib's probe of multiprocessing creates a semaphore
# file (refused, with a warning); Keras reads and writes ~/.keras/keras.json (refused: the child runs with
# Keras' defaults, as a Galaxy job with its own HOME does, unless the admin set KERAS_HOME, which is read).
CHILD_ENVIRONMENT = {"JOBLIB_MULTIPROCESSING": "0"}
NO_KERAS_HOME = os.path.join(os.devnull, "keras")  # not a folder: nothing can be read or made there

MAX_STATUS_BYTES = 16 * 1024 ** 2  # the child's messages and result: a result is small (a count, importances)
MAX_MESSAGE_CHARS = 2000
BOOT = "from gxkeras.modelfile.lockdown import child_main; child_main()"  # with -P: no working directory on its path

# work(args, out): out is the output stream (``output``), the private paths of the named files (``outputs``),
# or None.
Work = Callable[[Any, Any], Any]
OUTPUTS_FOLDER_PREFIX = "contained_outputs_"


class ContainedFailure(ToolInputError):
    """The contained child crashed, was killed, ran out of time or failed: raised by the parent, with the
    model input named; the output was not written."""


@dataclass(frozen=True)
class Limits:
    cpu_seconds: int
    wall_seconds: int

    @classmethod
    def from_environment(cls) -> "Limits":
        """:data:`CPU_VARIABLE` and :data:`WALL_VARIABLE`, or their defaults."""
        cpu = os.environ.get(CPU_VARIABLE) or CPU_SECONDS_PER_SLOT * galaxy_slots()
        wall = os.environ.get(WALL_VARIABLE) or DEFAULT_WALL_SECONDS
        return cls(parse_int(cpu, CPU_VARIABLE, 1, MAX_SECONDS), parse_int(wall, WALL_VARIABLE, 1, MAX_SECONDS))


def containment_mode() -> str:
    return choice(os.environ.get(MODE_VARIABLE) or "auto", MODES, MODE_VARIABLE)


def run_contained(work: Work, args: Any, what: str, readable: Iterable[str] = (), output: str | None = None,
                  outputs: Mapping[str, str | None] | None = None, limits: Limits | None = None) -> Any:
    """``work(args, out)`` in a contained child; its JSON-able return value.

    ``work`` is a module-level function of an importable module (or of the tool script); ``args`` JSON.
    ``readable`` are the job's input files and folders the child may read; ``what`` names the model input
    (its form label and path) in errors. With ``output``, what ``work`` writes to ``out`` becomes that file,
    renamed into place after the child succeeded. With ``outputs`` (names to output paths, None for an
    output not asked for), ``out`` maps each asked-for name to a path in the child's private folder, and
    each file written there is moved to its output path after the child succeeded. Otherwise ``out`` is None.
    """
    if outputs is None:
        return _run_contained(work, args, what, readable, output, None, limits)
    asked = {name: path for name, path in outputs.items() if path}
    folder = tempfile.mkdtemp(prefix=OUTPUTS_FOLDER_PREFIX, dir=os.getcwd())
    try:
        private = {name: os.path.join(folder, f"output_{number}") for number, name in enumerate(asked)}
        result = _run_contained(work, args, what, readable, None, (folder, private), limits)
        missing = [name for name in asked if not _plain_file(private[name])]
        if missing:
            raise ContainedFailure(f"{what}: the process that builds and calls the model did not write its "
                                   f"{missing[0]} as a file of its own; nothing was written")
        for name, path in asked.items():
            move_into_place(private[name], path)
        return result
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _plain_file(path: str) -> bool:
    """Whether ``path`` is a regular file with no other name: not a link the child made to a file it cannot
    read (the output would show another user's data), nor a hard link to one (possible without Landlock)."""
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        return False
    return stat.S_ISREG(found.st_mode) and found.st_nlink == 1


def _run_contained(work: Work, args: Any, what: str, readable: Iterable[str], output: str | None,
                   files: tuple[str, dict[str, str]] | None, limits: Limits | None) -> Any:
    """:func:`run_contained` with ``files`` = (the private folder, the private paths) for ``outputs``."""
    mode = containment_mode()
    limits = limits or Limits.from_environment()
    if mode == "off":
        print(f"Containment: off ({MODE_VARIABLE}=off, for measuring only)")
        return _run_here(work, args, output, files)
    module, function = _importable(work)
    folder, private = files or (None, None)
    data_read, data_write = os.pipe() if output else (None, None)
    status_read, status_write = os.pipe()
    job = {"module": module, "function": function, "args": args, "readable": existing_paths(readable),
           "cpu_seconds": limits.cpu_seconds, "required": mode == "required", "parent": os.getpid(),
           "data_fd": data_write, "status_fd": status_write, "folder": folder, "private": private}
    partial = output + ".part" if output else None
    deadline = time.monotonic() + limits.wall_seconds
    try:
        child = subprocess.Popen([sys.executable, "-P", "-c", BOOT], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, env=_child_environment(work, folder), cwd=folder,
                                 pass_fds=[fd for fd in (data_write, status_write) if fd is not None])
    except BaseException:
        _close(data_read, status_read)
        raise
    finally:
        _close(data_write, status_write)
    try:
        cast(IO[bytes], child.stdin).write(json.dumps(job).encode("utf-8"))
        cast(IO[bytes], child.stdin).close()
        with open(partial, "wb") if partial else contextlib.nullcontext() as sink:
            status, timed_out = _relay(child, data_read, status_read, sink, deadline)
        returncode, cpu_used = _reap(child, deadline)
        messages = _messages(status)
        for note in messages[0].get("notes", []) if messages else []:
            print(f"Containment: {_clean(note)}")
        result = _outcome(messages, returncode, cpu_used, timed_out or returncode is None, what, limits)
        if output and partial:
            os.replace(partial, output)
        return result
    finally:
        _close(data_read, status_read)
        if child.poll() is None:
            child.kill()
            child.wait()
        if partial and os.path.exists(partial):
            os.remove(partial)


def _close(*fds: int | None) -> None:
    for fd in fds:
        if fd is not None:
            os.close(fd)


def _run_here(work: Work, args: Any, output: str | None, files: tuple[str, dict[str, str]] | None) -> Any:
    """The work in this process (``off``): still written to ``<output>.part`` or the private folder first."""
    if files:
        return work(args, files[1])
    if not output:
        return work(args, None)
    with atomic_output(output) as handle:
        return work(args, handle)


def _importable(work: Work) -> tuple[str, str]:
    """``(module, function)`` by which the child imports ``work``; a tool script run as ``__main__`` is
    imported by its file name (its folder is put on the child's path)."""
    name = work.__qualname__
    if "." in name or not callable(work):
        raise TypeError(f"run_contained: {name} is not a module-level function")
    module = work.__module__
    if module == "__main__":
        module = os.path.splitext(os.path.basename(inspect.getfile(work)))[0]
    return module, name


def _child_environment(work: Work, private_folder: str | None) -> dict[str, str]:
    """Ours, with the folders of this process's ``sys.path`` (and a tool script's own) on ``PYTHONPATH``,
    :data:`CHILD_ENVIRONMENT`, and ``TMPDIR`` the private folder if there is one."""
    folder = os.path.dirname(os.path.abspath(inspect.getfile(work)))
    path = [folder, *sys.path] if work.__module__ == "__main__" else sys.path
    # Absolute: the child's working directory is another.
    python_path = os.pathsep.join(os.path.abspath(entry) for entry in path if entry)
    environment = {**os.environ, **CHILD_ENVIRONMENT, "PYTHONPATH": python_path}
    environment.setdefault("KERAS_HOME", NO_KERAS_HOME)
    if private_folder:
        environment["TMPDIR"] = private_folder
    return environment


def _relay(child: subprocess.Popen[bytes], data: int | None, status: int, sink: IO[bytes] | None,
           deadline: float) -> tuple[bytes, bool]:
    """Copy the child's output to ``sink``, its stdout and stderr to ours, and collect its status messages
    (at most :data:`MAX_STATUS_BYTES`), until the child has closed them all; ``(status, whether the
    deadline passed first)``, the child then killed."""
    stdout, stderr = cast(IO[bytes], child.stdout).fileno(), cast(IO[bytes], child.stderr).fileno()
    streams = {fd: (codecs.getincrementaldecoder("utf-8")("replace"), stream)
               for fd, stream in ((stdout, sys.stdout), (stderr, sys.stderr))}
    collected = bytearray()
    with selectors.DefaultSelector() as selector:
        for fd in (data, status, stdout, stderr):
            if fd is not None:
                selector.register(fd, selectors.EVENT_READ)
        while selector.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                child.kill()
                return bytes(collected), True
            for key, _ in selector.select(remaining):
                chunk = os.read(key.fd, 1 << 16)
                if not chunk:
                    selector.unregister(key.fd)
                elif key.fd == data and sink is not None:
                    sink.write(chunk)
                elif key.fd == status:
                    collected += chunk[:MAX_STATUS_BYTES - len(collected)]
                elif key.fd in streams:
                    decoder, stream = streams[key.fd]
                    stream.write(decoder.decode(chunk))
                    stream.flush()
    return bytes(collected), False


def _reap(child: subprocess.Popen[bytes], deadline: float) -> tuple[int | None, float]:
    """``(exit status as Popen gives it: negative for a signal, None if it had to be killed at the deadline,
    CPU seconds it used)``."""
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            child.returncode = os.waitstatus_to_exitcode(status)
            return child.returncode, usage.ru_utime + usage.ru_stime
        if time.monotonic() >= deadline:
            child.kill()
            _, status, usage = os.wait4(child.pid, 0)
            child.returncode = os.waitstatus_to_exitcode(status)
            return None, usage.ru_utime + usage.ru_stime
        time.sleep(0.01)


def _messages(status: bytes) -> list[dict[str, Any]]:
    """The child's status lines (JSON objects); whatever does not parse is ignored (then no result)."""
    found = []
    for line in status.splitlines():
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if isinstance(message, dict):
            found.append(message)
    return found


def _outcome(messages: list[dict[str, Any]], returncode: int | None, cpu_used: float, timed_out: bool,
             what: str, limits: Limits) -> Any:
    """The child's result, or the exception that says what happened to it."""
    final = messages[-1] if messages else {}
    if returncode == 0 and not timed_out and "result" in final:
        return final["result"]
    stopped = f"{what}: the process that builds and calls the model"
    if timed_out:
        raise ContainedFailure(f"{stopped} did not finish within {limits.wall_seconds:,} seconds ({WALL_VARIABLE}); "
                               "nothing was written")
    if returncode is not None and returncode < 0:
        number = -returncode
        if number == signal.SIGXCPU or (number == signal.SIGKILL and cpu_used >= limits.cpu_seconds):
            raise ContainedFailure(f"{stopped} used its {limits.cpu_seconds:,} seconds of CPU time ({CPU_VARIABLE}); "
                                   "nothing was written")
        if number == signal.SIGKILL:  # not by us: the kernel's out-of-memory killer
            raise ContainedFailure(OUT_OF_MEMORY.format(kind="SIGKILL", detail="the kernel stopped the model's process"))
        name = signal.Signals(number).name if number in signal.valid_signals() else f"signal {number}"
        raise ContainedFailure(f"{stopped} crashed ({name}: {signal.strsignal(number) or 'signal'}); the model file "
                               "may be damaged or crafted; nothing was written")
    if "refused" in final:
        raise ModelRefused(_clean(final["refused"]))
    if "input" in final:
        raise ToolInputError(_clean(final["input"]))
    if "memory" in final:
        raise ContainedFailure(OUT_OF_MEMORY.format(kind=_clean(final["memory"]), detail=_clean(final.get("detail"))))
    if "failed" in final:
        raise ContainedFailure(f"{stopped} failed: {_clean(final['failed'])}; nothing was written")
    raise ContainedFailure(f"{stopped} ended (exit status {returncode}) without its result; nothing was written")


def _clean(text: object) -> str:
    """One line of at most :data:`MAX_MESSAGE_CHARS` printable characters of what the child said."""
    line = " ".join(str(text).split())
    return "".join(char for char in line if char.isprintable())[:MAX_MESSAGE_CHARS]
