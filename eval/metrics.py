"""Eval metrics: retrieval (ranx), answer correctness, abstention, ALCE-style citations, latency, by kind.

Every per-question result is a plain dict (a "record"); `aggregate` turns a list of records into metrics.
"""

from __future__ import annotations

import re
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable
from functools import cache

import numpy as np

from assistant.vocab import section_key

# Our name -> ranx metric. ranx's "hits@k" counts relevant results; "hit_rate@k" is the 0/1 hit we want.
RETRIEVAL = {"hit_at_1": "hit_rate@1", "hit_at_5": "hit_rate@5", "mrr": "mrr@5", "ndcg_at_5": "ndcg@5"}
QUALITY = ["answer_correctness", "abstention_precision", "abstention_recall", "citation_precision", "citation_recall",
           "quotes_on_gold", "lead_precision"]
LATENCY = ["latency_p50_ms", "latency_p95_ms"]
METRICS = [*RETRIEVAL, *QUALITY, *LATENCY]
SUPPORT_COSINE = 0.6
MARKER = re.compile(r"\[(\d+)\]")
MARKER_GROUP = re.compile(r"(?:\s*\[\d+\])+")
# The off-topic note `compose` appends is about the sources, not a claim: not scored.
OFFTOPIC_NOTE = re.compile(r"\s*Note: (?:\[\d+\][, ]*)+ ?(?:is|are) not about space governance.*$", re.S)
QUOTED = re.compile(r"[“\"]([^”\"]{20,})[”\"]")


# -- retrieval -------------------------------------------------------------------------------------
def is_relevant(doc_id: str, section: str | None, gold: Iterable[dict]) -> bool:
    """A passage answers a gold {doc_id, section}: same document, and the section or one inside it; or another
    text of the same instrument (the official text beside our brief, per the vocabulary) at the same provision."""
    for g in gold:
        want = g.get("section")
        if g.get("doc_id") != doc_id:
            if doc_id in other_texts(g.get("doc_id")) and (
                    not want or (section_key(want) is not None and section_key(section) == section_key(want))):
                return True
            continue
        if not want:
            return True
        have = section or ""
        if have == want or have.startswith(want + ":") or have.startswith(want + " >"):
            return True
    return False


@cache
def other_texts(doc_id: str | None) -> frozenset[str]:
    """The other documents of the instrument `doc_id` belongs to (brief, official text, translations)."""
    from assistant.vocab import Vocabulary

    return frozenset({d for i in Vocabulary.default().instruments if doc_id in i.docs for d in i.docs} - {doc_id})


def retrieval_scores(items: list[tuple[str, list[str], set[str]]]) -> dict[str, dict[str, float]]:
    """{qid: {hit_at_1, hit_at_5, mrr, ndcg_at_5}} for (qid, ranking best first, relevant ids) via ranx.
    A question whose gold passages are not in the index at all scores 0 (the corpus cannot answer it)."""
    out = {qid: dict.fromkeys(RETRIEVAL, 0.0) for qid, _, _ in items}
    judged = [(qid, ranking, relevant) for qid, ranking, relevant in items if relevant]
    if not judged:
        return out
    from ranx import Qrels, Run, evaluate

    # Fixed-width ids: ranx compiles its numba kernels per id string width, and caches them on disk per width.
    code: dict[str, str] = {}

    def fixed(pid: str) -> str:
        return code.setdefault(pid, f"p{len(code):09d}")

    qids = {qid: f"q{i:07d}" for i, (qid, _, _) in enumerate(judged)}
    qrels = Qrels({qids[qid]: {fixed(pid): 1 for pid in relevant} for qid, _, relevant in judged})
    run = Run({qids[qid]: {fixed(pid): 1.0 / (rank + 1) for rank, pid in enumerate(dict.fromkeys(ranking))}
               for qid, ranking, _ in judged})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numba's type-safety warnings
        scores = evaluate(qrels, run, list(RETRIEVAL.values()), return_mean=False, make_comparable=True)
    back = {v: k for k, v in qids.items()}
    for i, qid in enumerate(qrels.get_query_ids()):
        for ours, theirs in RETRIEVAL.items():
            out[back[qid]][ours] = float(np.atleast_1d(scores[theirs])[i])
    return out


# -- answers ---------------------------------------------------------------------------------------
def contains_all(text: str, must_contain: list[str]) -> bool:
    """Every item found case-insensitively; "a|b" means either."""
    low = text.lower()
    return all(any(alt.strip().lower() in low for alt in item.split("|") if alt.strip()) for item in must_contain)


def is_correct(abstain_expected: bool, abstained: bool, text: str, must_contain: list[str]) -> bool:
    """An answerable question: answered and every must_contain item present. An unanswerable one: abstained."""
    if abstain_expected:
        return abstained
    return not abstained and contains_all(text, must_contain)


