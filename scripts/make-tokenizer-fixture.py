#!/usr/bin/python3
"""Write tests/fixtures/tok512-encodings.json: SentencePiece's own encodings of varied strings.

The TypeScript tokenizer converts a SentencePiece .model into a Hugging Face tokenizer.json;
tests/tokenizer.test.ts checks that its ids equal the ones recorded here, so SentencePiece
itself (not our reading of it) is the reference.

Run with Debian's python3, which has the sentencepiece module:
    /usr/bin/python3 scripts/make-tokenizer-fixture.py [path/to/tok512.model]

Each case is {"text", "ids", "decoded"}: ids are encode(text) without BOS, decoded is
SentencePiece's decode(ids), which differs from text where SentencePiece drops whitespace.
"variants" repeat the texts (ids only) for the model with other normalizer flags.
"""

import hashlib
import json
import os
import sys

import sentencepiece as spm

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_MODEL = os.path.join(REPO, "..", "shared", "models", "stories260K", "tok512.model")
OUT = os.path.join(REPO, "tests", "fixtures", "tok512-encodings.json")

LONG_STORY = (
    "Once upon a time, there was a little dog named Max. Max liked to run in the big green park "
    "with his friend Sue. One day, Max saw a shiny red ball under a tree. He ran to the ball and "
    "picked it up. \"Look, Sue! I found a ball!\" said Max. Sue smiled and said, \"Let's play!\" "
    "They played all day until the sun went down. Then they went home, happy and tired.\n\n"
) * 6

CASES = [
    # Plain story text, the kind the model was trained on.
    "Once upon a time",
    "Once upon a time, there was a little girl named Lily.",
    "She loved to play outside in the park.",
    "One day, she saw a big, red ball. She wanted to play with it, but it was too high.",
    "The cat sat on the mat and looked at the bird.",
    "Tom and Sue were best friends. They liked to share their toys.",
    "the the the the",
    "happily ever after",
    LONG_STORY,
    # Punctuation and quotes.
    "Hello, world!",
    "Wait... what?!",
    "\"Yes,\" said Mom. 'No,' said Dad.",
    "It's Lily's ball, isn't it?",
    "\u201cCurly quotes\u201d and \u2018single ones\u2019",
    "semi;colon: dash - em\u2014dash (parens) [brackets] {braces}",
    "a,b.c!d?e",
    # Digits and numbers.
    "0123456789",
    "I have 3 apples and 42 pears.",
    "3.14159265358979",
    "1,000,000 dollars in 2024",
    "12345678901234567890",
    "Call 555-0199 at 10:30pm",
    # Newlines and tabs.
    "\n",
    "\n\n",
    "a\nb",
    "line one\nline two\n",
    "para one.\n\npara two.",
    "\r\n",
    "\t",
    "col1\tcol2\tcol3",
    "\tindented with a tab",
    # Spaces: SentencePiece drops leading, trailing and repeated U+0020 (remove_extra_whitespaces).
    "",
    " ",
    "   ",
    " leading space",
    "trailing space ",
    "  both sides  ",
    "many     spaces     inside",
    " \n ",
    "a \n b",
    "\u00a0non\u00a0breaking\u00a0\u00a0spaces",
    "ideographic\u3000space",
    "thin\u2009space and hair\u200aspace",
    "\u2581already\u2581escaped",
    "\u2581",
    "tail \u2581",
    # Mixed case.
    "HELLO WORLD",
    "hElLo WoRlD",
    "CamelCaseWordsHere",
    # Unicode text: accents, combining marks, scripts.
    "caf\u00e9 na\u00efve r\u00e9sum\u00e9",
    "cafe\u0301 with a combining accent",
    "\u00c5ngstr\u00f6m \u00fcber Stra\u00dfe",
    "\u4f60\u597d\uff0c\u4e16\u754c",
    "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8",
    "\ud55c\uad6d\uc5b4 \ud14d\uc2a4\ud2b8",
    "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645",
    "\u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd",
    "\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440!",
    "\u0393\u03b5\u03b9\u03b1 \u03c3\u03bf\u03c5 \u03ba\u03cc\u03c3\u03bc\u03b5",
    "mixed English \u0438 \u0440\u0443\u0441\u0441\u043a\u0438\u0439 \u548c\u4e2d\u6587",
    # Emoji: single, skin tone, ZWJ family, flags, keycap; all need byte fallback here.
    "\U0001F600",
    "I love pizza \U0001F355!",
    "\U0001F44D\U0001F3FD thumbs up",
    "\U0001F468\u200D\U0001F469\u200D\U0001F467\u200D\U0001F466 family",
    "\U0001F3F3\uFE0F\u200D\U0001F308",
    "\U0001F1FA\U0001F1F8\U0001F1EF\U0001F1F5 flags",
    "1\uFE0F\u20E3 keycap",
    # URLs, code, markup.
    "https://example.com/path?query=1&b=two#frag",
    "email me: someone@example.org",
    "def add(a, b):\n    return a + b\n",
    "if (x < 10 && y > 2) { console.log(`ok`); }",
    "<p>Hello &amp; welcome &lt;friend&gt; &quot;hi&quot; &#39;</p>",
    "C:\\Users\\name\\file.txt",
    "50% off | 100~200 ^_^ $5 @home #tag",
    # Text that looks like special pieces must stay plain text.
    "<s>",
    "a <s> b </s> c <unk>",
    "<0x0A>",
    # Control characters: C0, DEL and C1 (U+0092 is mojibake for an apostrophe in TinyStories).
    "don\u0092t",
    "\u0080\u0092\u009f",
    "a\u0000b",
    "bell\u0007 and escape\u001b[0m",
    "del\u007f",
    "\u00e2\u20ac\u2122 mojibake apostrophe",
    "zero\u200bwidth\u200cjoiners\u200d",
    "\ufeffbyte order mark",
    "\U0010FFFF max code point",
    "\U0001D400\U0001D401 math bold",
]


