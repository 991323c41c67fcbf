"""gxkeras.modelfile.containment: what the contained process can and cannot do, and how its failures reach the user.

Each child below is the contained work itself (a module-level function of this file, which the child
imports): it deliberately does what a memory-corruption exploit inside scikit-learn or TensorFlow would do
next, and the test checks that the kernel refused it and that the parent says so in one error line with
the model input named and no output left. Kernels or installations without a layer are simulated by
putting a stand-in ``landlock`` or ``pyseccomp`` first on the child's path (the child imports the real ones
by name, as any Python would). docs/admin.md ("What the model's process can do") names these tests.
"""
import ctypes
import errno
import os
import resource
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

import keras_model_builder as kmb
import keras_train_and_eval as kte
import model_prediction as mp
from gxkeras.modelfile.containment import ContainedFailure, Limits, run_contained
from gxkeras.modelfile.lockdown import MODE_VARIABLE
from gxkeras.galaxy.errors import ModelRefused, ToolInputError, run_tool
from repo_paths import TEST_DATA

WHAT = "Model dataset (/data/model.h5mlm)"


# ---- the children: each is run in the contained process ---------------------------------------------

def read_file(args, out):
    return Path(args["path"]).read_text()


def write_file(args, out):
    Path(args["path"]).write_text("written")


def delete_file(args, out):
    os.unlink(args["path"])


def change_mode(args, out):
    os.chmod(args["path"], 0o600)


def raw_syscall(args, out):
    """The system call ``args["number"]`` with integer arguments: ``(result, errno)``."""
    libc = ctypes.CDLL(None, use_errno=True)
    result = libc.syscall(args["number"], *(ctypes.c_long(argument) for argument in args["arguments"]))
    return [result, ctypes.get_errno()]


def open_socket(args, out):
    socket.create_connection(("127.0.0.1", 9))


def start_program(args, out):
    os.execv("/bin/true", ["true"])  # noqa: S606 (the child must be refused this)


def run_program(args, out):
    subprocess.run(["/bin/true"], check=True)


def fork(args, out):
    return os.fork()


def signal_parent(args, out):
    os.kill(os.getppid(), 0)  # signal 0 only asks whether a signal could be sent


