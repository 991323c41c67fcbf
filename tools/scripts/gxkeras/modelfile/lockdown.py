"""The contained child's side: it locks itself down for good, then imports and runs the work.

The parent (:mod:`gxkeras.modelfile.containment`) starts this program (:func:`child_main`) as a fresh Python and
hands it the job on stdin. Before anything of the work is imported, :func:`lock_down` confines the process:

- **files** (Landlock): it may read only the installed software (``sys.prefix``, ``sys.base_prefix``, every
  folder on ``sys.path``, the tool folder, the system's library folders, :data:`SYSTEM_READABLE`) and the
  job's inputs the tool names; it can open nothing for writing (``/dev/null`` aside), create, delete, rename,
  link or truncate no file, and execute none; with the parent's private folder (files mode), whatever files
  need there (:data:`FOLDER_ACCESS`) and nowhere else;
- **system calls** (seccomp-bpf, :data:`DENIED`): no new programs, processes (threads only), sockets,
  ptrace or reading other processes' memory, signals to other processes, io_uring, mounts or namespaces,
  and no changes to files' modes, owners, times or extended attributes (which Landlock does not cover);
- **limits**: its data segment may grow by the job's memory budget (:func:`gxkeras.galaxy.memory.memory_budget`),
  its CPU time is bounded (the parent bounds its wall-clock time), it writes no core file,
  ``PR_SET_NO_NEW_PRIVS`` is set, and it dies with its parent.

Landlock (ABI 7) confines only the thread that asks, and a fresh interpreter is single-threaded until it
imports numpy: this module imports nothing that starts a thread, so every thread the work ever has
(OpenBLAS's, TensorFlow's, OpenMP's) starts confined. The child reports on its status pipe, one JSON object a
line (``notes``, then ``result`` or how it failed), which the parent turns into the tool's outcome.

Without Landlock (Linux < 5.13, or not enabled) seccomp also refuses every open for writing and every
change to a file, and the notes say in one line that reads are not confined (in files mode, which must write
files, neither reads nor writes are); without libseccomp, Landlock alone; without both, limits only: each
said in one line. Under ``GXKERAS_CONTAINMENT=required`` (:data:`MODE_VARIABLE`) a missing layer is an error.
docs/admin.md ("What the model's process can do") says what each layer stops, with the test of each claim.
"""
import contextlib
import ctypes
import errno
import glob
import importlib
import json
import os
import resource
import signal
import sys
import tempfile
from collections.abc import Iterable
from types import ModuleType
from typing import IO, Any

from gxkeras.galaxy.errors import ModelRefused, ToolInputError, first_line, out_of_memory
from gxkeras.galaxy.forms import TOOLS
from gxkeras.galaxy.memory import NO_LIMIT, memory_budget

# The admin's choice, read by the parent; named here because lock_down refuses an incomplete containment under it.
MODE_VARIABLE = "GXKERAS_CONTAINMENT"  # unset or "auto"; "required": no layer may be missing; "off": measuring only

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

# Imported by nothing the child does, but by Keras at start-up, which cannot work without a writable cache
# folder: it is hidden (Keras imports it inside ``try: ... except ImportError``).
NOT_IN_CHILD = ("matplotlib",)

# What the child may do in its private folder (Landlock): whatever files need, links and renames included
# (a link's target is checked when it is opened, so a link grants nothing outside the folder).
FOLDER_ACCESS = ("READ_FILE", "READ_DIR", "WRITE_FILE", "REMOVE_FILE", "REMOVE_DIR", "MAKE_REG", "MAKE_DIR",
                 "MAKE_SYM", "REFER", "TRUNCATE")
RIGHTS_SINCE_ABI = {"REFER": 2, "TRUNCATE": 3, "IOCTL_DEV": 5}  # the others: ABI 1


def child_main() -> None:
    """The child's program (:data:`gxkeras.modelfile.containment.BOOT`): read the job from stdin, lock down, import and run the work,
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
    return existing_paths(path for path in found if os.path.isabs(path))  # a relative entry would be the working folder


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


def existing_paths(paths: Iterable[str]) -> list[str]:
    """The paths that exist, made absolute (the child's working directory is another than the parent's)."""
    return [os.path.abspath(path) for path in paths if path and os.path.exists(path)]
