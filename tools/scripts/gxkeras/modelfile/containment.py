"""Building and calling an estimator from an uploaded file in a child process that cannot reach anything else.

The audits of :mod:`gxkeras.modelfile.model_io` and :mod:`gxkeras.modelfile.sklearn_loaders.reader` check what they can see, but an uploaded
model is then built and called by scikit-learn's, scipy's, XGBoost's and TensorFlow's C code, and a file
crafted to corrupt memory there runs code inside the job, which on most servers can read every user's
datasets. So that part of a tool runs in a child process that locks itself down first (:func:`lock_down`):

- **files** (Landlock): it may read only the installed software (``sys.prefix``, ``sys.base_prefix``, every
  folder on ``sys.path``, the tool folder, the system's library folders, :data:`SYSTEM_READABLE`) and the
  job's inputs the tool names; it can open nothing for writing (``/dev/null`` aside), create, delete, rename,
  link or truncate no file, and execute none;
- **system calls** (seccomp-bpf, :data:`DENIED`): no new programs, processes (threads only), sockets,
  ptrace or reading other processes' memory, signals to other processes, io_uring, mounts or namespaces,
  and no changes to files' modes, owners, times or extended attributes (which Landlock does not cover);
- **limits**: its data segment may grow by the job's memory budget (:func:`gxkeras.galaxy.memory.memory_budget`),
  its CPU time and wall-clock time are bounded (:data:`CPU_VARIABLE`, :data:`WALL_VARIABLE`), it writes no
  core file, ``PR_SET_NO_NEW_PRIVS`` is set, and it dies with its parent.

The child is a fresh Python (``sys.executable``), not a ``fork`` of the tool: Landlock (ABI 7) confines
only the thread that asks, and a fresh interpreter is single-threaded until it imports numpy, so every
thread it ever has (OpenBLAS's, TensorFlow's, OpenMP's) starts confined; a forked TensorFlow also deadlocks.
The child imports the tool's module and calls the given function with JSON arguments. It writes its
output in one of two ways, and the parent puts the output in place only when the child has exited 0:

- one stream (``output``, model_prediction): it goes through a pipe to ``<output>.part``, then renamed;
- files (``outputs``, the trainer: a model, weights, tables): the child may create, write and remove files
  in one private folder (its working directory and ``TMPDIR``, made by the parent in the job's working
  directory) and nowhere else; the parent moves each named file to its output path, then removes the folder.
 A crash (SIGSEGV ...), a kill, running out of memory or time, or any exception
gives one ``Error:`` line that names the model input, a non-zero exit and no output; a
:class:`~gxkeras.galaxy.errors.ToolInputError` raised in the child reaches the user as it would have in-process.

Without Landlock (Linux < 5.13, or not enabled) seccomp also refuses every open for writing and every
change to a file, and the job's output says in one line that reads are not confined (with ``outputs``,
which must write files, neither reads nor writes are: said in the line); without libseccomp,
Landlock alone; without both, limits only: each said in one line. ``GXKERAS_CONTAINMENT=required`` makes a
missing layer an error; ``=off`` runs the work unconfined in the tool's own process, for measuring only (the
containment's cost; what the work itself imports).
docs/admin.md ("What the model's process can do") says what each layer stops, with the test of each claim.
"""
import codecs
import contextlib
import ctypes
import errno
import glob
import importlib
import inspect
import json
import os
import resource
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
from types import ModuleType
from typing import IO, Any, cast

from gxkeras.galaxy.errors import OUT_OF_MEMORY, ModelRefused, ToolInputError, first_line, out_of_memory
from gxkeras.galaxy.forms import TOOLS
from gxkeras.galaxy.outputs import atomic_output, move_into_place
from gxkeras.keras.environment import galaxy_slots
from gxkeras.galaxy.memory import NO_LIMIT, memory_budget
from gxkeras.galaxy.values import parse_int

MODE_VARIABLE = "GXKERAS_CONTAINMENT"  # unset or "auto"; "required": no layer may be missing; "off": measuring only
MODES = ("auto", "required", "off")
# CPU seconds the child may use (RLIMIT_CPU); default one day per core Galaxy gave the job (GALAXY_SLOTS).
CPU_VARIABLE = "GXKERAS_CPU_SECONDS"
CPU_SECONDS_PER_SLOT = 24 * 3600
# Wall-clock seconds the child may run, also when it waits without using the CPU; default one day.
WALL_VARIABLE = "GXKERAS_WALL_SECONDS"
DEFAULT_WALL_SECONDS = 24 * 3600
MAX_SECONDS = 10 ** 8
CPU_GRACE_SECONDS = 5  # from SIGXCPU (the soft limit) to SIGKILL (the hard one), for a child ignoring SIGXCPU