def use_threads(args, out):
    results = []
    threads = [threading.Thread(target=lambda n=n: results.append(n * n)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(results)


def rows_then_crash(args, out):
    out.write("Predicted\n1\n")
    out.flush()
    ctypes.string_at(0)  # reads address 0: SIGSEGV


def rows_then_raise(args, out):
    out.write("Predicted\n1\n")
    raise ValueError("an unexpected failure")


def allocate(args, out):
    return len(bytearray(args["bytes"]))


def spin(args, out):
    while True:
        pass


def sleep(args, out):
    time.sleep(args["seconds"])


def refuse(args, out):
    raise (ModelRefused if args["refused"] else ToolInputError)("Model dataset: refused for a reason")


def killed(args, out):
    os.kill(os.getpid(), signal.SIGKILL)  # what the kernel's out-of-memory killer sends


def process_state(args, out):
    status = dict(line.split(":\t", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":\t" in line)
    death_signal = ctypes.c_int()
    ctypes.CDLL(None).prctl(2, ctypes.byref(death_signal))  # PR_GET_PDEATHSIG
    return {"no_new_privs": status["NoNewPrivs"].strip(), "seccomp": status["Seccomp"].strip(),
            "core": resource.getrlimit(resource.RLIMIT_CORE), "cpu": resource.getrlimit(resource.RLIMIT_CPU),
            "data": resource.getrlimit(resource.RLIMIT_DATA)[0], "death_signal": death_signal.value,
            "pid": os.getpid()}


def write_rows(args, out):
    out.write("a\tb\n1\t2\n")
    return 1


def write_outputs(args, paths):
    """Files mode: each named output written in the private folder (a temporary file and a link there too),
    then, if asked, a write outside it; the folder and TMPDIR it was given."""
    import tempfile

    for name, path in paths.items():
        Path(path).write_text(f"the {name}")
    with tempfile.NamedTemporaryFile("w") as scratch:
        scratch.write("scratch")
    os.symlink(args.get("link", "/etc/hostname"), "link")
    if args.get("outside"):
        Path(args["outside"]).write_text("written")
    return {"folder": os.getcwd(), "tmpdir": tempfile.gettempdir(), "files": sorted(os.listdir("."))}


def outputs_then_crash(args, paths):
    for path in paths.values():
        Path(path).write_text("half")
    ctypes.string_at(0)


# ---- helpers ------------------------------------------------------------------------------------

def contained(work, args=None, output=None, readable=(), limits=None):
    return run_contained(work, args or {}, WHAT, readable=readable, output=str(output) if output else None,
                         limits=limits)


def refused(work, args=None, output=None, readable=(), limits=None):
    """The ContainedFailure of ``work``; checks that it names the model input and left no output."""
    with pytest.raises(ContainedFailure) as caught:
        contained(work, args, output, readable, limits)
    assert str(caught.value).startswith(WHAT)
    if output:
        assert not Path(output).exists() and not Path(f"{output}.part").exists()
    return str(caught.value)


@pytest.fixture
def secret(tmp_path):
    path = tmp_path / "other_user" / "dataset.dat"
    path.parent.mkdir()
    path.write_text("another user's data")
    return path


@pytest.fixture
def without(tmp_path, monkeypatch):
    """``without("landlock")``, ``without("pyseccomp")``: the child finds a stand-in that behaves as on a kernel
    without Landlock, or an installation without libseccomp."""
    folder = tmp_path / "stand-ins"
    folder.mkdir()
    stand_ins = {"landlock": "def landlock_abi_version():\n    raise OSError(38, 'Function not implemented')\n",
                 "pyseccomp": "raise RuntimeError('Unable to find libseccomp')\n"}

    def hide(*names):
        for name in names:
            (folder / f"{name}.py").write_text(stand_ins[name])
        monkeypatch.syspath_prepend(str(folder))
    return hide


# ---- files ----------------------------------------------------------------------------------------

def test_a_file_outside_the_software_and_the_inputs_cannot_be_read(secret):
    assert "PermissionError" in refused(read_file, {"path": str(secret)})
    assert "PermissionError" in refused(read_file, {"path": "/etc/hostname"})


def test_the_inputs_given_can_be_read_and_nothing_beside_them(secret):
    beside = secret.parent / "beside.dat"
    beside.write_text("beside")
    assert contained(read_file, {"path": str(secret)}, readable=[secret]) == "another user's data"
    assert "PermissionError" in refused(read_file, {"path": str(beside)}, readable=[secret])


def test_other_processes_cannot_be_read_through_proc():
    assert "PermissionError" in refused(read_file, {"path": f"/proc/{os.getpid()}/environ"})


def test_no_file_can_be_written_nor_deleted(tmp_path, secret):
    assert "PermissionError" in refused(write_file, {"path": str(tmp_path / "new.txt")})
    assert "PermissionError" in refused(write_file, {"path": str(secret)}, readable=[secret.parent])
    assert "PermissionError" in refused(delete_file, {"path": str(secret)}, readable=[secret.parent])
    assert not (tmp_path / "new.txt").exists() and secret.read_text() == "another user's data"


def test_no_file_mode_can_be_changed(secret):
    mode = secret.stat().st_mode
    assert "PermissionError" in refused(change_mode, {"path": str(secret)}, readable=[secret])
    assert secret.stat().st_mode == mode


# ---- files mode: one private folder -----------------------------------------------------------------

def files_mode(tmp_path, work, args=None):
    """``work`` in files mode with two outputs asked for and one not; the paths."""
    out = {"result": tmp_path / "result.tsv", "model": tmp_path / "model.h5mlm", "history": None}
    result = run_contained(work, args or {}, WHAT, outputs={name: path and str(path) for name, path in out.items()})
    return result, out


def test_files_mode_writes_only_in_its_private_folder_and_moves_the_outputs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the job's working directory: the private folder is made there
    result, out = files_mode(tmp_path, write_outputs)
    assert out["result"].read_text() == "the result" and out["model"].read_text() == "the model"
    assert Path(result["folder"]).parent == tmp_path and result["tmpdir"] == result["folder"]
    assert result["files"] == ["link", "output_0", "output_1"]  # the temporary file removed itself
    assert sorted(path.name for path in tmp_path.iterdir()) == ["model.h5mlm", "result.tsv"]  # the folder is gone


def test_files_mode_cannot_write_outside_its_folder_nor_read_through_a_link(tmp_path, monkeypatch, secret):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ContainedFailure, match="PermissionError"):
        files_mode(tmp_path, write_outputs, {"outside": str(tmp_path / "outside.txt")})
    assert not (tmp_path / "outside.txt").exists() and not (tmp_path / "result.tsv").exists()
    with pytest.raises(ContainedFailure, match="PermissionError"):
        files_mode(tmp_path, read_through_link, {"path": str(secret)})
    assert sorted(path.name for path in tmp_path.iterdir()) == ["other_user"]


def read_through_link(args, paths):
    os.symlink(args["path"], "link")
    return Path("link").read_text()


def test_files_mode_leaves_nothing_when_the_child_crashes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ContainedFailure, match=r"crashed \(SIGSEGV"):
        files_mode(tmp_path, outputs_then_crash)
    assert list(tmp_path.iterdir()) == []


def test_files_mode_refuses_a_missing_output(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ContainedFailure, match=r"did not write its model as a file of its own; nothing was written"):
        files_mode(tmp_path, write_only_the_result)
    assert list(tmp_path.iterdir()) == []


def write_only_the_result(args, paths):
    Path(paths["result"]).write_text("the result")


def link_the_outputs(args, paths):
    """An output that is a link to a file the child cannot read, another a hard link to one it wrote."""
    os.symlink(args["path"], paths["result"])
    Path("written").write_text("written")
    os.link("written", paths["model"])


@pytest.mark.parametrize("without_landlock", [False, True])
def test_files_mode_refuses_an_output_that_is_a_link(tmp_path, monkeypatch, secret, without, without_landlock):
    """Moved into place, a link would make another user's dataset this job's output."""
    if without_landlock:
        without("landlock")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ContainedFailure, match=r"did not write its result as a file of its own"):
        files_mode(tmp_path, link_the_outputs, {"path": str(secret)})
    assert sorted(path.name for path in tmp_path.iterdir()) == ["other_user", "stand-ins"]  # no output, no folder


