"""Sentence embeddings from the packaged all-MiniLM-L6-v2, on the CPU, with no network.

The ONNX Runtime backend gives the same vectors as PyTorch (to ~1e-6) about 3x faster per
query; it is exported once from the packaged weights, its attention, GELU and layer-norm blocks
fused into single operators (524 graph nodes become 46, which is what matters for a 15-token
question), and cached, so later processes only load it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

log = logging.getLogger(__name__)
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


def model_fingerprint(model_path: str) -> str:
    """sha256 of the weights: an index built with other weights is stale even under the same name."""
    root = Path(model_path)
    for name in WEIGHT_FILES:
        if (root / name).is_file():
            h = hashlib.sha256()
            with open(root / name, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
            return h.hexdigest()
    raise FileNotFoundError(f"no model weights ({' or '.join(WEIGHT_FILES)}) in {model_path}")


class Embedder:
    """Encodes text to L2-normalised float32 vectors; safe to share between request threads.

    backend "onnx": ONNX Runtime and the `tokenizers` library directly (no PyTorch import, so a
    process starts in about a second), exported once from the packaged weights by
    sentence-transformers; backend "torch": sentence-transformers as is. Both give the same vectors.
    """

    def __init__(self, model_path: str, backend: str = "onnx", onnx_cache: Path | None = None, threads: int | None = None):
        if backend not in {"onnx", "torch"}:
            raise ValueError(f"backend must be 'onnx' or 'torch', not {backend!r}")
        self.backend = backend
        self.graph: Path | None = None  # the ONNX graph in use, for diagnostics
        self.max_seq_length: int = _max_seq_length(model_path)
        self._lock = threading.Lock()
        if backend == "onnx":
            export = _onnx_export(model_path, onnx_cache or Path(model_path) / ".onnx-export")
            self.graph = _graph(export)
            self._encode = _OnnxEncoder(self.graph, export, self.max_seq_length, threads).encode
            self._tokenizer = _plain_tokenizer(export)
        else:
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(model_path, device="cpu")
            self._encode = lambda texts, batch_size: model.encode(
                texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
            )
            self._tokenizer = _plain_tokenizer(Path(model_path))
        self.dimension: int = int(self.encode(["dimension probe"]).shape[1])

    def encode(self, texts: list[str], batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        batches = range(0, len(texts), batch_size)
        if show_progress and len(texts) > batch_size:
            from tqdm import tqdm

            batches = tqdm(batches, desc="embedding", unit="batch")
        with self._lock:  # one encoding at a time, on all cores: measured as fast as parallel single-core runs
            parts = [self._encode(texts[i : i + batch_size], batch_size) for i in batches]
        return np.ascontiguousarray(np.concatenate(parts) if parts else np.zeros((0, 384)), dtype=np.float32)

    def token_count(self, text: str) -> int:
        """Word pieces the model sees, special tokens included, before any truncation."""
        return len(self._tokenizer.encode(text).ids)

    def fits(self, text: str) -> bool:
        return self.token_count(text) <= self.max_seq_length


class _OnnxEncoder:
    """Transformer → mean pooling over real tokens → L2 normalisation, as the sentence-transformers model does."""

    def __init__(self, graph: Path, model_dir: Path, max_seq_length: int, threads: int | None):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_seq_length)  # the export's own file says 128
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # to the longest in the batch
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        feed = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        (hidden,) = self.session.run(["last_hidden_state"], {k: v for k, v in feed.items() if k in self.inputs})
        mask = feed["attention_mask"][..., None].astype(np.float32)
        pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


FUSED = "model_fused.onnx"


def _graph(model_dir: Path) -> Path:
    """The fused graph when the export has one, else the export as sentence-transformers wrote it."""
    fused = model_dir / "onnx" / FUSED
    return fused if fused.is_file() else model_dir / "onnx" / "model.onnx"


def _fuse(onnx_dir: Path) -> None:
    """Write the transformer-fused graph beside the export. Level 1 fusions only: they are portable
    across CPUs (higher levels bake in this machine's instruction set). Failing here only costs speed."""
    try:
        from onnxruntime.transformers import optimizer

        fused = optimizer.optimize_model(str(onnx_dir / "model.onnx"), model_type="bert", opt_level=1, use_gpu=False)
        tmp = onnx_dir / f"{FUSED}.tmp{os.getpid()}"
        fused.save_model_to_file(str(tmp))
        os.replace(tmp, onnx_dir / FUSED)
    except Exception as exc:  # noqa: BLE001 - an optional speed-up; the plain export still works
        log.warning("could not fuse the ONNX graph (%s); using the plain export", exc)


def _plain_tokenizer(model_dir: Path):
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def _max_seq_length(model_path: str) -> int:
    import json

    config = Path(model_path) / "sentence_bert_config.json"
    return int(json.loads(config.read_text()).get("max_seq_length", 256)) if config.is_file() else 256


def _onnx_export(model_path: str, cache: Path) -> Path:
    """The ONNX export of the model, made once with sentence-transformers and kept in `cache`."""
    if not (cache / "onnx" / "model.onnx").is_file():
        _export(model_path, cache)
    if not (cache / "onnx" / FUSED).is_file():
        _fuse(cache / "onnx")
    return cache


def _export(model_path: str, cache: Path) -> None:
    from sentence_transformers import SentenceTransformer

    log.info("exporting the embedding model to ONNX (once) into %s", cache)
    model = SentenceTransformer(model_path, device="cpu", backend="onnx")
    tmp = cache.with_name(cache.name + f".tmp{os.getpid()}")
    model.save(str(tmp))
    if cache.exists():  # another process finished first
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    else:
        cache.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, cache)
