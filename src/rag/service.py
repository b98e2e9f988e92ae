"""The question-answering service as a library: what the HTTP API and the CLI both call.

It owns the loaded index, the embedding model and the retriever for the life of a process,
and turns ranked chunks into passages with their footnotes attached.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from pydantic import BaseModel, Field

from rag import answer as answering
from rag.chunk import tiktoken_counter
from rag.citations import Citations, Source, resolve_citations
from rag.config import ConfigError, Settings
from rag.context import pack
from rag.index import IndexUnavailable, StoredIndex, build_index, load_embedder, load_index
from rag.lookup import (
    LOOKUP_SCORE,
    MAX_SOURCE_PASSAGES,
    footnote_answer,
    footnote_mentions,
    introduces,
    mentions,
    name_asked,
    names_in,
    report_answer,
    report_facet,
    source_mention,
    spells_out,
    spelt_like,
    table_cells_named,
)
from rag.models import Chunk, Hit
from rag.retrieve import MODES, Part, QuestionTerms, Retriever, UnitScores
from rag.verify import Verifier, load_verifier

NO_ANSWER = "no sentence in the top passages is likely enough to answer it (the no-answer model put the chance below its threshold); the passages are the closest the report comes"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_WORD = re.compile(r"[^\W_]")  # a letter or a digit; the API's schema pattern says the same
_SURROGATE = re.compile(r"[\ud800-\udfff]")  # JSON's "\ud800" decodes to one, which no response can then encode


class SourceOut(BaseModel):
    source_id: str
    authors: list[str] = Field(description="As the footnotes name them; where they name none, as the bibliography entry does")
    title: str | None
    outlet: str | None
    date: str | None
    urls: list[str]
    kind: str = Field(description="publication, news, official, interview or panel")
    page: str | None = Field(None, description="Page as this footnote cites it, where given")
    bibliography: str | None = Field(None, description="The matching bibliography entry, if any")


class Citation(BaseModel):
    number: int = Field(description="Footnote number, as in the report")
    text: str = Field(description="The footnote's text as printed")
    kind: str = Field("unattributed", description="How the note cites: full, short, ibid, interview, multiple, unattributed")
    sources: list[SourceOut] = Field(default_factory=list, description="What the footnote rests on, Ibid. chains followed")
    unresolved_reason: str | None = None


class PassageRef(BaseModel):
    chunk_id: str
    doc: str
    heading_path: list[str]
    text: str
    citations: list[Citation]


class FootnoteDetail(Citation):
    doc: str
    chain: list[int] = Field(description="Footnotes followed to reach the source(s), this one first")
    notes: list[str]
    passages: list[PassageRef] = Field(description="Every passage that cites this footnote")


class SourceSummary(SourceOut):
    doc: str
    footnotes: list[int]
    n_footnotes: int
    n_passages: int


class SourceDetail(SourceSummary):
    passages: list[PassageRef] = Field(description="The passages that rest on this source")


class Excerpt(BaseModel):
    text: str = Field(description="Sentence(s) of one passage, in reading order, footnote markers as [n]")
    doc: str
    chunk_id: str = Field(description="The passage they were taken from")
    rank: int = Field(description="That passage's rank in `passages`")
    footnotes: list[int] = Field(description="Its footnote numbers, in order; the answer's `citations` resolve them")


class Answer(BaseModel):
    text: str = Field(description="The answering sentence(s), footnote markers as [n]; excerpts of different passages joined by ' … '")
    doc: str
    chunk_id: str = Field(description="The passage of the best sentence")
    rank: int = Field(description="That passage's rank in `passages`")
    confidence: float = Field(description="Probability that the report answers, from the no-answer model fitted on the dev split; no answer below its threshold; 1.0 for a look-up (`lookup`)")
    citations: list[Citation] = Field(description="The footnotes of every excerpt, in order, resolved; for a footnote or source "
                                                  "look-up, only the footnotes asked about")
    excerpts: list[Excerpt] = Field(description="One per passage drawn on: the best sentence's first, then (for a question in parts, such as 'A and B') other parts' sentences")


class Passage(BaseModel):
    rank: int
    score: float
    chunk_id: str
    doc: str = Field(description="Document id (the corpus file name without extension)")
    heading_path: list[str]
    text: str = Field(description="Passage text with footnote markers as [n]")
    citations: list[Citation]


class QueryResult(BaseModel):
    question: str
    mode: str
    answer: Answer | None = Field(description="The sentence that answers, or null when the report does not seem to say")
    no_answer_reason: str | None = None
    lookup: str | None = Field(None, description="'footnote' or 'source' when the question named one and was answered by citation look-up, not search "
                                             "(a source no footnote cites: answer null, and the passages a search finds); 'report' when it asked "
                                             "who wrote or published the report, when, or its title, answered from the front matter; 'table' when it named "
                                             "a column and a row of a table ('How many women did Uzbekistan repatriate?'), answered by that cell; "
                                             "'name' when it asked who or what a name is ('Who is Olga Ryl?'), answered by the sentence naming it "
                                             "that best says so (a name the report never gives: answer null)")
    passages: list[Passage]
    context: str | None = Field(None, description="With max_tokens: the passages that fit, ready to hand to a language model")
    timing_ms: float


class NotFound(LookupError):
    """An unknown document, footnote or source; the message says what exists."""


class QuestionError(ValueError):
    """A question or parameter the service cannot take; the message says how to fix it."""


def check_question(question: str, settings: Settings) -> str:
    text = unicodedata.normalize("NFC", question).strip()
    if not text:
        raise QuestionError("the question is empty: type a question about the report")
    if len(text) > settings.max_question_chars:
        raise QuestionError(f"the question is {len(text)} characters long; the limit is {settings.max_question_chars}")
    if _CONTROL.search(text):
        raise QuestionError("the question contains control characters; send plain text")
    if _SURROGATE.search(text):
        raise QuestionError("the question contains an unpaired UTF-16 surrogate; send valid Unicode text")
    if not _WORD.search(text):  # "???", "🙂", zero-width spaces: nothing to search for
        raise QuestionError("the question has no words, only symbols or punctuation: type a question about the report")
    return text


def answer_params(settings: Settings) -> answering.AnswerParams:
    try:
        return answering.AnswerParams(
            passages=settings.answer_passages,
            keyword_weight=settings.answer_keyword_weight,
            type_bonus=settings.answer_type_bonus,
            second_margin=settings.answer_second_margin,
            no_answer_weights=settings.answer_no_answer_weights,
            min_confidence=settings.answer_min_confidence,
        )
    except ValueError as err:
        raise ConfigError(f"RAG_ANSWER_NO_ANSWER_WEIGHTS: {err}") from None


class QAService:
    def __init__(self, settings: Settings, stored: StoredIndex, embedder: Any, verifier: Verifier | None = None):
        self.settings = settings
        self.stored = stored
        self.verifier = verifier  # None when switched off (RAG_ANSWER_VERIFIER=0) or while it is trained
        self.retriever = Retriever(
            stored, embedder, settings.candidate_pool, settings.rrf_k, settings.fusion, settings.dense_weight, settings.type_prior
        )
        self.answer_params = answer_params(settings)
        self.footnotes: dict[str, dict[int, str]] = {
            doc_id: {int(n): f["text"] for n, f in doc["footnotes"].items()} for doc_id, doc in stored.documents.items()
        }
        self.citations: dict[str, Citations] = {
            doc_id: resolve_citations(self.footnotes[doc_id], [b["text"] for b in doc["bibliography"]])
            for doc_id, doc in stored.documents.items()
        }
        self._citing: dict[tuple[str, int], list[int]] = {}
        self._citation_memo: dict[tuple[str, int], Citation] = {}  # built once: a passage carries several on every query
        for i, c in enumerate(stored.chunks):
            for n in c.footnotes:
                self._citing.setdefault((c.doc, n), []).append(i)
        self._table_cells = [(i, c) for i, c in enumerate(stored.chunks) if c.kind == "table_cell" and c.cell]
        # What a name look-up searches: each passage's text, but a table's rows and cells, which repeat it.
        self._passage_texts = [(i, c.clean) for i, c in enumerate(stored.chunks) if c.kind not in ("table_row", "table_cell")]
        self._names_by_length: dict[int, frozenset[str]] = {}

    @classmethod
    def open(cls, settings: Settings, build: bool = False, progress: bool = False, verifier: bool | None = None) -> "QAService":
        """Load the index (building it first when `build` and it is missing or stale) and the models;
        the verifier as `settings.answer_verifier` says, unless `verifier` says otherwise."""
        if build:
            build_index(settings, progress=progress)
        stored = load_index(settings)
        use = settings.answer_verifier if verifier is None else verifier
        return cls(settings, stored, load_embedder(settings), load_verifier(settings) if use else None)

    def ask(self, question: str, k: int | None = None, mode: str | None = None, max_tokens: int | None = None) -> QueryResult:
        started = time.perf_counter()
        text = check_question(question, self.settings)
        k = self.settings.default_k if k is None else k
        mode = mode or self.settings.default_mode
        if not 1 <= k <= self.settings.max_k:
            raise QuestionError(f"k must be between 1 and {self.settings.max_k}, not {k}")
        if mode not in MODES:
            raise QuestionError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        if max_tokens is not None and not 1 <= max_tokens <= self.settings.max_context_tokens:
            raise QuestionError(f"max_tokens must be between 1 and {self.settings.max_context_tokens}, not {max_tokens}")
        hits, scores, parts = self.retrieve(text, k, mode)
        reason = None
        if looked_up := self._look_up(text, hits, k, scores):
            hits, choice, lookup = looked_up
        elif not scores.terms.terms:  # "the of and", "Whatever": the passages are near nothing in particular
            choice, lookup, reason = None, None, f"the question has only common words ({text!r}), nothing to look for: say what you want to know"
        else:
            ranked = self.candidates(text, hits, scores)
            choice, lookup = self.choose_answer(text, scores.terms, hits, ranked, parts=parts), None
            reason = None if choice else _elsewhere(text, ranked)
        passages = [self._passage(h) for h in hits]
        context = None
        if max_tokens is not None:
            fitting, context = pack(passages, max_tokens, tiktoken_counter(self.settings.tokenizer_encoding))
            passages = passages[:fitting]
            choice, cut = _within(choice, fitting, max_tokens)
            reason = reason or cut
        return QueryResult(
            question=text,
            mode=mode,
            answer=self._answer(choice) if choice else None,
            no_answer_reason=None if choice else reason or self._no_answer_reason(text, lookup),
            lookup=lookup,
            passages=passages,
            context=context,
            timing_ms=round((time.perf_counter() - started) * 1000, 2),
        )

    def _look_up(
        self, question: str, hits: list[Hit], k: int, scores: UnitScores | None = None
    ) -> tuple[list[Hit], answering.AnswerChoice | None, str] | None:
        """A question naming a footnote, asking which passages cite a source, about the report itself,
        naming a cell of a table, or asking who or what a name is (lookup.py): the passages that answer it first,
        the sentences that do, and which look-up it was; None to search as usual. `scores` are the question's
        unit scores when known (a name look-up ranks sentences by them)."""
        if (facet := report_facet(question)) and (front := self._front_matter()):
            return *self._report_look_up(facet, front, hits, k), "report"
        named = footnote_mentions(question)
        if citing := {n: rows for n in named if (rows := self._citing_passages(n))}:
            # Chunks overlap, so a note is often cited by two passages: those the question's words also
            # retrieved lead, in retrieval order, as the words say which one is meant.
            retrieved = {h.chunk.chunk_id: h.rank for h in hits}
            rows = list(dict.fromkeys(i for rows in citing.values() for i in rows))
            rows.sort(key=lambda i: retrieved.get(self.stored.chunks[i].chunk_id, len(hits) + 1))
            found = self._first(rows, hits, k)
            return found, footnote_answer(tuple(citing), found), "footnote"
        if named:  # only footnotes the report does not have (each it has is cited)
            return hits, None, "footnote"
        name = source_mention(question)
        if name is None:
            return self._table_look_up(question, hits, k) or self._name_look_up(question, hits, k, scores)
        sources = [s for s in self.sources(author=name) or self.sources(text=name) if s.footnotes]
        if not sources:  # "no answer", with the reason: a passage the words retrieve does not cite it
            return hits, None, "source"
        found = self._first(sorted({i for s in sources for n in s.footnotes for i in self._citing.get((s.doc, n), [])}), hits, k)
        numbers = tuple(sorted({n for s in sources for n in s.footnotes}))
        return found, footnote_answer(numbers, found[:MAX_SOURCE_PASSAGES]), "source"

    def _table_look_up(self, question: str, hits: list[Hit], k: int) -> tuple[list[Hit], answering.AnswerChoice, str] | None:
        """The cells a question names ("How many women did Uzbekistan repatriate?") first, and each as the answer."""
        rows = table_cells_named(question, self._table_cells, self.retriever.keyword_index.content_terms)
        if not rows:
            return None
        found = self._first(rows, hits, k)
        cells = [(h, s) for h in found[: len(rows)] for s in h.chunk.sentences]
        return found, answering.AnswerChoice(answering.excerpts_of(cells), 1.0), "table"

    def _name_look_up(
        self, question: str, hits: list[Hit], k: int, scores: UnitScores | None
    ) -> tuple[list[Hit], answering.AnswerChoice | None, str] | None:
        """The passages naming what a question asks who or what it is ("Who is Olga Ryl?"), the one whose
        sentence best answers first: a sentence that says what the name is before one that only names it (for an
        acronym, the one spelling it out before both), the answer scorer's order within each; that sentence as the answer.
        A name the report never gives gets no answer (it cannot say who that is), and the passages a search finds."""
        rows, name = self._naming(question)
        if name is None:
            return None
        if not rows:
            return hits, None, "name"
        if scores is None or scores.dense is None or scores.keyword is None:  # a keyword-only or dense-only search
            scores = self.retriever.unit_scores(question)
        naming, pattern, acronym = self._first(rows, [], len(rows)), mentions(name), name.isupper()
        ranked = [c for c in self.candidates(question, naming, scores, replace(self.answer_params, passages=len(rows))) if pattern.search(c.sentence.clean)]
        if not ranked:  # named only across a sentence break: no sentence to answer with
            return None
        ranked.sort(key=lambda c: (not (acronym and spells_out(pattern, c.sentence.clean)), not introduces(pattern, c.sentence.clean)))  # stable
        found = self._first(list(dict.fromkeys(rows[c.hit.rank - 1] for c in ranked)), hits, k)
        best = found[0].chunk.sentences[ranked[0].index]
        return found, answering.AnswerChoice(answering.excerpts_of([(found[0], best)]), 1.0), "name"

    def _naming(self, question: str) -> tuple[list[int], str | None]:
        """Index rows of the passages naming the name a question asks of alone, in reading order, and the
        name; no rows and no name when it asks of none. A word the report also writes in lower
        case is not a name, however the question writes it: "What is Rehabilitation?" asks what the word means."""
        name = name_asked(question)
        if name is None:
            return [], None
        common = mentions(name.lower())
        if any(common.search(text) for _, text in self._passage_texts):
            return [], None
        pattern = mentions(name)
        return [i for i, text in self._passage_texts if pattern.search(text)], name

    def _names(self, length: int) -> frozenset[str]:
        """The report's names of `length` words, for a misspelt one; gathered once per length."""
        if length not in self._names_by_length:
            self._names_by_length[length] = names_in([text for _, text in self._passage_texts], length)
        return self._names_by_length[length]

    def _front_matter(self) -> list[int]:
        """Index rows of the title page and credits, in reading order."""
        return [i for i, c in enumerate(self.stored.chunks) if c.kind == "front_matter"]

    def _report_look_up(self, facet: str, front: list[int], hits: list[Hit], k: int) -> tuple[list[Hit], answering.AnswerChoice | None]:
        """The front-matter passages, those that say what is asked first, then the retrieved ones; the lines that say it."""
        titles = {doc: d["title"] for doc, d in self.stored.documents.items()}
        said = report_answer(facet, self._first(front, [], len(front)), titles)
        ids = {e.hit.chunk.chunk_id for e in said.excerpts} if said else set()
        found = self._first(sorted(front, key=lambda i: self.stored.chunks[i].chunk_id not in ids), hits, k)
        return found, report_answer(facet, [h for h in found if h.chunk.kind == "front_matter"], titles)

    def _citing_passages(self, n: int) -> list[int]:
        """Index rows of the passages citing footnote n, in reading order, across documents."""
        return [i for doc in self.citations for i in self._citing.get((doc, n), [])]

    def _first(self, rows: list[int], hits: list[Hit], k: int) -> list[Hit]:
        """The passages a look-up found (index rows, in order), then the retrieved ones they do not repeat; k in all."""
        found = [self.stored.chunks[i] for i in rows]
        ids = {c.chunk_id for c in found}
        ranked = [(c, LOOKUP_SCORE) for c in found] + [(h.chunk, h.score) for h in hits if h.chunk.chunk_id not in ids]
        return [Hit(c, score, rank) for rank, (c, score) in enumerate(ranked[:k], start=1)]

    def _no_answer_reason(self, question: str, lookup: str | None) -> str:
        """Say so when the question names footnotes the report does not have, or a source it does not
        cite, rather than blame the answer model."""
        if lookup == "source":
            return (f"no footnote cites a source by or titled {source_mention(question)!r} (GET /sources and `rag sources` list those it does); "
                    "the passages are those the question's words retrieve")
        if lookup == "name":
            name = name_asked(question)
            like = spelt_like(name, self._names(len(name.split())))
            return (f"the report never names {name!r} (a look-up of a name matches it word for word, as spelled"
                    + (f"; it does name {like!r}" if like else "") + "); the passages are those the question's words retrieve")
        named = footnote_mentions(question)
        have = {n for cits in self.citations.values() for n in cits.footnotes} if named else set()
        if missing := [n for n in named if n not in have]:
            said = f"the report has no footnote {', '.join(map(str, missing))} (its footnotes are numbered {_numbered(have)}); "
            return said + ("the passages are those the question's words retrieve" if lookup == "footnote" else NO_ANSWER)
        return NO_ANSWER

    def search(self, question: str, k: int, mode: str) -> list[Hit]:
        """The passages `ask` returns, look-ups included, without choosing an answer: what `rag eval` ranks."""
        hits = self.retriever.search(question, k, mode)
        looked_up = self._look_up(question, hits, k)  # a name look-up embeds the question itself, as search may not have
        return looked_up[0] if looked_up else hits

    def retrieve(self, question: str, k: int, mode: str) -> tuple[list[Hit], UnitScores, list[Part]]:
        """The top k passages, with the unit scores and parts the answer is then chosen from."""
        r = self.retriever
        scores, parts = r.unit_scores(question), r.parts(question)
        return r.hits(r.ranking(scores, k, mode, parts)), scores, parts

    def candidates(
        self, question: str, hits: list[Hit], scores: UnitScores, params: answering.AnswerParams | None = None, whole: str | None = None
    ) -> list[answering.Candidate]:
        """The top passages' sentences as answers to `question` (a part of `whole`, if given), best first."""
        r = self.retriever
        return answering.candidates(
            question, hits, r.sentence_rows, r.chunk_position, scores.dense, scores.keyword, params or self.answer_params, whole
        )

    def choose_answer(
        self,
        question: str,
        terms: QuestionTerms,
        hits: list[Hit],
        ranked: list[answering.Candidate],
        params: answering.AnswerParams | None = None,
        parts: Sequence[Part] = (),
    ) -> answering.AnswerChoice | None:
        """The answer sentence(s), or None; `params` overrides the configured ones (for tuning).
        Whether the report answers is judged on the whole question, or on each part; each part adds its best sentence."""
        params = params or self.answer_params
        if not ranked:
            return None
        part_ranked = [(p, r) for p, r in ((p, self.candidates(p.question, hits, p.scores, params, question)) for p in parts) if r]
        part_evidence = [(r[0], self.evidence(p.question, p.scores.terms, hits, r[:1], params)[0]) for p, r in part_ranked]
        contenders = answering.contenders(ranked)
        judged = list(zip(contenders, self.evidence(question, terms, hits, contenders, params)))
        return answering.choose(ranked, params, judged, self._uncovered(ranked[0], part_ranked), part_evidence)

    def _uncovered(self, best: answering.Candidate, part_ranked) -> list[answering.Candidate]:
        """Each part's best sentence, unless the best sentence already speaks of what sets the part apart:
        "How many Tajik women and children remain in Al-Hawl and Roj camps?" is answered by one sentence
        naming both camps, not by it and the Kyrgyz figure for the "Roj" part. A part set apart by nothing
        but its question word ("..., and when?") always adds its sentence."""
        terms = [p.scores.terms.terms for p, _ in part_ranked]
        said = set(self.retriever.keyword_index.content_terms(best.sentence.clean))
        out = []
        for i, (_, ranked) in enumerate(part_ranked):
            own = terms[i] - frozenset().union(*(t for j, t in enumerate(terms) if j != i))
            if not own or not own <= said:
                out.append(ranked[0])
        return out

    def evidence(
        self, question: str, terms: QuestionTerms, hits: list[Hit], sentences: list[answering.Candidate], params: answering.AnswerParams
    ) -> list[answering.Evidence]:
        """What the no-answer model reads about each of the given sentences; what the top passages
        miss of the question is the same for all of them."""
        keywords, top = self.retriever.keyword_index, self.retriever.unit_rows(hits[: params.passages])
        missing_top, missing_name = keywords.missing_share(terms, top), keywords.missing_name(terms, top)
        return [
            answering.evidence(
                c,
                missing_top,
                keywords.missing_share(terms, [c.row]),
                missing_name,
                self.verifier.logit(question, c.sentence.clean) if self.verifier else 0.0,
            )
            for c in sentences
        ]

    def context_of(self, chunks: Sequence[Chunk], max_tokens: int) -> str:
        """The `context` string `ask` would return for these passages in this order."""
        passages = [self._passage(Hit(c, 0.0, rank)) for rank, c in enumerate(chunks, start=1)]
        return pack(passages, max_tokens, tiktoken_counter(self.settings.tokenizer_encoding))[1]

    def _answer(self, choice: answering.AnswerChoice) -> Answer:
        excerpts = [self._excerpt(e) for e in choice.excerpts]
        first = excerpts[0]
        return Answer(
            text=" … ".join(e.text for e in excerpts),
            doc=first.doc,
            chunk_id=first.chunk_id,
            rank=first.rank,
            confidence=choice.confidence,
            citations=[self._citation(e.doc, n) for e in excerpts for n in e.footnotes if choice.cites is None or n in choice.cites],
            excerpts=excerpts,
        )

    @staticmethod
    def _excerpt(excerpt: answering.Excerpt) -> Excerpt:
        c = excerpt.hit.chunk
        return Excerpt(
            text=" ".join(s.display for s in excerpt.sentences),
            doc=c.doc,
            chunk_id=c.chunk_id,
            rank=excerpt.hit.rank,
            footnotes=[n for s in excerpt.sentences for n in s.footnotes],
        )

    def _citations(self, doc: str, numbers: list[int]) -> list[Citation]:
        return [self._citation(doc, n) for n in numbers]

    def _citation(self, doc: str, n: int) -> Citation:
        if (doc, n) not in self._citation_memo:
            self._citation_memo[(doc, n)] = self._resolve_citation(doc, n)
        return self._citation_memo[(doc, n)]

    def _resolve_citation(self, doc: str, n: int) -> Citation:
        resolved = self.citations[doc].footnotes.get(n) if doc in self.citations else None
        if resolved is None:
            return Citation(number=n, text=self.footnotes.get(doc, {}).get(n, ""), unresolved_reason="no such footnote")
        return Citation(number=n, text=resolved.text, kind=resolved.kind, sources=self._sources(doc, resolved.refs),
                        unresolved_reason=resolved.unresolved_reason)

    def _sources(self, doc: str, refs) -> list[SourceOut]:
        known = self.citations[doc].sources
        return [_source_out(known[r.source_id], r.page) for r in refs if r.source_id in known]

    # -- citation look-up
    def _check_doc(self, doc: str | None) -> None:
        if doc is not None and doc not in self.citations:
            raise NotFound(f"no document {doc!r}; documents: {', '.join(sorted(self.citations))}")

    def footnote(self, doc: str, n: int) -> FootnoteDetail:
        self._check_doc(doc)
        resolved = self.citations[doc].footnotes.get(n)
        if resolved is None:
            raise NotFound(f"{doc} has no footnote {n}; its footnotes are numbered {_numbered(self.citations[doc].footnotes)}")
        base = self._citation(doc, n)
        return FootnoteDetail(**base.model_dump(), doc=doc, chain=list(resolved.chain), notes=list(resolved.notes),
                              passages=[self._passage_ref(i) for i in self._citing.get((doc, n), [])])

    def sources(self, author: str | None = None, text: str | None = None, doc: str | None = None) -> list[SourceSummary]:
        """Every distinct source, or those matching an author (fuzzy) or words of a title; most cited first."""
        self._check_doc(doc)
        out = []
        for doc_id, cits in self.citations.items():
            if doc and doc_id != doc:
                continue
            found = cits.search_sources(author=author, text=text) if (author or text) else tuple(cits.sources.values())
            out += [self._summary(doc_id, s.source_id) for s in found]
        if not (author or text):
            out.sort(key=lambda s: (-s.n_footnotes, s.source_id))
        return out

    def source(self, source_id: str, doc: str | None = None) -> SourceDetail:
        self._check_doc(doc)
        for doc_id, cits in self.citations.items():
            if (doc is None or doc == doc_id) and source_id in cits.sources:
                summary = self._summary(doc_id, source_id)
                chunks = sorted({i for n in summary.footnotes for i in self._citing.get((doc_id, n), [])})
                return SourceDetail(**summary.model_dump(), passages=[self._passage_ref(i) for i in chunks])
        raise NotFound(f"no source {source_id!r}; GET /sources lists them")

    def _summary(self, doc: str, source_id: str) -> SourceSummary:
        cits = self.citations[doc]
        numbers = sorted(cits.footnotes_citing(source_id))
        chunks = {i for n in numbers for i in self._citing.get((doc, n), [])}
        return SourceSummary(**_source_out(cits.sources[source_id], None).model_dump(), doc=doc, footnotes=numbers,
                             n_footnotes=len(numbers), n_passages=len(chunks))

    def _passage_ref(self, i: int) -> PassageRef:
        c = self.stored.chunks[i]
        return PassageRef(chunk_id=c.chunk_id, doc=c.doc, heading_path=list(c.heading_path), text=c.text,
                          citations=self._citations(c.doc, list(c.footnotes)))

    def _passage(self, hit: Hit) -> Passage:
        c = hit.chunk
        return Passage(
            rank=hit.rank,
            score=round(hit.score, 6),
            chunk_id=c.chunk_id,
            doc=c.doc,
            heading_path=list(c.heading_path),
            text=c.text,
            citations=self._citations(c.doc, list(c.footnotes)),
        )

    def source_names(self, doc: str, number: int) -> str:
        """Names of the source(s) a footnote rests on (authors, title, outlet, bibliography entry)."""
        if doc not in self.citations:
            return ""
        parts = []
        for src in self.citations[doc].sources_of(number):
            parts += [*src.authors, src.title or "", src.outlet or "", src.description or "", src.bibliography_text or ""]
        return " ".join(p for p in parts if p)

    def health(self) -> dict[str, Any]:
        m = self.stored.manifest
        return {
            "status": "ok",
            "index_loaded": True,
            "built_at": m["built_at"],
            "model": m["model_name"],
            "documents": {d: {"title": doc["title"], "footnotes": len(doc["footnotes"])} for d, doc in self.stored.documents.items()},
            "chunks": m["counts"]["chunks"],
        }