# ---- programs, processes, network, signals ----------------------------------------------------------

@pytest.mark.parametrize("work", [start_program, run_program, fork])
def test_no_program_and_no_process_can_be_started(work):
    assert "PermissionError" in refused(work)


def test_threads_still_work():
    assert contained(use_threads) == [0, 1, 4, 9]


def test_no_socket_can_be_opened():
    assert "PermissionError" in refused(open_socket)


def test_no_signal_can_be_sent_to_another_process():
    assert "PermissionError" in refused(signal_parent)


# Each call with arguments under which, unconfined, it would succeed or fail with another error than EPERM.
OTHER_PROCESS_AND_KERNEL_CALLS = {
    "ptrace": lambda parent: [0, 0, 0, 0],  # PTRACE_TRACEME: be traced by the tool
    "process_vm_readv": lambda parent: [parent, 0, 0, 0, 0, 0],  # read the tool's memory (no bytes)
    "pidfd_open": lambda parent: [parent, 0],  # a handle on the tool, e.g. to take its files (pidfd_getfd)
    "io_uring_setup": lambda parent: [0, 0],  # io_uring opens files without the system calls filtered
    "unshare": lambda parent: [0],
    "keyctl": lambda parent: [0, -2, 0],  # KEYCTL_GET_KEYRING_ID of the process keyring
}


