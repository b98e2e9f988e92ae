"""Build, store and load the index: chunks, their vectors in FAISS, the parsed documents, a manifest.

Layout of `index/`:
    CURRENT              name of the live build (replaced atomically, last step of a build)
    builds/<id>/         manifest.json, chunks.jsonl, vectors.faiss, documents.json
    cache/               (settings.cache_dir) vectors keyed by the hash of the text embedded,
                         per model, and the ONNX export of the model: time savers only

A build writes a new folder and only then points CURRENT at it, so a build that dies leaves the
previous index in use. Loading checks the manifest against the corpus, the model weights, the
chunking settings and the code that produced the chunks; any mismatch, missing file or checksum
error is an `IndexUnavailable` that says what is wrong and to run `rag build`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.chunk import ChunkingParams, chunk_document, tiktoken_counter
from rag.config import Settings
from rag.models import Chunk, Document
from rag.parse import corpus_files, parse_file

log = logging.getLogger(__name__)
FORMAT_VERSION = 1
ARTIFACTS = ("chunks.jsonl", "vectors.faiss", "units.json", "documents.json")
_CODE_FILES = ("parse.py", "chunk.py", "models.py")  # what decides the chunks; storage changes bump FORMAT_VERSION


class IndexUnavailable(RuntimeError):
    """The index cannot be used as it is; the message says why and what to run."""

    def __init__(self, reason: str):
        super().__init__(f"{reason}. Run `rag build` (or `make run`, which builds when needed) to rebuild it.")
        self.reason = reason


@dataclass(frozen=True)
class StoredIndex:
    manifest: dict[str, Any]
    chunks: list[Chunk]
    vectors: Any  # faiss.Index over units: each chunk whole, then its sentences
    unit_chunk: np.ndarray  # vector row -> chunk position
    unit_sentence: np.ndarray  # vector row -> sentence position in the chunk, -1 for the whole chunk
    documents: dict[str, dict[str, Any]]
    path: Path


# --------------------------------------------------------------------------- fingerprints


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def code_fingerprint() -> str:
    """The code that decides what goes into the index; editing it makes an index stale."""
    h = hashlib.sha256(str(FORMAT_VERSION).encode())
    here = Path(__file__).parent
    for name in _CODE_FILES:
        h.update((here / name).read_bytes())
    return h.hexdigest()[:16]


_model_hash_cache: dict[tuple[str, float, int], str] = {}


def cached_model_fingerprint(model_path: str) -> str:
    from rag.embed import WEIGHT_FILES, model_fingerprint

    weights = next((Path(model_path) / n for n in WEIGHT_FILES if (Path(model_path) / n).is_file()), None)
    if weights is None:
        raise IndexUnavailable(f"no model weights found in {model_path}")
    stat = weights.stat()
    key = (str(weights), stat.st_mtime, stat.st_size)
    if key not in _model_hash_cache:
        _model_hash_cache[key] = model_fingerprint(model_path)
    return _model_hash_cache[key]


def expected_inputs(settings: Settings) -> dict[str, Any]:
    """Everything the manifest must agree with for an index to be current."""
    files = corpus_files(settings.corpus_dir) if settings.corpus_dir.is_dir() else []
    return {
        "format_version": FORMAT_VERSION,
        "code": code_fingerprint(),
        "model_name": settings.model_name,
        "model_sha256": cached_model_fingerprint(settings.model_path),
        "corpus": {p.name: sha256_file(p) for p in files},
        "chunking": settings.chunking_params(),
    }


# --------------------------------------------------------------------------- build


@dataclass(frozen=True)
class BuildReport:
    path: Path
    built: bool
    n_documents: int
    n_chunks: int
    n_embedded: int
    seconds: float
    warnings: tuple[str, ...]


def build_index(settings: Settings, force: bool = False, progress: bool = False) -> BuildReport:
    """Parse, chunk, embed and store the corpus; a no-op when the current index is up to date."""
    started = time.perf_counter()
    if not force:
        try:
            current = load_index(settings)
            return BuildReport(current.path, False, len(current.documents), len(current.chunks), 0, time.perf_counter() - started, ())
        except IndexUnavailable:
            pass
    embedder = load_embedder(settings)
    documents, chunks = corpus_chunks(settings, embedder.fits)
    vectors, n_embedded = _embed_with_cache(settings, embedder, chunks, progress)
    path = _write_build(settings, documents, chunks, vectors)
    warnings = tuple(w for d in documents for w in d.warnings)
    return BuildReport(path, True, len(documents), len(chunks), n_embedded, time.perf_counter() - started, warnings)


def corpus_chunks(settings: Settings, fits_model) -> tuple[list[Document], list[Chunk]]:
    """The corpus parsed and chunked, as the index holds it (`fits_model`: the embedding model reads all of a text)."""
    files = corpus_files(settings.corpus_dir) if settings.corpus_dir.is_dir() else []
    if not files:
        raise IndexUnavailable(f"no corpus files in {settings.corpus_dir}")
    documents = [parse_file(p) for p in files]
    params = ChunkingParams(settings.chunk_target_tokens, settings.chunk_min_tokens, settings.chunk_overlap_sentences)
    count = tiktoken_counter(settings.tokenizer_encoding)
    return documents, [c for d in documents for c in chunk_document(d, params, count, fits_model)]


def load_embedder(settings: Settings):
    from rag.embed import Embedder

    cache = settings.cache_dir / f"onnx-{cached_model_fingerprint(settings.model_path)[:12]}"
    settings.cache_dir.mkdir(parents=True, exist_ok=True)
    return Embedder(settings.model_path, settings.backend, cache, settings.onnx_threads or None)


def _embed_with_cache(settings: Settings, embedder, chunks: list[Chunk], progress: bool) -> tuple[np.ndarray, int]:
    """Re-embed only texts not seen before with these weights: a rebuild after a small edit is quick."""
    cache_dir = settings.cache_dir / "embeddings"
    cache_file = cache_dir / f"{cached_model_fingerprint(settings.model_path)[:16]}.npz"
    cache: dict[str, np.ndarray] = {}
    if cache_file.is_file():
        try:
            with np.load(cache_file) as data:
                cache = {k: data[k] for k in data.files}
        except Exception as err:  # a damaged cache only costs time
            log.warning("ignoring unreadable embedding cache %s: %s", cache_file, err)
    texts = [text for c in chunks for _, text in c.embedding_units()]
    keys = [hashlib.sha256(t.encode()).hexdigest() for t in texts]
    missing = sorted({k: t for k, t in zip(keys, texts) if k not in cache}.items())
    if missing:
        fresh = embedder.encode([text for _, text in missing], show_progress=progress)
        cache.update({k: v for (k, _), v in zip(missing, fresh)})
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = cache_file.with_suffix(f".tmp{os.getpid()}.npz")
        np.savez(tmp, **cache)
        os.replace(tmp, cache_file)
    vectors = np.stack([cache[k] for k in keys]).astype(np.float32) if keys else np.zeros((0, embedder.dimension), np.float32)
    return vectors, len(missing)


def _write_build(settings: Settings, documents: list[Document], chunks: list[Chunk], vectors: np.ndarray) -> Path:
    import faiss

    builds = settings.index_dir / "builds"
    builds.mkdir(parents=True, exist_ok=True)
    build_id = time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
    tmp = builds / f".{build_id}.partial"
    tmp.mkdir()
    with open(tmp / "chunks.jsonl", "w", encoding="utf-8") as f:
        for c in chunks:
            f.write(json.dumps(c.to_json(), ensure_ascii=False) + "\n")
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    faiss.write_index(index, str(tmp / "vectors.faiss"))
    units = [(i, j) for i, c in enumerate(chunks) for j, _ in c.embedding_units()]
    (tmp / "units.json").write_text(json.dumps({"chunk": [i for i, _ in units], "sentence": [j for _, j in units]}))
    (tmp / "documents.json").write_text(json.dumps({d.doc_id: document_record(d) for d in documents}, ensure_ascii=False), encoding="utf-8")
    manifest = {
        **expected_inputs(settings),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "counts": {"documents": len(documents), "chunks": len(chunks), "vectors": int(vectors.shape[0]), "dimension": int(vectors.shape[1]),
                   "footnotes": sum(len(d.footnotes) for d in documents)},
        "artifacts": {name: sha256_file(tmp / name) for name in ARTIFACTS},
    }
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    final = builds / build_id
    os.replace(tmp, final)
    pointer = settings.index_dir / f"CURRENT.tmp{os.getpid()}"
    pointer.write_text(build_id + "\n")
    os.replace(pointer, settings.index_dir / "CURRENT")
    for old in builds.iterdir():
        if old.name != build_id:
            shutil.rmtree(old, ignore_errors=True)
    return final


def document_record(doc: Document) -> dict[str, Any]:
    """What the service needs of a document besides its chunks: footnotes, bibliography, tables."""
    return {
        "doc_id": doc.doc_id,
        "title": doc.title,
        "path": Path(doc.path).name,
        "footnotes": {str(n): asdict(f) for n, f in doc.footnotes.items()},
        "bibliography": [asdict(b) for b in doc.bibliography],
        "tables": [asdict(t) for t in doc.tables],
        "warnings": list(doc.warnings),
    }


# --------------------------------------------------------------------------- load


def load_index(settings: Settings) -> StoredIndex:
    """The current index, verified against its manifest and against the corpus, model and code."""
    import faiss

    pointer = settings.index_dir / "CURRENT"
    if not pointer.is_file():
        raise IndexUnavailable(f"no index has been built in {settings.index_dir}")
    path = settings.index_dir / "builds" / pointer.read_text().strip()
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise IndexUnavailable(f"the index manifest in {path} is missing or unreadable ({err.__class__.__name__})") from None
    _check_manifest(manifest, settings)
    for name, digest in manifest.get("artifacts", {}).items():
        file = path / name
        if not file.is_file():
            raise IndexUnavailable(f"index file {name} is missing")
        if sha256_file(file) != digest:
            raise IndexUnavailable(f"index file {name} is corrupt (checksum mismatch)")
    try:
        with open(path / "chunks.jsonl", encoding="utf-8") as f:
            chunks = [Chunk.from_json(json.loads(line)) for line in f]
        vectors = faiss.read_index(str(path / "vectors.faiss"))
        documents = json.loads((path / "documents.json").read_text(encoding="utf-8"))
        units = json.loads((path / "units.json").read_text(encoding="utf-8"))
        unit_chunk = np.asarray(units["chunk"], dtype=np.int64)
        unit_sentence = np.asarray(units["sentence"], dtype=np.int64)
    except Exception as err:
        raise IndexUnavailable(f"the index in {path} cannot be read ({err})") from None
    counts = manifest["counts"]
    if not (vectors.ntotal == len(unit_chunk) == counts["vectors"] and len(chunks) == counts["chunks"]):
        raise IndexUnavailable("the index is inconsistent: vector, unit and chunk counts differ")
    return StoredIndex(manifest, chunks, vectors, unit_chunk, unit_sentence, documents, path)


def _check_manifest(manifest: dict[str, Any], settings: Settings) -> None:
    expected = expected_inputs(settings)
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexUnavailable(f"the index has format version {manifest.get('format_version')}, this code reads {FORMAT_VERSION}")
    if manifest.get("model_name") != expected["model_name"] or manifest.get("model_sha256") != expected["model_sha256"]:
        raise IndexUnavailable(f"the index was built with another embedding model ({manifest.get('model_name')})")
    built, now = manifest.get("corpus", {}), expected["corpus"]
    changed = sorted(set(built) ^ set(now) | {n for n in set(built) & set(now) if built[n] != now[n]})
    if changed:
        raise IndexUnavailable(f"the index is stale: corpus file(s) changed since it was built: {', '.join(changed)}")
    if manifest.get("chunking") != expected["chunking"]:
        raise IndexUnavailable("the index is stale: chunking settings changed since it was built")
    if manifest.get("code") != expected["code"]:
        raise IndexUnavailable("the index is stale: the parsing or chunking code changed since it was built")
