"""The job's memory limit: Galaxy's setting, then the cgroup's, then the node's free memory.

Each case builds a fake ``/proc`` and ``/sys/fs/cgroup`` in tmp_path, as the kernel lays them out.
"""
import pytest

from gxkeras.resources import available_memory, cgroup_memory_limit

GB = 1024 ** 3
V1_UNLIMITED = "9223372036854771712"  # what cgroup v1 writes when there is no limit


def fake_system(tmp_path, self_cgroup, files, mem_total_kb=16 * 1024 ** 2, mem_available_kb=8 * 1024 ** 2):
    """Write /proc/meminfo, /proc/self/cgroup and the cgroup files; return (cgroup_root, proc)."""
    proc, root = tmp_path / "proc", tmp_path / "cgroup"
    (proc / "self").mkdir(parents=True)
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
    assert available_memory({}, root, proc) == expected


def test_galaxy_memory_comes_before_the_cgroup(tmp_path):
    root, proc = fake_system(tmp_path, V2_JOB, {"slurm/job_7/memory.max": str(3 * GB)})
    assert available_memory({"GALAXY_MEMORY_MB": "1500"}, root, proc) == 1500 * 1024 ** 2
    assert available_memory({"GALAXY_MEMORY_MB": "lots"}, root, proc) == 3 * GB  # unusable: ignored
    assert available_memory({"GXKERAS_MEMORY_LIMIT_BYTES": "4100000", "GALAXY_MEMORY_MB": "1500"},
                            root, proc) == 4100000


def test_both_hierarchies_take_the_smaller(tmp_path):
    root, _ = fake_system(tmp_path, "4:memory:/a\n0::/b\n", {"b/memory.max": str(3 * GB),
                                                              "memory/a/memory.limit_in_bytes": str(2 * GB)})
    assert cgroup_memory_limit(root, str(tmp_path / "proc" / "self" / "cgroup")) == 2 * GB


def test_nothing_known_means_no_limit(tmp_path):
    assert available_memory({}, str(tmp_path / "none"), str(tmp_path / "none")) is None
