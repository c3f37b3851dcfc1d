"""NumPy's BLAS on one thread, so that it never waits on PyTorch's threads or they on it.

PyTorch runs its ops on a pool of threads (one per core) and NumPy's OpenBLAS on a pool of
its own; each pool's threads spin for a while after their work, waiting for more. The
session interleaves the two every step (PyTorch's stages; NumPy's float64 norms for the
history and the records), and on two cores the pools took the cores from each other: a
~100,000-parameter model's quiet epoch took 14.7 ms against 2.5 ms with one BLAS thread
(``make bench``'s scaling table). NumPy's part here is small vectors: one thread loses
nothing.
"""

from __future__ import annotations

from threadpoolctl import threadpool_limits


def one_blas_thread() -> None:
    """Limit the BLAS libraries loaded now (NumPy's) to one thread, for the process."""
    threadpool_limits(limits=1, user_api="blas")
