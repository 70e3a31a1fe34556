"""A deterministic script writer: the project's own sentences, grouped into timed segments."""

from __future__ import annotations

import math
import re
from collections import Counter

from ytmaker.errors import InputError
from ytmaker.language import count_units, family
from ytmaker.providers.local.voice import CHARS_PER_SECOND_ZH, WORDS_PER_SECOND_EN
from ytmaker.script import Metadata, Narration, Script, ScriptRules, Segment

PAUSE_SECONDS = 0.4  # the voice adds this silence after every piece
_SENTENCE = {
    "zh": re.compile(r"[^。！？!?；;\n]+[。！？!?；;]*"),
    "en": re.compile(r"[^.!?\n]+[.!?]*"),
}
_CLAUSE = {"zh": re.compile(r"[^，、,：:]+[，、,：:]*"), "en": re.compile(r"[^,;:]+[,;:]*")}
_ZH_STOP = set("的了是在和與也都就而及或被把這那個我你他她它們有為以於之其上下中不要會到說")
_EN_STOP = set(
    [
        "about",
        "after",
        "again",
        "also",
        "because",
        "been",
        "before",
        "being",
        "between",
        "could",
        "does",
        "doing",
        "during",
        "each",
        "every",
        "from",
        "have",
        "having",
        "into",
        "just",
        "more",
        "most",
        "other",
        "over",
        "really",
        "same",
        "should",
        "some",
        "such",
        "than",
        "that",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "very",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "will",
        "with",
        "would",
        "your",
    ]
)
# The title is quoted (zh) or set off by a colon (en): they read the same with a name, a
# heading or a phrase from the text's first sentence.
INTRO = {
    "zh": "大家好，歡迎收看本集影片。今天要和大家聊聊「{title}」。",
    "en": "Hello and welcome. Today's video: {title}.",
}
OUTRO = {
    "zh": "以上就是「{title}」的介紹，感謝收看！喜歡的話請按讚、訂閱並開啟小鈴鐺，我們下次見。",
    "en": "That was our video: {title}. Thanks for watching! If you enjoyed it, like and "
    "subscribe. See you next time.",
}
TITLE_MAX = {"zh": 40, "en": 90}  # characters: a title longer than this is cut at a boundary
# A Short opens with its first sentence as the hook (no greeting) and ends in one line.
SHORT_OUTRO = {
    "zh": "追蹤頻道，看更多「{title}」的故事！",
    "en": "Follow for more stories like this.",
}
HOOK_SECONDS = 3.0  # a hook shorter than this takes the next sentence too
DISCLOSURE = {
    "zh": "本影片由 YTMaker Flow 以 AI 工具協助製作。",
    "en": "Made with AI tools by YTMaker Flow.",
}


def estimate_seconds(text: str, language: str) -> float:
    """How long the local voice takes to say `text`, pause included."""
    rate = CHARS_PER_SECOND_ZH if family(language) == "zh" else WORDS_PER_SECOND_EN
    return round(count_units(text, language) / rate + PAUSE_SECONDS, 2)


class LocalScriptWriter:
    """Implements ScriptWriter offline; its output passes the same validation as an LLM's."""

    name = "local"
    metered_service = None

    def write(
        self, content: str, language: str, rules: ScriptRules, *, title: str | None = None
    ) -> Script:
        """`title`: the project's name, which becomes the video's title when given."""
        heading, body = split_title(content, language)
        title = shorten(title or heading, language)
        sentences = [s for s in split_sentences(body, language) if count_units(s, language) > 0]
        if not sentences:
            raise InputError(
                "The content has no sentences to narrate; add some text.", field="content"
            )
        lang = family(language)
        hook = _hook(sentences, language) if rules.hook else None
        texts = group_segments(sentences, language, rules)
        segments = [
            Segment(
                index=i,
                text=text,
                duration=estimate_seconds(text, language),
                image_description=describe_image(title, text),
                search_terms=search_terms(title, text),
            )
            for i, text in enumerate(texts, start=1)
        ]
        intro = _narration(hook or INTRO[lang].format(title=title), language)
        outro = _narration((SHORT_OUTRO if hook else OUTRO)[lang].format(title=title), language)
        total = round(intro.duration + outro.duration + sum(s.duration for s in segments), 2)
        _check_total(total, rules, language)
        return Script(
            language=language,
            intro=intro,
            segments=segments,
            outro=outro,
            metadata=Metadata(
                title=title,
                description=describe(title, sentences, lang),
                tags=pick_tags(title, body, lang),
            ),
            total_duration=total,
        )