@pytest.mark.parametrize("name", sorted(OTHER_PROCESS_AND_KERNEL_CALLS))
def test_calls_that_reach_other_processes_or_the_kernel_are_refused(name):
    seccomp = pytest.importorskip("pyseccomp")
    number = seccomp.resolve_syscall(seccomp.Arch.NATIVE, name)
    arguments = OTHER_PROCESS_AND_KERNEL_CALLS[name](os.getpid())
    assert contained(raw_syscall, {"number": number, "arguments": arguments}) == [-1, errno.EPERM]


def test_the_process_is_locked_down():
    state = contained(process_state)
    assert state["no_new_privs"] == "1" and state["seccomp"] == "2"  # 2: a seccomp filter
    assert state["core"] == [0, 0] and state["cpu"][0] > 0 and state["data"] > 0
    assert state["death_signal"] == signal.SIGKILL and state["pid"] != os.getpid()


# ---- crashes, limits, failures ----------------------------------------------------------------------

def test_a_crash_is_one_error_line_and_leaves_no_output(tmp_path):
    out = tmp_path / "predictions.tsv"
    assert "crashed (SIGSEGV" in refused(rows_then_crash, output=out)


def test_an_exception_is_one_error_line_and_leaves_no_output(tmp_path):
    out = tmp_path / "predictions.tsv"
    assert "failed: ValueError: an unexpected failure" in refused(rows_then_raise, output=out)


def test_the_output_appears_only_after_success(tmp_path):
    out = tmp_path / "predictions.tsv"
    assert contained(write_rows, output=out) == 1
    assert out.read_text() == "a\tb\n1\t2\n" and not Path(f"{out}.part").exists()


def test_running_out_of_memory_is_the_out_of_memory_line(monkeypatch):
    monkeypatch.setenv("GXKERAS_MEMORY_LIMIT_BYTES", str(300 * 1024 ** 2))
    with pytest.raises(ContainedFailure, match=r"^the job ran out of memory \(MemoryError"):
        contained(allocate, {"bytes": 2 * 1024 ** 3})
    assert contained(allocate, {"bytes": 100 * 1024 ** 2}) == 100 * 1024 ** 2


def test_a_kill_by_the_kernel_is_the_out_of_memory_line():
    with pytest.raises(ContainedFailure, match=r"^the job ran out of memory \(SIGKILL"):
        contained(killed)


def test_cpu_time_is_bounded():
    assert "used its 1 seconds of CPU time (GXKERAS_CPU_SECONDS)" in refused(spin, limits=Limits(1, 60))


def test_wall_time_is_bounded():
    assert "did not finish within 1 seconds (GXKERAS_WALL_SECONDS)" in refused(sleep, {"seconds": 60},
                                                                                limits=Limits(60, 1))


@pytest.mark.parametrize("kind", [ModelRefused, ToolInputError])
def test_a_refusal_in_the_child_reaches_the_user_as_it_is(kind):
    with pytest.raises(kind) as caught:
        contained(refuse, {"refused": kind is ModelRefused})
    assert type(caught.value) is kind and str(caught.value) == "Model dataset: refused for a reason"


# ---- kernels and installations without a layer ------------------------------------------------------

def test_without_landlock_nothing_can_be_written_but_reads_are_not_confined(without, secret, tmp_path, capsys):
    without("landlock")
    assert "PermissionError" in refused(write_file, {"path": str(tmp_path / "new.txt")})
    assert "PermissionError" in refused(delete_file, {"path": str(secret)})
    assert contained(read_file, {"path": str(secret)}) == "another user's data"
    assert "PermissionError" in refused(open_socket)
    assert "Containment: file reads are not confined (no Landlock on this kernel)" in capsys.readouterr().out