def _elsewhere(question: str, ranked: list[answering.Candidate]) -> str | None:
    """Why there is no answer when the closest sentences are about another state than the one asked about."""
    judged = answering.contenders(ranked)
    if not judged or not all(c.elsewhere for c in judged):
        return None
    said, asked = sorted(frozenset().union(*(c.elsewhere for c in judged))), sorted(answering.states_named(question))
    return f"the closest sentences speak of {' and '.join(said)}, not of {' or '.join(asked)}; the passages are the closest the report comes"


def _within(choice: answering.AnswerChoice | None, fitting: int, max_tokens: int) -> tuple[answering.AnswerChoice | None, str | None]:
    """The answer drawn only from the passages that fit the token budget: it must not quote one the context
    leaves out. None, and why, when its best sentence is in one of those."""
    if choice is None:
        return None, None
    rank = choice.excerpts[0].hit.rank
    if rank > fitting:
        return None, (f"the sentence that answers is in passage {rank}, which does not fit in max_tokens={max_tokens} "
                      f"({fitting} passage(s) fit); raise max_tokens to get it")
    return replace(choice, excerpts=tuple(e for e in choice.excerpts if e.hit.rank <= fitting)), None


def _numbered(numbers) -> str:
    """How footnotes are numbered, for a message: "1–242"."""
    return f"{min(numbers)}–{max(numbers)}" if numbers else "none"


def _source_out(src: Source, page: str | None) -> SourceOut:
    return SourceOut(source_id=src.source_id, authors=list(src.authors or src.bibliography_authors), title=src.title or src.description, outlet=src.outlet,
                     date=src.date, urls=list(src.urls), kind=src.kind, page=page, bibliography=src.bibliography_text)


__all__ = ["QAService", "QueryResult", "Passage", "Citation", "QuestionError", "IndexUnavailable", "check_question"]