def _hook(sentences: list[str], language: str) -> str | None:
    """A Short's opening: its first sentence (two if the first is a mere "Did you know?"),
    taken from `sentences`; None when that would leave nothing to narrate after it."""
    count = 1
    while count < len(sentences) and estimate_seconds(" ".join(sentences[:count]), language) < (
        HOOK_SECONDS + PAUSE_SECONDS
    ):
        count += 1
    if count >= len(sentences):
        return None
    joiner = "" if family(language) == "zh" else " "
    hook = joiner.join(sentences[:count])
    del sentences[:count]
    return hook


def _narration(text: str, language: str) -> Narration:
    return Narration(text=text, duration=estimate_seconds(text, language))


def _check_total(total: float, rules: ScriptRules, language: str) -> None:
    """A text narrated as it is makes a video of its own length: say how much to add or cut."""
    if total < rules.total_min:
        raise InputError(
            f"The content is too short: it makes about {total:.0f} s of narration and a video "
            f"needs at least {rules.total_min:g} s. Add about "
            f"{text_for(rules.total_min - total, language)} (or lower "
            "YTMAKER_TOTAL_MIN_SECONDS).",
            field="content",
            duration=total,
        )
    if total > rules.total_max:
        raise InputError(
            f"The content is too long: it makes about {total:.0f} s of narration and the limit is "
            f"{rules.total_max:g} s. Cut about {text_for(total - rules.total_max, language)} "
            "(or raise YTMAKER_TOTAL_MAX_SECONDS).",
            field="content",
            duration=total,
        )


# Seconds the offline writer adds around the text: a greeting and a goodbye (pauses included),
# or a Short's one-line ending.
FRAME_SECONDS = {("zh", False): 20.0, ("en", False): 15.0, ("zh", True): 4.0, ("en", True): 3.0}


def text_for(seconds: float, language: str) -> str:
    """About how much text the offline voice takes `seconds` to say: `95 words`, `340 Chinese
    characters`."""
    lang = family(language)
    units = max(1.0, seconds) * (CHARS_PER_SECOND_ZH if lang == "zh" else WORDS_PER_SECOND_EN)
    return f"{math.ceil(units):,} {'Chinese characters' if lang == 'zh' else 'words'}"


def text_needed(total_seconds: float, language: str, *, hook: bool = False) -> str:
    """About how much text makes a video of `total_seconds` (rounded up to tens)."""
    lang = family(language)
    seconds = max(1.0, total_seconds - FRAME_SECONDS[(lang, hook)])
    units = seconds * (CHARS_PER_SECOND_ZH if lang == "zh" else WORDS_PER_SECOND_EN)
    return f"{math.ceil(units / 10) * 10:,} {'Chinese characters' if lang == 'zh' else 'words'}"


def split_title(content: str, language: str) -> tuple[str, str]:
    """A short first line (or a '# heading') is the title, and is not narrated; else the title
    is the first sentence, shortened at a clause or word boundary (`shorten`)."""
    lines = [line.strip() for line in content.strip().splitlines() if line.strip()]
    if not lines:
        return "", ""
    first = lines[0].lstrip("#").strip()
    limit = TITLE_MAX[family(language)]
    is_heading = lines[0].startswith("#") or (
        len(first) <= limit and not re.search(r"[。.!?！？]$", first)
    )
    if len(lines) > 1 and is_heading:
        return first, "\n".join(lines[1:])
    heads = split_sentences(first, language)
    return shorten(heads[0] if heads else "", language), "\n".join(lines)


_END = "，,、；;：:。.!?！？ "
_ZH_BREAK = re.compile(r"(?<=[，、；：,;:（）「」『』《》〈〉()\s])")


def shorten(sentence: str, language: str) -> str:
    """A sentence as a title of at most TITLE_MAX characters, never cut inside a word: whole
    clauses while they fit; a first clause too long is cut after its last whole word (en) or at
    its last inner break (zh), with an ellipsis."""
    text = sentence.strip().rstrip(_END)
    limit = TITLE_MAX[family(language)]
    if len(text) <= limit:
        return text
    clauses = [m.group() for m in _CLAUSE[family(language)].finditer(text)]
    kept = ""
    for clause in clauses:
        if len((kept + clause).rstrip(_END)) > limit:
            break
        kept += clause
    if kept.strip(_END):
        return kept.rstrip(_END)
    return _cut_inside(text, language, limit - 1) + "…"


def _cut_inside(text: str, language: str, limit: float) -> str:
    """The longest start of `text` within `limit` that ends at a word (en) or a break (zh)."""
    if family(language) == "en":
        words, kept = text.split(), ""
        for word in words:
            if len(f"{kept} {word}".strip()) > limit:
                break
            kept = f"{kept} {word}".strip()
        return (kept or words[0][: int(limit)]).rstrip(_END)
    breaks = [m.start() for m in _ZH_BREAK.finditer(text) if 0 < m.start() <= limit]
    return text[: breaks[-1] if breaks else int(limit)].rstrip(_END)


