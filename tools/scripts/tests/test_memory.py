"""The job's memory: the smallest of Galaxy's setting, the cgroup's, the process limits and the node's free memory.

Each case builds a fake ``/proc`` and ``/sys/fs/cgroup`` in tmp_path, as the kernel lays them out.
"""
import resource

import pytest

from gxkeras.galaxy import memory
from gxkeras.galaxy.errors import ToolInputError
from gxkeras.galaxy.memory import available_memory, cgroup_memory_limit

GB = 1024 ** 3
V1_UNLIMITED = "9223372036854771712"  # what cgroup v1 writes when there is no limit


def unlimited(which):
    return resource.RLIM_INFINITY, resource.RLIM_INFINITY


def fake_system(tmp_path, self_cgroup, files, mem_total_kb=16 * 1024 ** 2, mem_available_kb=8 * 1024 ** 2,
                status="VmSize:\t  524288 kB\nVmData:\t  262144 kB\n"):
    """Write /proc/meminfo, /proc/self/cgroup, /proc/self/status and the cgroup files; return (cgroup_root, proc)."""
    proc, root = tmp_path / "proc", tmp_path / "cgroup"
    (proc / "self").mkdir(parents=True)
    (proc / "self" / "status").write_text(status)
    (proc / "meminfo").write_text(f"MemTotal:       {mem_total_kb} kB\nMemFree:        1 kB\n"
                                  f"MemAvailable:   {mem_available_kb} kB\n")
    (proc / "self" / "cgroup").write_text(self_cgroup)
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
    return str(root), str(proc)


V2_JOB = "0::/slurm/job_7\n"
V1_JOB = "5:cpu,cpuacct:/\n4:memory:/slurm/job_7\n0::/\n"


@pytest.mark.parametrize("self_cgroup, files, expected", [
    (V2_JOB, {"slurm/job_7/memory.max": str(3 * GB)}, 3 * GB),
    (V2_JOB, {"slurm/job_7/memory.max": "max", "memory.max": str(5 * GB)}, 5 * GB),  # the container's own root
    (V2_JOB, {"slurm/job_7/memory.max": "max"}, 8 * GB),  # no limit: MemAvailable
    (V1_JOB, {"memory/slurm/job_7/memory.limit_in_bytes": str(2 * GB)}, 2 * GB),
    (V1_JOB, {"memory/memory.limit_in_bytes": str(GB)}, GB),  # job path not mounted (a container)
    (V1_JOB, {"memory/slurm/job_7/memory.limit_in_bytes": V1_UNLIMITED}, 8 * GB),
    (V1_JOB, {"memory/slurm/job_7/memory.limit_in_bytes": str(64 * GB)}, 8 * GB),  # above the node's RAM: none
    (V1_JOB, {"memory/slurm/job_7/memory.limit_in_bytes": "garbage"}, 8 * GB),
    (V2_JOB, {}, 8 * GB),  # no cgroup files at all
])
def test_cgroup_limit_else_mem_available(tmp_path, self_cgroup, files, expected):
    root, proc = fake_system(tmp_path, self_cgroup, files)
    assert available_memory({}, root, proc, unlimited) == expected


def test_the_smallest_limit_wins(tmp_path):
    root, proc = fake_system(tmp_path, V2_JOB, {"slurm/job_7/memory.max": str(3 * GB)})
    assert available_memory({"GALAXY_MEMORY_MB": "1500"}, root, proc, unlimited) == 1500 * 1024 ** 2
    assert available_memory({"GALAXY_MEMORY_MB": "6000"}, root, proc, unlimited) == 3 * GB  # the cgroup's is smaller
    for unusable in ("lots", "\u00b2", "-5", "0", "1" * 30):  # '\u00b2'.isdigit() is true, int() of it fails
        assert available_memory({"GALAXY_MEMORY_MB": unusable}, root, proc, unlimited) == 3 * GB
    assert available_memory({"GXKERAS_MEMORY_LIMIT_BYTES": "4100000", "GALAXY_MEMORY_MB": "1500"},
                            root, proc, unlimited) == 4100000


@pytest.mark.parametrize("which, expected", [
    (resource.RLIMIT_AS, 2 * GB - GB // 2),  # ulimit -v 2 GB, 512 MB mapped already
    (resource.RLIMIT_DATA, GB - GB // 4),  # 1 GB data segment, 256 MB used
])
def test_process_limits_count_what_is_mapped(tmp_path, which, expected):
    """An address-space limit (ulimit -v, Grid Engine's h_vmem) is what a MemoryError comes from, whatever the node has."""
    root, proc = fake_system(tmp_path, V2_JOB, {})
    limits = {resource.RLIMIT_AS: 2 * GB, resource.RLIMIT_DATA: GB}

    def rlimit(asked):
        return (limits[which], limits[which]) if asked == which else unlimited(asked)
    assert available_memory({}, root, proc, rlimit) == expected


def test_an_allocation_over_half_the_budget_is_refused(monkeypatch):
    monkeypatch.setenv(memory.LIMIT_VARIABLE, str(GB))
    memory.check_allocation(GB // 2, "Vocabulary", "a table of 1,000 words")
    with pytest.raises(ToolInputError, match=r"^Vocabulary: a table of 10\^9 words needs 8\.0 GB, more than half "
                                             r"of the 1\.0 GB of memory this job may use; use fewer words$"):
        memory.check_allocation(8 * GB, "Vocabulary", "a table of 10^9 words", "use fewer words")


def test_both_hierarchies_take_the_smaller(tmp_path):
    root, _ = fake_system(tmp_path, "4:memory:/a\n0::/b\n", {"b/memory.max": str(3 * GB),
                                                              "memory/a/memory.limit_in_bytes": str(2 * GB)})
    assert cgroup_memory_limit(root, str(tmp_path / "proc" / "self" / "cgroup")) == 2 * GB


def test_nothing_known_means_no_limit(tmp_path):
    assert available_memory({}, str(tmp_path / "none"), str(tmp_path / "none"), unlimited) is None
