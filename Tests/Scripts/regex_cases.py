#!/usr/bin/env python3
"""Random regexes and texts with the leftmost-first match Python's `re` finds, for comparing
Trapline's regex engine with an independent one.

Usage: regex_cases.py COUNT SEED
Prints one case per line: pattern, text, start, end (tab-separated; start and end are -1 when
nothing matches). The grammar stays inside the subset where Python's `re` (ASCII mode) and RE2
agree: no backreferences or lookarounds, no `$` before a newline, no `\B` (Python's never
matches an empty string; RE2's does).
"""
import random
import re
import sys

ALPHABET = "ab01 -_.xy"


def atom(rng, depth):
    choice = rng.randrange(12 if depth < 3 else 8)
    if choice < 3:
        return re.escape(rng.choice(ALPHABET))
    if choice == 3:
        return "."
    if choice == 4:
        return rng.choice(["[ab]", "[^a]", "[0-9x]", "[a-y]", "[-.]"])
    if choice == 5:
        return rng.choice([r"\d", r"\w", r"\s", r"\D", r"\W"])
    if choice == 6:
        return rng.choice(["^", "$", r"\b"]) if rng.random() < 0.5 else "a"
    if choice == 7:
        return rng.choice(ALPHABET.replace(" ", "")).replace(".", r"\.").replace("-", r"\-")
    inner = sequence(rng, depth + 1)
    if choice < 10:
        return "(" + inner + ")"
    if choice == 10:
        return "(?:" + inner + "|" + sequence(rng, depth + 1) + ")"
    return "(" + inner + "|" + sequence(rng, depth + 1) + ")"


def quantified(rng, depth):
    text = atom(rng, depth)
    # Groups stay unquantified: engines differ in corner cases of repeating a group that can
    # match empty (Python stops the loop, Thompson-style engines do not), and no real rule needs it.
    if text in ("^", "$", r"\b") or text.startswith("("):
        return text
    if rng.random() < 0.35:
        text += rng.choice(["*", "+", "?", "{1,2}", "{2}", "{0,3}"])
        if rng.random() < 0.3:
            text += "?"
    return text


def sequence(rng, depth):
    return "".join(quantified(rng, depth) for _ in range(rng.randrange(1, 4)))


def main():
    count, seed = int(sys.argv[1]), int(sys.argv[2])
    rng = random.Random(seed)
    for _ in range(count):
        pattern = sequence(rng, 0)
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(0, 16)))
        match = re.search(pattern, text, re.ASCII)
        start, end = (match.start(), match.end()) if match else (-1, -1)
        print(f"{pattern}\t{text}\t{start}\t{end}")


if __name__ == "__main__":
    main()