# Read-only, besides the Python installation: the loader's cache, time zones and locales, the kernel's
# view of this process (/proc/self), of memory, CPUs and cgroups (numpy, TensorFlow, OpenBLAS and
# gxkeras.galaxy.memory read them), and randomness. Nothing here is a user's file. /proc/self resolves to this
# process's own folder: other processes' /proc entries (their environment, their memory) stay closed.
SYSTEM_READABLE = ("/lib", "/lib32", "/lib64", "/usr/lib", "/usr/lib32", "/usr/lib64", "/usr/local/lib",
                   "/usr/share/zoneinfo", "/usr/share/locale", "/etc/ld.so.cache", "/etc/localtime",
                   "/proc/self", "/proc/meminfo", "/proc/cpuinfo", "/proc/stat", "/proc/driver/nvidia", "/sys",
                   "/dev/urandom", "/dev/random", "/dev/zero")
WRITABLE_DEVICES = ("/dev/null",)
# On a GPU node CUDA opens its device files for reading and writing and sends them ioctls.
GPU_DEVICES = "/dev/nvidia*"
GPU_SOFTWARE = "/usr/local/cuda*"

# System calls refused (EPERM) whatever the kernel: what would start anything outside this process,
# reach the network or another process, or change files in ways Landlock does not govern.
DENIED = ("execve", "execveat", "fork", "vfork", "socket", "socketpair", "ptrace", "process_vm_readv",
          "process_vm_writev", "process_madvise", "kcmp", "pidfd_open", "pidfd_getfd", "pidfd_send_signal", "tkill",
          "io_uring_setup", "io_uring_enter", "io_uring_register", "open_by_handle_at", "name_to_handle_at",
          "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "move_mount", "open_tree", "fsopen",
          "fsmount", "fspick", "mount_setattr", "bpf", "perf_event_open", "userfaultfd", "keyctl", "add_key",
          "request_key", "chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "fchown", "lchown", "fchownat",
          "utime", "utimes", "utimensat", "futimesat", "setxattr", "lsetxattr", "fsetxattr", "removexattr",
          "lremovexattr", "fremovexattr")
# Signals: to this process only (raise, abort and Python's own signal calls name it).
SIGNAL_CALLS = ("kill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo")
# Without Landlock: every change to the file system is refused too.
FILE_CHANGES = ("creat", "truncate", "unlink", "unlinkat", "rename", "renameat", "renameat2", "mkdir", "mkdirat",
                "rmdir", "link", "linkat", "symlink", "symlinkat", "mknod", "mknodat")
OPEN_FLAGS_ARGUMENT = {"open": 1, "openat": 2}  # openat2 passes its flags in a struct: refused (ENOSYS)
WRITE_FLAGS = (os.O_WRONLY, os.O_RDWR, os.O_CREAT, os.O_TRUNC, os.O_APPEND)
CLONE_THREAD = 0x00010000

PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
# What libraries expect of the child's environment: joblib's probe of multiprocessing creates a semaphore
# file (refused, with a warning); Keras reads and writes ~/.keras/keras.json (refused: the child runs with
# Keras' defaults, as a Galaxy job with its own HOME does, unless the admin set KERAS_HOME, which is read).
CHILD_ENVIRONMENT = {"JOBLIB_MULTIPROCESSING": "0"}
NO_KERAS_HOME = os.path.join(os.devnull, "keras")  # not a folder: nothing can be read or made there
# Imported by nothing the child does, but by Keras at start-up, which cannot work without a writable cache
# folder: it is hidden (Keras imports it inside ``try: ... except ImportError``).
NOT_IN_CHILD = ("matplotlib",)

MAX_STATUS_BYTES = 16 * 1024 ** 2  # the child's messages and result: a result is small (a count, importances)
MAX_MESSAGE_CHARS = 2000
BOOT = "from gxkeras.modelfile.containment import child_main; child_main()"  # with -P: no working directory on its path

# work(args, out): out is the output stream (``output``), the private paths of the named files (``outputs``),
# or None.
Work = Callable[[Any, Any], Any]
OUTPUTS_FOLDER_PREFIX = "contained_outputs_"
# What the child may do in its private folder (Landlock): whatever files need, links and renames included
# (a link's target is checked when it is opened, so a link grants nothing outside the folder).
FOLDER_ACCESS = ("READ_FILE", "READ_DIR", "WRITE_FILE", "REMOVE_FILE", "REMOVE_DIR", "MAKE_REG", "MAKE_DIR",
                 "MAKE_SYM", "REFER", "TRUNCATE")
