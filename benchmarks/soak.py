"""Soak: a long run in the core, reporting its speed at the start and the end and its memory.

    make soak                     # a million steps (about ten minutes on two cores)
    python benchmarks/soak.py --steps 100000

Everything a run keeps — history rows, the timeline's log, its checkpoints — is measured as
the growth of the process's resident memory (what the machine really pays), per completed
optimizer step, after a warm-up that loads torch's kernels. Speed is steps per second over
the first and the last slice of the run, so a slowdown as the run grows shows up as a ratio.
"""

from __future__ import annotations

import argparse
import gc
import time

from gui_trainer.core import TrainingSession

SLICE = 10_000


def resident_bytes() -> int:
    """The process's resident set size, read from /proc (Linux)."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    import os

    return pages * os.sysconf("SC_PAGE_SIZE")


def steps_per_second(session: TrainingSession, steps: int) -> float:
    """Steps as auto-train at full speed runs them: quiet iterations (the same history,
    timeline and checkpoints as with records; see ``run_iteration_quietly``)."""
    start = time.perf_counter()
    for _ in range(steps):
        session.run_iteration_quietly()
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd")
    args = parser.parse_args()
    session = TrainingSession(optimizer=args.optimizer, lr=0.001)
    steps_per_second(session, 2_000)  # warm-up: kernels loaded, arrays sized
    gc.collect()
    base_steps, base_memory = session.epoch, resident_bytes()
    first = steps_per_second(session, SLICE)
    remaining = args.steps - 2 * SLICE - base_steps
    done = 0
    while done < remaining:
        chunk = min(100_000, remaining - done)
        steps_per_second(session, chunk)
        done += chunk
        print(f"  {session.epoch:>9,} steps, {(resident_bytes() - base_memory) / 1e6:7.1f} MB "
              "grown", flush=True)
    last = steps_per_second(session, SLICE)
    gc.collect()
    grown = resident_bytes() - base_memory
    steps = session.epoch - base_steps
    print(f"soak: {session.epoch:,} steps ({args.optimizer}), "
          f"{len(session.timeline):,} actions, {session.timeline.checkpoint_count:,} checkpoints")
    print(f"speed: {first:,.0f} steps/s at the start, {last:,.0f} at the end "
          f"(end/start = {last / first:.2f})")
    print(f"memory: {grown / 1e6:.1f} MB grown over {steps:,} steps = "
          f"{grown / steps:.0f} bytes per step (history {session.history.nbytes / 1e6:.1f} MB, "
          f"timeline log {session.timeline.nbytes / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
