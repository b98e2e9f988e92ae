"""Read the question and the answer sentence together, and say how likely the sentence answers it.

The retrieval model embeds the question and the sentence apart, so "How many of the 79 children
were girls?" sits as close to "79 children were repatriated" as an answerable paraphrase does. This
verifier is all-MiniLM-L6-v2 fine-tuned as a cross-encoder on the project's own dev split and
tuning sets (eval/train_verifier.py), exported to ONNX and quantised to int8: one question and one
sentence, about 5 ms on 2 cores. Its logit is one of the no-answer model's features.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from rag.config import Settings, packaged_model_path
from rag.index import IndexUnavailable

VERIFIER_DIR = Path(__file__).parent / "verifier"
MAX_TOKENS = 160  # question and sentence together; the report's longest sentences run past 128


class VerifierUnavailable(IndexUnavailable):
    """The shipped verifier is missing or unreadable: the API and CLI report it as they do an unusable index."""

    def __init__(self, reason: str):
        RuntimeError.__init__(self, f"{reason}. Reinstall the project (`make run` does), or rebuild it with eval/train_verifier.py.")
        self.reason = reason


class Verifier:
    """Thread-safe: ONNX Runtime sessions may be run from several threads; the tokenizer is guarded."""

    def __init__(self, graph: Path, tokenizer_file: Path, threads: int | None = None):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        if not graph.is_file():
            raise VerifierUnavailable(f"the answer verifier {graph} is missing")
        self._tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self._tokenizer.enable_truncation(MAX_TOKENS, strategy="longest_first")  # as in training; a long question is cut too
        self._tokenizer.no_padding()
        self._lock = threading.Lock()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self._session = ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
        except Exception as err:  # a truncated or foreign file: say which, not an ONNX stack trace
            raise VerifierUnavailable(f"the answer verifier {graph} cannot be loaded ({err})") from None
        self._inputs = {i.name for i in self._session.get_inputs()}

    def logit(self, question: str, sentence: str) -> float:
        """Above 0: the verifier takes the sentence to answer the question."""
        with self._lock:
            e = self._tokenizer.encode(question, sentence)
        feed = {
            "input_ids": np.array([e.ids], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids], dtype=np.int64),
        }
        (logits,) = self._session.run(["logits"], {k: v for k, v in feed.items() if k in self._inputs})
        return float(logits[0, 0])


def load_verifier(settings: Settings) -> Verifier:
    """The shipped verifier, with the packaged MiniLM's tokenizer (the verifier was fine-tuned from it)."""
    return Verifier(VERIFIER_DIR / "model.onnx", Path(packaged_model_path()) / "tokenizer.json", settings.onnx_threads or None)