def test_without_landlock_files_mode_still_works_and_says_files_are_not_confined(without, tmp_path, monkeypatch,
                                                                                 capsys):
    without("landlock")
    monkeypatch.chdir(tmp_path)
    result, out = files_mode(tmp_path, write_outputs)
    assert out["result"].read_text() == "the result" and result["files"] == ["link", "output_0", "output_1"]
    assert ("Containment: files are not confined (no Landlock on this kernel, and this tool writes files); seccomp "
            "refuses new programs, processes and sockets") in capsys.readouterr().out


def test_without_libseccomp_landlock_alone_confines_files(without, secret, capsys):
    without("pyseccomp")
    assert "PermissionError" in refused(read_file, {"path": str(secret)})
    assert "PermissionError" in refused(start_program)
    assert "Containment: Landlock only (no libseccomp)" in capsys.readouterr().out


def test_without_either_the_limits_remain(without, capsys, tmp_path):
    without("landlock", "pyseccomp")
    assert "crashed (SIGSEGV" in refused(rows_then_crash, output=tmp_path / "predictions.tsv")
    assert "CPU time" in refused(spin, limits=Limits(1, 60))
    assert "Containment: none (no Landlock on this kernel, no libseccomp)" in capsys.readouterr().out


def test_required_makes_a_missing_layer_an_error(without, monkeypatch):
    without("landlock")
    monkeypatch.setenv(MODE_VARIABLE, "required")
    with pytest.raises(ToolInputError, match=r"^GXKERAS_CONTAINMENT=required, but containment is incomplete: file "
                                             r"reads are not confined"):
        contained(write_rows)


def test_off_runs_the_work_in_this_process_and_says_so(monkeypatch, capsys):
    monkeypatch.setenv(MODE_VARIABLE, "off")
    assert contained(process_state)["pid"] == os.getpid()
    assert "Containment: off (GXKERAS_CONTAINMENT=off, for measuring only)" in capsys.readouterr().out


def test_an_unknown_mode_is_an_error(monkeypatch):
    monkeypatch.setenv(MODE_VARIABLE, "disabled")
    with pytest.raises(ToolInputError, match="^GXKERAS_CONTAINMENT: unknown 'disabled'"):
        contained(write_rows)


# ---- through the tool -------------------------------------------------------------------------------

def segfaulting_predict(job, handle):
    """model_prediction's contained work, with the estimator's predict reading address 0."""
    from sklearn.ensemble import RandomForestClassifier

    RandomForestClassifier.predict = lambda self, X: ctypes.string_at(0)
    return mp.predict(job, handle)


def test_a_model_that_crashes_model_prediction_gives_one_error_line_and_no_output(tmp_path, monkeypatch, capsys,
                                                                                    write_inputs):
    monkeypatch.setattr(mp, "predict", segfaulting_predict)
    model, out = TEST_DATA / "sklearn_forest.h5mlm", tmp_path / "predictions.tsv"
    inputs = write_inputs({"infile_estimator": str(model), "method": "predict",
                           "input_options": {"selected_input": "tabular", "header1": True,
                                             "infile1": str(TEST_DATA / "sklearn_X.tsv")}})
    capsys.readouterr()
    with pytest.raises(SystemExit) as stopped:
        run_tool(mp.main, ["--inputs", inputs, "--outfile", str(out)], outputs=[str(out)])
    errors = capsys.readouterr().err.strip().splitlines()
    assert stopped.value.code == 1 and len(errors) == 1
    assert errors[0].startswith(f"Error: {mp.ESTIMATOR_LABEL} ({model}): ") and "crashed (SIGSEGV" in errors[0]
    assert not out.exists() and not Path(f"{out}.part").exists()



def crashing_training(params, outputs):
    """keras_train_and_eval's contained work, writing its metrics table, then reading address 0."""
    Path(outputs["outfile_result"]).write_text("metric\tvalidation\naccuracy\t1\n")
    ctypes.string_at(0)