# The same vocabulary with other normalizer flags, to cover the converter's other paths:
# (name, add_dummy_prefix, remove_extra_whitespaces). Llama's own tokenizer.model keeps
# spaces as they are, like the first.
VARIANTS = [
    ("keep_spaces", True, False),
    ("no_dummy_prefix", False, True),
]

# tok512.model's normalizer_spec ends with add_dummy_prefix=1 (field 3) and
# remove_extra_whitespaces=1 (field 4): tag and value bytes 18 01 20 01. The test makes the
# same two-byte edit, so both sides agree without a protobuf library.
FLAGS = bytes([0x18, 0x01, 0x20, 0x01])


def with_normalizer_flags(model_bytes: bytes, add_dummy_prefix: bool, remove_extra_whitespaces: bool) -> bytes:
    at = model_bytes.rfind(FLAGS)
    if at < len(model_bytes) - 64:
        raise SystemExit("normalizer flags not found near the end of the model")
    out = bytearray(model_bytes)
    out[at + 1] = int(add_dummy_prefix)
    out[at + 3] = int(remove_extra_whitespaces)
    return bytes(out)


def case_lines(cases: list) -> str:
    # One case per line keeps diffs readable when the case list changes.
    return "[\n  " + ",\n  ".join(json.dumps(c, ensure_ascii=True) for c in cases) + "\n ]"


def main() -> None:
    model_path = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_MODEL
    with open(model_path, "rb") as f:
        model_bytes = f.read()
    sp = spm.SentencePieceProcessor(model_proto=model_bytes)

    if len(set(CASES)) != len(CASES):
        raise SystemExit("duplicate fixture cases")
    cases = []
    for text in CASES:
        ids = sp.encode(text)
        cases.append({"text": text, "ids": ids, "decoded": sp.decode(ids)})

    variants = []
    for name, add_dummy_prefix, remove_extra_whitespaces in VARIANTS:
        vsp = spm.SentencePieceProcessor(
            model_proto=with_normalizer_flags(model_bytes, add_dummy_prefix, remove_extra_whitespaces)
        )
        vcases = [{"text": text, "ids": vsp.encode(text)} for text in CASES]
        head = {"name": name, "add_dummy_prefix": add_dummy_prefix, "remove_extra_whitespaces": remove_extra_whitespaces}
        variants.append(json.dumps(head)[:-1] + ', "cases": ' + case_lines(vcases) + "}")

    head = json.dumps({"model_sha256": hashlib.sha256(model_bytes).hexdigest(), "sentencepiece_version": spm.__version__})
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        f.write(head[:-1] + ',\n "cases": ' + case_lines(cases) + ',\n "variants": [\n ' + ",\n ".join(variants) + "\n ]\n}\n")
    print(f"wrote {len(cases)} cases and {len(variants)} variants to {os.path.relpath(OUT, REPO)}")


if __name__ == "__main__":
    main()