# -- citations (ALCE-style: Gao et al. 2023, "Enabling LLMs to generate text with citations") -------
def _normalise(text: str) -> str:
    text = MARKER.sub("", text)
    text = re.sub(r"[“”„\"]", '"', text).replace("’", "'").replace("‘", "'")
    return re.sub(r"\s+", " ", text).strip().strip(" .;,").lower()


def _pieces(segment: str) -> list[str]:
    from assistant.ingest.split import split_sentences

    segment = segment.lstrip(" .;,:")
    return [segment[s:e] for s, e in split_sentences(segment)]


def answer_sentences(text: str) -> list[tuple[str, list[int]]]:
    """(sentence, cited numbers) in order; in "A. B [1]" only B carries the citation."""
    text = OFFTOPIC_NOTE.sub("", text)
    out: list[tuple[str, list[int]]] = []
    pos = 0
    for m in MARKER_GROUP.finditer(text):
        pieces = _pieces(text[pos:m.start()])
        numbers = [int(n) for n in MARKER.findall(m.group())]
        out += [(p, []) for p in pieces[:-1]]
        if pieces:
            out.append((pieces[-1], numbers))
        elif out:  # markers alone after a sentence: they belong to it
            out[-1] = (out[-1][0], out[-1][1] + numbers)
        pos = m.end()
    out += [(p, []) for p in _pieces(text[pos:])]
    return [(s, n) for s, n in out if re.search(r"\w", s)]


class SupportChecker:
    """Does a cited text support a sentence? Verbatim (whole or quoted part), else embedding cosine >= 0.6."""

    def __init__(self, encode: Callable[[list[str]], np.ndarray], threshold: float = SUPPORT_COSINE) -> None:
        self.encode, self.threshold = encode, threshold
        self._vectors: dict[str, np.ndarray] = {}

    def _vector(self, text: str) -> np.ndarray:
        if text not in self._vectors:
            self._vectors[text] = self.encode([text])[0]
        return self._vectors[text]

    def supports(self, sentence: str, source: str) -> bool:
        body, haystack = _normalise(sentence), _normalise(source)
        if body and body in haystack:
            return True
        if any(_normalise(q) in haystack for q in QUOTED.findall(sentence)):
            return True
        clean = MARKER.sub("", sentence).strip()
        return bool(clean) and float(self._vector(clean) @ self._vector(source)) >= self.threshold


def citation_scores(text: str, sources: dict[int, str], checker: SupportChecker) -> tuple[float | None, float | None]:
    """(precision, recall) of one answer. Precision: share of (sentence, cited source) pairs where the source
    supports the sentence. Recall: share of sentences that cite and are supported by a cited source."""
    sentences = answer_sentences(text)
    if not sentences:
        return None, None
    pairs = supported = 0
    covered = 0
    for sentence, numbers in sentences:
        verdicts = [n in sources and checker.supports(sentence, sources[n]) for n in dict.fromkeys(numbers)]
        pairs += len(verdicts)
        supported += sum(verdicts)
        covered += any(verdicts)
    return (supported / pairs if pairs else None), covered / len(sentences)


def quotes_on_gold(cited: list[tuple[str, str | None]], gold: Iterable[dict]) -> float | None:
    """Share of an answer's cited passages (document, section) at a place its gold names (`is_relevant`: the
    section or one inside it, or the same provision in another text of the instrument); None without gold.
    Correctness sees only whether the asked-for words are somewhere in the answer; this sees quotes taken from
    elsewhere. A guard for changes, not an absolute measure: a quote from a place the gold does not list (the next
    article, another treaty on the same point) can still be on the point."""
    gold = list(gold)
    if not cited or not gold:
        return None
    return sum(is_relevant(doc, section, gold) for doc, section in cited) / len(cited)


def lead_right(lead: str, must_contain: list[str], abstain_expected: bool) -> bool:
    """Whether the thing an answer opens with (the asked-for date, number, name or article) holds one of the
    asked-for items: '15 June 2021' for '15 June 2021', not 'June 2021'; any lead to a question the corpus does
    not answer is wrong. Correctness cannot see a wrong lead above quotes that hold the fact; this can."""
    low = lead.lower()
    return not abstain_expected and any(alt.strip().lower() in low for item in must_contain
                                        for alt in item.split("|") if alt.strip())