def reading_training(params, outputs):
    """keras_train_and_eval's contained work reading a file that is not one of the job's datasets."""
    return Path(params["secret"]).read_text()


TRAINER_OUTPUTS = ("outfile_result", "outfile_object", "outfile_weights", "outfile_history")


def trainer_inputs(write_inputs, **more):
    return write_inputs({"experiment_schemes": {
        "selected_exp_scheme": "train_val", "infile_estimator": str(TEST_DATA / "imdb_untrained.h5mlm"),
        "test_split": {"split_algos": {"shuffle": "simple", "test_size": 0.25}}},
        "input_options": {"selected_input": "tabular", "infile1": str(TEST_DATA / "imdb_X_test.tsv"),
                          "infile2": str(TEST_DATA / "imdb_y_test.tsv")}, **more})


def run_trainer(tmp_path, inputs):
    flags = [part for name in TRAINER_OUTPUTS for part in (f"--{name}", str(tmp_path / f"{name}.out"))]
    run_tool(kte.main, ["--inputs", inputs, *flags], outputs=flags[1::2])


def test_the_trainer_trains_contained_and_leaves_only_its_outputs(tmp_path, monkeypatch, write_inputs):
    monkeypatch.chdir(tmp_path)
    run_trainer(tmp_path, trainer_inputs(write_inputs))
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted([*(f"{name}.out" for name in TRAINER_OUTPUTS),
                                                                        "inputs.json"])
    assert open(tmp_path / "outfile_result.out").readline() == "metric\tvalidation\n"


@pytest.mark.parametrize("work, message", [(crashing_training, "crashed (SIGSEGV"),
                                           (reading_training, "PermissionError")])
def test_a_model_that_crashes_or_reads_in_the_trainer_gives_one_error_line_and_no_output(
        tmp_path, monkeypatch, capsys, write_inputs, secret, work, message):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(kte, "train_and_evaluate", work)
    inputs = trainer_inputs(write_inputs, secret=str(secret))
    capsys.readouterr()
    with pytest.raises(SystemExit) as stopped:
        run_trainer(tmp_path, inputs)
    errors = capsys.readouterr().err.strip().splitlines()
    assert stopped.value.code == 1 and len(errors) == 1
    assert errors[0].startswith(f"Error: {kte.MODEL_LABEL} ({TEST_DATA / 'imdb_untrained.h5mlm'}): ") and message in errors[0]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["inputs.json", "other_user"]


def crashing_build(params, paths):
    """keras_model_builder's contained work, writing half a model, then reading address 0."""
    Path(paths["outfile"]).write_bytes(b"\x89HDF\r\n")
    ctypes.string_at(0)


def test_the_builder_builds_contained_and_a_crash_leaves_no_model(tmp_path, monkeypatch, capsys, write_inputs):
    """The prefitted mode reads an uploaded architecture and weights: built in the contained process."""
    monkeypatch.chdir(tmp_path)
    config = TEST_DATA / "imdb_model_config.json"
    inputs = write_inputs({"mode_selection": {"mode_type": "prefitted", "infile_json": str(config),
                                              "infile_weights": str(TEST_DATA / "imdb_trained.weights.h5")}})
    model = tmp_path / "model.h5mlm"
    run_tool(kmb.main, ["--inputs", inputs, "--outfile", str(model)], outputs=[str(model)])
    assert f"Wrote the model to {model}" in capsys.readouterr().out
    assert sorted(path.name for path in tmp_path.iterdir()) == ["inputs.json", "model.h5mlm"]
    model.unlink()
    monkeypatch.setattr(kmb, "build_and_describe", crashing_build)
    with pytest.raises(SystemExit):
        run_tool(kmb.main, ["--inputs", inputs, "--outfile", str(model)], outputs=[str(model)])
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 1 and errors[0].startswith(f"Error: Select the dataset containing model configuration ({config}): ")
    assert "crashed (SIGSEGV" in errors[0] and sorted(path.name for path in tmp_path.iterdir()) == ["inputs.json"]
