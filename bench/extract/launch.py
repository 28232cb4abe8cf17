"""Run a command and report its peak RSS, from a small process.

    python -m bench.extract.launch RESULT.json -- command...

Why a launcher: on Linux a child's ru_maxrss (os.wait4) starts from the RSS of the process that spawned it
(exec records the old address space's high-water mark, and subprocess spawns with vfork/fork). Spawned
straight from the benchmark, which also hosts the emulator and its memory-mapped tenant, the extractor's
"peak RSS" was the benchmark's. Spawned from this ~10 MB process, it is the extractor's own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time


def main(argv: list[str]) -> int:
    result_path, separator, *command = argv
    if separator != "--" or not command:
        raise SystemExit(__doc__)
    started = time.perf_counter()
    child = subprocess.Popen(command)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    with open(result_path, "w", encoding="utf-8") as out:
        json.dump(
            {
                "exit_code": code,
                "wall_s": wall,
                "peak_rss_mb": usage.ru_maxrss / 1024,
                "user_s": usage.ru_utime,
                "system_s": usage.ru_stime,
            },
            out,
        )
    return code


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