def split_sentences(text: str, language: str) -> list[str]:
    lang = family(language)
    return [m.group().strip() for m in _SENTENCE[lang].finditer(text) if m.group().strip()]


def group_segments(sentences: list[str], language: str, rules: ScriptRules) -> list[str]:
    """Greedy grouping of sentences into segments that fit the duration rules."""
    target = rules.segment_max * 0.85
    pieces = [p for s in sentences for p in _fit(s, language, target)]
    joiner = "" if family(language) == "zh" else " "
    groups: list[str] = []
    for piece in pieces:
        candidate = f"{groups[-1]}{joiner}{piece}" if groups else piece
        if (
            groups
            and estimate_seconds(candidate, language) <= target
            and (estimate_seconds(groups[-1], language) < rules.segment_min * 2.4)
        ):
            groups[-1] = candidate
        else:
            groups.append(piece)
    return _merge_short_tail(groups, language, rules, joiner)


def _merge_short_tail(
    groups: list[str], language: str, rules: ScriptRules, joiner: str
) -> list[str]:
    """Fold segments shorter than the minimum into a neighbour."""
    merged: list[str] = []
    for text in groups:
        short = estimate_seconds(text, language) < rules.segment_min
        if merged and (short or estimate_seconds(merged[-1], language) < rules.segment_min):
            merged[-1] = f"{merged[-1]}{joiner}{text}"
        else:
            merged.append(text)
    return merged


def _fit(sentence: str, language: str, limit: float) -> list[str]:
    """Split a sentence too long for one segment at commas, then by length."""
    if estimate_seconds(sentence, language) <= limit:
        return [sentence]
    lang = family(language)
    clauses = [m.group().strip() for m in _CLAUSE[lang].finditer(sentence) if m.group().strip()]
    if len(clauses) > 1:
        out: list[str] = []
        for clause in clauses:
            out.extend(_fit(clause, language, limit))
        return _rejoin(out, language, limit)
    return _hard_split(sentence, language, limit)


def _rejoin(parts: list[str], language: str, limit: float) -> list[str]:
    joiner = "" if family(language) == "zh" else " "
    out: list[str] = []
    for part in parts:
        if out and estimate_seconds(f"{out[-1]}{joiner}{part}", language) <= limit:
            out[-1] = f"{out[-1]}{joiner}{part}"
        else:
            out.append(part)
    return out


def _hard_split(sentence: str, language: str, limit: float) -> list[str]:
    if family(language) == "zh":
        size = max(1, int(len(sentence) * limit / estimate_seconds(sentence, language)))
        return [sentence[i : i + size] for i in range(0, len(sentence), size)]
    words = sentence.split()
    size = max(1, int(len(words) * limit / estimate_seconds(sentence, language)))
    return [" ".join(words[i : i + size]) for i in range(0, len(words), size)]


def describe_image(title: str, text: str) -> str:
    """The picture for a segment: what it says (all of it: the offline pictures choose their
    scene from these words), in the video's context."""
    return f"{title} — {text}" if title else text


def search_terms(title: str, text: str) -> list[str]:
    """1-3 English stock-footage terms from the segment's words (zh-TW or English): the scenes
    of the offline pictures' motif table it names, most named first; else its title's."""
    from ytmaker.providers.local.pictures.motifs import named

    for words in (text, title):
        counts = Counter(motif.name for _, motif in named(words))
        if counts:
            return [name for name, _ in counts.most_common(3)]
    return []


def describe(title: str, sentences: list[str], lang: str) -> str:
    joiner = "" if lang == "zh" else " "
    summary = joiner.join(sentences[:3])
    return f"{title}\n\n{summary}\n\n{DISCLOSURE[lang]}"[:4900]


def pick_tags(title: str, body: str, lang: str, most: int = 8) -> list[str]:
    """Frequent words (en) or two-character terms (zh), plus the title; YouTube caps tags."""
    if lang == "zh":
        terms = [body[i : i + 2] for i in range(len(body) - 1)]
        terms = [
            t for t in terms if re.fullmatch(r"[\u4e00-\u9fff]{2}", t) and not set(t) & _ZH_STOP
        ]
    else:
        terms = [w.lower() for w in re.findall(r"[A-Za-z]{5,}", body)]
        terms = [t for t in terms if t not in _EN_STOP]
    counted = [term for term, n in Counter(terms).most_common(most) if n > 1]
    head = re.split(r"[:：—-]", title)[0].strip()
    tags = ([head] if 0 < len(head) <= 30 else []) + counted
    return list(dict.fromkeys(tags))[: most + 1]
