"""`pimlens ui` runs dagster dev through run_in_own_group: a SIGINT or SIGTERM reaches every process the command
started, and none outlives it, even one that ignores SIGTERM or a command that passes nothing on."""

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

# Like dagster dev: starts children (here one that stops on SIGTERM and one that ignores it), and on SIGTERM exits
# without stopping them. On SIGINT it stays, and only the signal the children get themselves stops them.
COMMAND = textwrap.dedent(
    """
    import signal, subprocess, sys, time
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    polite = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    stubborn = subprocess.Popen([sys.executable, "-c",
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"])
    open(sys.argv[1], "w").write(f"{polite.pid} {stubborn.pid}")
    time.sleep(600)
    """
)
WRAPPER = textwrap.dedent(
    """
    import sys
    from pipelines.lib.process_group import run_in_own_group
    result = run_in_own_group([sys.executable, "-c", sys.argv[1], sys.argv[2]], grace_seconds=float(sys.argv[3]))
    print(result.stopped_by.name if result.stopped_by else "none", result.returncode)
    """
)


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_reaches_every_child_and_none_survives(tmp_path, stop) -> None:
    pids_file = tmp_path / "children"
    grace = 1.0
    wrapper = subprocess.Popen(
        [sys.executable, "-c", WRAPPER, COMMAND, str(pids_file), str(grace)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[3],
    )
    deadline = time.monotonic() + 30
    while not (pids_file.is_file() and pids_file.read_text()):
        assert time.monotonic() < deadline and wrapper.poll() is None
        time.sleep(0.05)
    children = [int(pid) for pid in pids_file.read_text().split()]
    assert all(running(pid) for pid in children)

    started = time.monotonic()
    wrapper.send_signal(stop)
    out, _ = wrapper.communicate(timeout=30)
    assert out.split()[0] == stop.name
    # The polite child stopped on the forwarded signal; the stubborn one was killed after the grace period.
    assert not any(running(pid) for pid in children)
    assert time.monotonic() - started < grace + 10