# -- aggregation -----------------------------------------------------------------------------------
def _mean(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else None


def aggregate(records: list[dict]) -> dict:
    """Overall metrics of some records. Retrieval over answerable questions with gold only; citations over
    answered questions; abstention with "should abstain" as the positive class."""
    abstained = [r for r in records if r["abstained"]]
    expected = [r for r in records if r["abstain_expected"]]
    hits = sum(1 for r in abstained if r["abstain_expected"])
    latencies = [r["latency_ms"] for r in records if r.get("latency_ms") is not None]
    out = {"n": len(records), "n_retrieval": sum(1 for r in records if r.get("hit_at_1") is not None)}
    for name in RETRIEVAL:
        out[name] = _mean([r.get(name) for r in records])
    out["answer_correctness"] = _mean([float(r["correct"]) for r in records])
    out["abstention_precision"] = hits / len(abstained) if abstained else None
    out["abstention_recall"] = hits / len(expected) if expected else None
    out["citation_precision"] = _mean([r.get("citation_precision") for r in records])
    out["citation_recall"] = _mean([r.get("citation_recall") for r in records])
    out["quotes_on_gold"] = _mean([r.get("quotes_on_gold") for r in records])
    out["lead_precision"] = _mean([r.get("lead_right") for r in records])
    out["latency_p50_ms"] = float(np.percentile(latencies, 50)) if latencies else None
    out["latency_p95_ms"] = float(np.percentile(latencies, 95)) if latencies else None
    return out


def summarise(records: list[dict]) -> dict:
    """{"overall": metrics, "by_kind": {kind: metrics}}."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        groups[r["kind"]].append(r)
    return {"overall": aggregate(records), "by_kind": {k: aggregate(v) for k, v in sorted(groups.items())}}


# -- abstention threshold sweep ----------------------------------------------------------------------
def sweep(records: list[dict], current: float, lo: float = 0.05, hi: float = 0.95, step: float = 0.05) -> dict:
    """Abstention precision/recall/F1 and answer correctness if the threshold were t, from one run: each
    record holds the best-sentence `confidence`, `content_ok` (would the non-abstained answer contain every
    must_contain item) and `rule_abstains` (the answerer abstains at any threshold, by a rule). Best: highest
    F1 among thresholds whose correctness >= the current one's."""
    usable = [r for r in records if r.get("confidence") is not None]

    def at(t: float) -> dict:
        tp = fp = fn = correct = 0
        for r in usable:
            abstain = bool(r.get("rule_abstains")) or r["confidence"] < t
            tp += abstain and r["abstain_expected"]
            fp += abstain and not r["abstain_expected"]
            fn += (not abstain) and r["abstain_expected"]
            correct += abstain if r["abstain_expected"] else (not abstain and r["content_ok"])
        p = tp / (tp + fp) if tp + fp else None
        rec = tp / (tp + fn) if tp + fn else None
        f1 = 2 * p * rec / (p + rec) if p and rec else 0.0
        return {"threshold": round(t, 4), "precision": p, "recall": rec, "f1": f1,
                "answer_correctness": correct / len(usable) if usable else None}

    curve = [at(t) for t in np.round(np.arange(lo, hi + step / 2, step), 4)]
    now = at(current)
    floor = (now["answer_correctness"] or 0.0) - 1e-9
    eligible = [c for c in curve if (c["answer_correctness"] or 0.0) >= floor] or curve
    best = max(eligible, key=lambda c: (c["f1"], c["answer_correctness"] or 0.0, -abs(c["threshold"] - current)))
    # Self-check: at the current threshold the simulation must reproduce the run's own abstentions.
    mismatches = [r.get("id") for r in usable if (bool(r.get("rule_abstains")) or r["confidence"] < current) != r["abstained"]]
    return {"current": now, "best": best, "curve": curve, "n": len(usable), "mismatches": mismatches}


# -- gate ------------------------------------------------------------------------------------------
def check_gate(overall: dict, thresholds: dict) -> list[str]:
    """Messages for every overall metric below its [minimum] (or above its [maximum]); [] when all pass."""
    problems = []
    for name, floor in (thresholds.get("minimum") or {}).items():
        value = overall.get(name)
        if value is None:
            continue  # undefined on this question set (e.g. no abstention questions)
        if value < floor:
            problems.append(f"{name} = {value:.3f} is below its minimum {floor}")
    for name, ceiling in (thresholds.get("maximum") or {}).items():
        value = overall.get(name)
        if value is not None and value > ceiling:
            problems.append(f"{name} = {value:.3f} is above its maximum {ceiling}")
    unknown = [n for n in {**(thresholds.get("minimum") or {}), **(thresholds.get("maximum") or {})} if n not in METRICS]
    problems += [f"{n}: unknown metric in the thresholds file (known: {', '.join(METRICS)})" for n in unknown]
    return problems


def failures(records: list[dict]) -> list[dict]:
    """Questions to look at: wrong answer, wrong or missed abstention, or no gold passage in the top 5."""
    out = []
    for r in records:
        reasons = []
        if r["abstain_expected"] and not r["abstained"]:
            reasons.append("missed abstention")
        elif not r["abstain_expected"] and r["abstained"]:
            reasons.append("abstained but should answer")
        elif not r["correct"]:
            reasons.append("wrong answer")
        if r.get("hit_at_5") == 0:
            reasons.append("retrieval miss")
        if reasons:
            keep = ("id", "split", "kind", "question", "abstain_expected", "must_contain", "gold", "answer", "confidence", "top5")
            out.append({"reasons": reasons, **{k: r.get(k) for k in keep}})
    return out