RIGHTS_SINCE_ABI = {"REFER": 2, "TRUNCATE": 3, "IOCTL_DEV": 5}  # the others: ABI 1


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
    mode = os.environ.get(MODE_VARIABLE) or "auto"
    if mode not in MODES:
        raise ToolInputError(f"{MODE_VARIABLE}: {mode[:40]!r} is not one of {', '.join(MODES)}")
    return mode


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
    job = {"module": module, "function": function, "args": args, "readable": _existing(readable),
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


def _existing(paths: Iterable[str]) -> list[str]:
    return [os.path.abspath(path) for path in paths if path and os.path.exists(path)]


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


# ---- the child -----------------------------------------------------------------------------------

def child_main() -> None:
    """The child's program (:data:`BOOT`): read the job from stdin, lock down, import and run the work,
    report on the status pipe, and exit without running anything else (``os._exit``)."""
    job = json.loads(sys.stdin.buffer.read())
    code = 1
    with os.fdopen(job["status_fd"], "w", encoding="utf-8") as status:
        try:
            _die_with(job["parent"])
            notes = lock_down(job["readable"], job["cpu_seconds"], job["required"], job["folder"])
            _send(status, {"notes": notes})
            work = getattr(importlib.import_module(job["module"]), job["function"])
            if job["private"] is not None:
                result = work(job["args"], job["private"])
            else:
                with os.fdopen(job["data_fd"], "w", encoding="utf-8") if job["data_fd"] is not None else contextlib.nullcontext() as out:
                    result = work(job["args"], out)
            _send(status, {"result": result})
            code = 0
        except ModelRefused as error:
            _send(status, {"refused": str(error)})
        except ToolInputError as error:
            _send(status, {"input": str(error)})
        except BaseException as error:  # noqa: B036 (the child reports everything, then ends)
            if out_of_memory(error):
                _send(status, {"memory": type(error).__name__, "detail": first_line(error, 120)})
            else:
                _send(status, {"failed": f"{type(error).__name__}: {first_line(error)}"})
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _send(status: IO[str], message: dict[str, Any]) -> None:
    status.write(json.dumps(message) + "\n")
    status.flush()


def lock_down(readable: Iterable[str], cpu_seconds: int, required: bool, folder: str | None = None) -> list[str]:
    """Confine this process for good (see the module's docstring); return the notes on layers missing.

    Called while the process has one thread: Landlock and seccomp confine the calling thread and every
    thread started after it, not threads that already run. ``folder``: the one folder it may write in.
    """
    if len(os.listdir("/proc/self/task")) != 1:
        raise RuntimeError("lock_down: the process already runs several threads, which it would not confine")
    _set_limits(cpu_seconds)
    _prctl(PR_SET_NO_NEW_PRIVS, 1)
    for name in NOT_IN_CHILD:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]  # the import system's "cannot be imported"
    tempfile.gettempdir()  # its first call probes by writing a file; TensorFlow's import asks for it
    seccomp = _libseccomp()  # first: it runs a program to find the library
    files_confined = _confine_files([*_software(), *readable], folder)
    calls_filtered = seccomp is not None and _filter_calls(seccomp, confine_writes=not files_confined and not folder)
    missing = []
    if not files_confined and calls_filtered and folder:
        missing.append("files are not confined (no Landlock on this kernel, and this tool writes files); seccomp "
                       "refuses new programs, processes and sockets")
    elif not files_confined and calls_filtered:
        missing.append("file reads are not confined (no Landlock on this kernel); seccomp refuses writing files, new "
                       "programs, processes and sockets")
    elif files_confined and not calls_filtered:
        missing.append("Landlock only (no libseccomp): files are confined, but the model's process could open "
                       "sockets and start processes")
    elif not files_confined:
        missing.append("none (no Landlock on this kernel, no libseccomp): the model's process runs under memory and "
                       "time limits only")
    if missing and required:
        raise ToolInputError(f"{MODE_VARIABLE}=required, but containment is incomplete: {missing[0]}")
    return missing


def _software() -> list[str]:
    """What the child may read besides the job's inputs: the Python installation and everything on its path,
    the tool folder (its XML forms), the system's libraries (:data:`SYSTEM_READABLE`), CUDA's, those on
    ``LD_LIBRARY_PATH``, and Keras' configuration folder if the admin set ``KERAS_HOME``."""
    found = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, *sys.path, str(TOOLS),
             *SYSTEM_READABLE, *glob.glob(GPU_SOFTWARE), *os.environ.get("LD_LIBRARY_PATH", "").split(os.pathsep),
             os.environ.get("KERAS_HOME", "")]
    return _existing(path for path in found if os.path.isabs(path))  # a relative entry would be the working folder


