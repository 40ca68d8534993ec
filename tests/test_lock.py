"""One process makes a dataset or trains a run, the others wait for it (dmmlib/files/lock.py)."""

from __future__ import annotations

import subprocess
import sys

from dmmlib.files import lock

HOLDER = """import sys, time
from pathlib import Path
from dmmlib.files import lock
with lock.exclusive(Path(sys.argv[1])):
    print('held', flush=True)
    time.sleep(1.5)
    Path(sys.argv[2]).touch()
"""


def test_the_lock_excludes_another_process_and_says_it_waits(tmp_path, capsys):
    path, released = tmp_path / ".data.lock", tmp_path / "released"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path), str(released)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline().strip() == "held"
    with lock.exclusive(path, what="the made-up data", notice_after=0.2):
        # a condition, not a timer: the holder marks its release as the last thing it does while holding the lock
        assert released.exists(), "the lock did not wait for the process that held it"
    holder.wait(timeout=30)
    assert "waiting for the made-up data" in capsys.readouterr().out


def test_without_flock_the_lock_falls_back_to_a_lock_file(tmp_path, monkeypatch):
    import filelock

    def no_flock(*args, **kwargs):
        raise NotImplementedError("FileSystem does not appear to support flock")

    monkeypatch.setattr(filelock, "FileLock", no_flock)
    with lock.exclusive(tmp_path / ".data.lock"):
        assert (tmp_path / ".data.lock.soft").exists()
    assert not (tmp_path / ".data.lock.soft").exists()


def test_the_lock_of_a_folder_lies_outside_it_and_its_parent_and_is_named_by_its_whole_path(tmp_path):
    one, other = tmp_path / "a" / "runs" / "DMM-CNN-abc", tmp_path / "b" / "runs" / "DMM-CNN-abc"
    assert lock.lock_path(one) != lock.lock_path(other), "two folders of one name must not share a lock"
    assert lock.lock_path(one) == lock.lock_path(tmp_path / "a" / "runs" / ".." / "runs" / "DMM-CNN-abc")
    assert tmp_path not in lock.lock_path(one).parents
    assert lock.lock_path(one).name.startswith("DMM-CNN-abc-")


ASK_FOR_RUN = """import functools, json, sys, time, types
from pathlib import Path
from dmmlib.config import TrainConfig
from dmmlib.files import lock
from dmmlib.suite import pipeline

run_dir, go, me = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
lock.exclusive = functools.partial(lock.exclusive, notice_after=0)  # say at once that it waits


def train_run(folder):
    print("training", flush=True)
    while not go.exists():  # the test lets the first trainer finish once the second waits on the lock
        time.sleep(0.05)
    with open(folder.parent / "trainings.txt", "a") as log:
        log.write(me + "\\n")
    (folder / "history.json").write_text(json.dumps({"trainer": me}))
    return types.SimpleNamespace(iterations=1, validation_passes=1)


folder = run_dir
folder.mkdir(parents=True, exist_ok=True)
run = pipeline._train_once("X", folder, TrainConfig(), train_run)
print("got the run of", run.history["trainer"], flush=True)
"""


def test_a_run_asked_for_by_two_processes_at_once_is_trained_once(tmp_path):
    run_dir, go = tmp_path / "models" / "X", tmp_path / "go"

    def ask(name: str) -> subprocess.Popen:
        command = [sys.executable, "-c", ASK_FOR_RUN, str(run_dir), str(go), name]
        return subprocess.Popen(command, stdout=subprocess.PIPE, text=True)

    first = ask("first")
    assert first.stdout.readline().strip() == "training"
    second = ask("second")
    assert second.stdout.readline().startswith("waiting for the run X"), "the second process did not wait"
    go.touch()
    assert first.communicate(timeout=120)[0].strip() == "got the run of first"
    assert second.communicate(timeout=120)[0].strip() == "got the run of first"
    assert (tmp_path / "models" / "trainings.txt").read_text() == "first\n"
