"""The one place that knows how much memory this job may use, and refuses an allocation before it is made.

A file or a form value sizes many allocations: a vocabulary, ``maxlen``, a number of classes, a
confusion matrix, a one-hot table, a polynomial expansion, an HDF5 dataset. Made blindly, a too-large
one ends the job in a ``MemoryError`` traceback, or gets it killed by the kernel's OOM killer with no
message at all. Every such size is compared first, with :func:`check_allocation`, with the job's memory.

What the job may use is the smallest of everything that limits it: Galaxy's ``GALAXY_MEMORY_MB`` (what a
destination such as TPV's ``mem`` sets), the job's cgroup memory limit (v2 ``memory.max``, v1
``memory.limit_in_bytes``: what the OOM killer enforces in a container or a Slurm/systemd job), the
process's address-space and data-segment limits (``RLIMIT_AS``, ``RLIMIT_DATA``: ``ulimit -v``, Grid
Engine's ``h_vmem``), less what the process already maps, and the node's ``MemAvailable``. The node's free
memory alone is the wrong number under a scheduler: it can be 100 GB while the job may use 4.
"""
import os
import resource
from collections.abc import Callable, Mapping

from gxkeras.galaxy.errors import ToolInputError

# For tests and administrators: a fixed limit in bytes instead of the machine's (it replaces every other).
LIMIT_VARIABLE = "GXKERAS_MEMORY_LIMIT_BYTES"
# What Galaxy sets when the job's destination gives it memory (e.g. TPV's ``mem``), in MB.
GALAXY_MEMORY_VARIABLE = "GALAXY_MEMORY_MB"
# cgroup v1 writes "no limit" as a page-rounded 2**63; anything this large is no limit either.
NO_LIMIT = 2 ** 60
# An allocation a file or form value sizes may take this share of the job's memory: the rest is for the
# Python process itself, the copies numpy and scikit-learn make, and the output.
ALLOCATION_SHARE = 2
# (resource limit, the /proc/self/status line of what the process already uses against it)
PROCESS_LIMITS = ((resource.RLIMIT_AS, "VmSize"), (resource.RLIMIT_DATA, "VmData"))


def available_memory(environ: Mapping[str, str] | None = None, cgroup_root: str = "/sys/fs/cgroup",
                     proc: str = "/proc", rlimit: Callable[[int], tuple[int, int]] = resource.getrlimit) -> int | None:
    """Bytes of memory this job may still use, None when nothing says.

    ``GXKERAS_MEMORY_LIMIT_BYTES`` (bytes) replaces everything else; otherwise the smallest of
    ``GALAXY_MEMORY_MB``, the cgroup limit, the process limits (less what is mapped already) and the node's
    ``MemAvailable``. The paths and ``rlimit`` are arguments so that tests can give fake ``/sys/fs/cgroup``
    and ``/proc`` trees and limits.
    """
    environ = os.environ if environ is None else environ
    override = _positive(environ.get(LIMIT_VARIABLE, ""))
    if override:
        return override
    meminfo = _status_values(os.path.join(proc, "meminfo"))
    status = _status_values(os.path.join(proc, "self", "status"))
    galaxy_mb = _positive(environ.get(GALAXY_MEMORY_VARIABLE, ""))
    limits = [galaxy_mb * 1024 * 1024 if galaxy_mb else None, meminfo.get("MemAvailable")]
    cgroup = cgroup_memory_limit(cgroup_root, os.path.join(proc, "self", "cgroup"))
    limits.append(cgroup if cgroup and cgroup < meminfo.get("MemTotal", NO_LIMIT) else None)
    for which, used in PROCESS_LIMITS:
        soft = rlimit(which)[0]
        if 0 <= soft < NO_LIMIT:  # RLIM_INFINITY is -1
            limits.append(max(soft - status.get(used, 0), 0))
    known = [limit for limit in limits if limit is not None]
    return min(known) if known else None


def memory_budget() -> int:
    """What :func:`available_memory` says, or :data:`NO_LIMIT` when nothing says."""
    found = available_memory()
    return NO_LIMIT if found is None else found


def check_allocation(n_bytes: int, what: str, purpose: str, advice: str = "",
                     error: type[ToolInputError] = ToolInputError) -> None:
    """Refuse ``n_bytes`` for ``purpose`` (e.g. "a 100,000 x 100,000 confusion matrix") when they exceed
    half of the job's memory; ``what`` names the input that sized it, ``advice`` says what to change."""
    budget = memory_budget()
    if n_bytes > budget // ALLOCATION_SHARE:
        raise error(f"{what}: {purpose} needs {format_bytes(n_bytes)}, more than half of the "
                    f"{format_bytes(budget)} of memory this job may use{'; ' + advice if advice else ''}")


def format_bytes(count: float) -> str:
    """``1536`` -> ``1.5 KB``, for sizes in error messages."""
    units = ("bytes", "KB", "MB", "GB", "TB", "PB", "EB")
    index = 0
    while count >= 1024 and index < len(units) - 1:
        count /= 1024
        index += 1
    return f"{count:,.0f} bytes" if index == 0 else f"{count:,.1f} {units[index]}"


def cgroup_memory_limit(cgroup_root: str = "/sys/fs/cgroup", self_cgroup: str = "/proc/self/cgroup") -> int | None:
    """The smallest memory limit of this process's cgroups (v2 ``memory.max``, v1
    ``memory.limit_in_bytes``), None when there is none ("max" or a huge value means none).

    The process's own cgroup comes from ``/proc/self/cgroup``; inside a container that path is
    often not mounted, and the container's limit is then on the mounted root, which is read too.
    """
    v2_path, v1_path = "", ""
    for line in _lines(self_cgroup):
        hierarchy, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if hierarchy == "0" and controllers == "":
            v2_path = path
        elif "memory" in controllers.split(","):
            v1_path = path
    candidates = [os.path.join(cgroup_root, v2_path.lstrip("/"), "memory.max"),
                  os.path.join(cgroup_root, "memory.max"),
                  os.path.join(cgroup_root, "memory", v1_path.lstrip("/"), "memory.limit_in_bytes"),
                  os.path.join(cgroup_root, "memory", "memory.limit_in_bytes")]
    limits = [value for value in (_positive("".join(_lines(path))) for path in candidates) if value]
    return min(limits) if limits else None


def _positive(text: str) -> int | None:
    """A positive whole number below :data:`NO_LIMIT` in ASCII digits, else None (unusable: ignored)."""
    text = text.strip()
    if not (text.isascii() and text.isdigit() and len(text) < 20):
        return None
    return int(text) if 0 < int(text) < NO_LIMIT else None


def _lines(path: str) -> list[str]:
    try:
        with open(path) as handle:
            return handle.read(1 << 16).splitlines()
    except (OSError, UnicodeDecodeError):
        return []


def _status_values(path: str) -> dict[str, int]:
    """``/proc/meminfo``'s or ``/proc/self/status``'s ``Name: N kB`` lines as bytes."""
    values = {}
    for line in _lines(path):
        name, _, rest = line.partition(":")
        fields = rest.split()
        number = _positive(fields[0]) if len(fields) == 2 and fields[1] == "kB" else None
        if number is not None:
            values[name] = number * 1024
    return values