def _confine_files(readable: list[str], folder: str | None = None) -> bool:
    """Let this process read only ``readable`` and write only :data:`WRITABLE_DEVICES` (and a GPU's devices)
    and, with :data:`FOLDER_ACCESS`, in ``folder``; False where the kernel has no Landlock (or refuses it, as
    a container's seccomp profile may)."""
    try:
        import landlock
        from landlock import FSAccess

        abi = landlock.landlock_abi_version()
        ruleset = landlock.Ruleset()  # every access right of this ABI is handled: what no rule grants is refused
    except (ImportError, OSError, ValueError):  # ValueError: the package's reason-finding misreads odd kernel names
        return False
    read_file = FSAccess.READ_FILE
    device = _rights(FSAccess, ("READ_FILE", "WRITE_FILE", "IOCTL_DEV"), abi)
    for path in dict.fromkeys(readable):
        ruleset.allow(path, rules=read_file | FSAccess.READ_DIR if os.path.isdir(path) else read_file)
    for path in [*WRITABLE_DEVICES, *glob.glob(GPU_DEVICES)]:
        ruleset.allow(path, rules=device)
    if folder:
        ruleset.allow(folder, rules=_rights(FSAccess, FOLDER_ACCESS, abi))
    try:
        ruleset.apply()
    except OSError:
        return False
    return True


def _rights(access: Any, names: Iterable[str], abi: int) -> Any:
    """The union of the rights named that this Landlock ABI has (:data:`RIGHTS_SINCE_ABI`)."""
    rights = 0
    for name in names:
        if abi >= RIGHTS_SINCE_ABI.get(name, 1):
            rights |= getattr(access, name)
    return rights


def _libseccomp() -> ModuleType | None:
    """pyseccomp, None where libseccomp is not installed. Imported before anything is confined: it finds
    the library with ``ldconfig``, a program."""
    try:
        import pyseccomp
    except (ImportError, RuntimeError, OSError):  # RuntimeError: libseccomp was not found
        return None
    return pyseccomp


def _filter_calls(seccomp: ModuleType, confine_writes: bool) -> bool:
    """Load the seccomp filter (:data:`DENIED`, signals to this process only, threads but no processes;
    with ``confine_writes`` also :data:`FILE_CHANGES` and opening for writing); False if the kernel refuses it."""
    denied = seccomp.ERRNO(errno.EPERM)
    syscalls = seccomp.SyscallFilter(seccomp.ALLOW)
    for name in [*DENIED, *(FILE_CHANGES if confine_writes else ())]:
        if seccomp.resolve_syscall(seccomp.Arch.NATIVE, name) >= 0:  # newer than this libseccomp: not filtered
            syscalls.add_rule(denied, name)
    for name in SIGNAL_CALLS:
        syscalls.add_rule(denied, name, seccomp.Arg(0, seccomp.NE, os.getpid()))
    syscalls.add_rule(denied, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, CLONE_THREAD, 0))
    syscalls.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")  # its flags are in a struct: libc falls back to clone
    if confine_writes:
        syscalls.add_rule(seccomp.ERRNO(errno.ENOSYS), "openat2")  # likewise: libc and Python use openat
        for name, argument in OPEN_FLAGS_ARGUMENT.items():
            for flag in WRITE_FLAGS:
                syscalls.add_rule(denied, name, seccomp.Arg(argument, seccomp.MASKED_EQ, flag, flag))
    try:
        syscalls.load()
    except OSError:
        return False
    return True


def _set_limits(cpu_seconds: int) -> None:
    """No core file; CPU time; the data segment (private writable memory: heap, anonymous maps, thread stacks)
    may grow by the job's memory budget. RLIMIT_DATA, not RLIMIT_AS: CUDA and TensorFlow reserve far more
    address space than they use, as inaccessible mappings, which RLIMIT_DATA does not count."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CPU, _lowered(resource.RLIMIT_CPU, cpu_seconds, CPU_GRACE_SECONDS))
    budget = memory_budget()
    if budget < NO_LIMIT:
        resource.setrlimit(resource.RLIMIT_DATA, _lowered(resource.RLIMIT_DATA, _data_bytes() + budget, 0))


def _lowered(which: int, soft: int, grace: int) -> tuple[int, int]:
    """``(soft, soft + grace)``, never above the hard limit the process already has."""
    hard = resource.getrlimit(which)[1]
    if hard != resource.RLIM_INFINITY:
        return min(soft, hard), min(soft + grace, hard)
    return soft, soft + grace


def _data_bytes() -> int:
    """The process's data segment now (``VmData``), in bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmData:"):
                return int(line.split()[1]) * 1024
    return 0


def _die_with(parent: int) -> None:
    """SIGKILL this process when its parent, the tool, ends (Galaxy stopping a job stops the tool)."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it ended already
        os._exit(1)


def _prctl(option: int, value: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(option, ctypes.c_ulong(value), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0)) != 0:
        raise OSError(ctypes.get_errno(), f"prctl({option}) failed")
