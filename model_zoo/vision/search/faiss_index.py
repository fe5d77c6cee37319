"""The FAISS indexes a gallery holds: exact (IndexFlatIP behind an IndexIDMap2) up to a
gallery's exact limit, IVF beyond it (why IVF, not HNSW: model_zoo.vision.search.gallery),
and the one-thread rule for a query."""
from __future__ import annotations

import math
from contextlib import contextmanager
from typing import Iterator

import faiss
import numpy as np


def ivf_nlist(n: int) -> int:
    """Number of IVF cells: about 2 sqrt(n), the usual trade-off of list length vs cells."""
    return int(min(4096, max(16, 2 * math.sqrt(n))))


def default_nprobe(nlist: int) -> int:
    """Cells visited per query, ~1.5 sqrt(nlist): recall@10 >= 0.96 on clustered 512-d
    embeddings at 100k and 1M vectors, p95 under 10 ms at 1M (see benchmarks/models/search.py)."""
    return max(8, round(1.5 * math.sqrt(nlist)))


@contextmanager
def single_threaded() -> Iterator[None]:
    """One query is a few ms of work: OpenMP fan-out across 2 busy cores costs more than it
    saves (p50 at 100k: 12 ms on one thread, 33-64 ms on two, see benchmarks/models/search.py).
    Concurrent requests already run in parallel threads. Restores the caller's setting."""
    previous = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(previous)


def exact_index(dim: int) -> faiss.Index:
    return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))


def ivf_index(
    vectors: np.ndarray, ids: np.ndarray, nlist: int | None = None, train_size: int = 64
) -> faiss.IndexIVFFlat:
    """An inner-product IVF index trained on (a sample of) `vectors`, holding them all."""
    dim = vectors.shape[1]
    nlist = nlist or ivf_nlist(len(vectors))
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    index.cp.max_points_per_centroid = train_size  # k-means on a sample: minutes, not hours
    index.cp.niter = 10
    sample = vectors
    if len(vectors) > nlist * train_size:
        rows = np.random.default_rng(0).choice(len(vectors), nlist * train_size, replace=False)
        sample = vectors[np.sort(rows)]
    index.train(np.ascontiguousarray(sample, np.float32))
    index.add_with_ids(np.ascontiguousarray(vectors, np.float32), ids.astype(np.int64))
    index.nprobe = default_nprobe(nlist)
    return index


def all_vectors(index: faiss.Index) -> tuple[np.ndarray, np.ndarray]:
    """(ids, vectors) held by an exact IndexIDMap2."""
    ids = faiss.vector_to_array(index.id_map).astype(np.int64)
    vectors = index.index.reconstruct_n(0, index.ntotal) if index.ntotal else np.zeros((0, index.d), np.float32)
    return ids, vectors
