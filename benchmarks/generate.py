"""Synthetic corpora for the benchmarks: N plans shaped like the real one.

TEST DATA, INVENTED, NEVER PUBLISHED. ``generate(data_dir, out_dir, factor)``
writes ``out_dir/plans/`` with ``factor`` plan files and copies
``reference/*.yml`` and ``suivi/*`` from ``data_dir``:

* the first plan is the real ``plan-action-2020-2021.txt``, byte for byte (the
  reference and progress files quote it verbatim);
* plan ``k`` (k = 1 .. factor-1) covers ``2020+k``-``2021+k`` and is the real
  plan's text, line for line, with the title's period changed and about a
  third of its lower-case words swapped for other words of the plan, chosen by
  a generator seeded with the period (same input, same output).

The first token of every line and every line with no lower-case letter
(headings) are kept, and words are only swapped for lower-case words, so each
line keeps its kind for the parser: every synthetic plan has the same number
of lines, objectives, actions, activities and passages as the real one, and
``ciso check`` accepts the whole corpus.

Usage: python benchmarks/generate.py --factor 10 --out /tmp/data-x10
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = Path("plans") / "plan-action-2020-2021.txt"
FIRST_YEAR = 2020
SWAP_RATE = 0.3  # share of lower-case words replaced in a synthetic plan

TITLE_RE = re.compile(r"^(\s*PLAN D['’]ACTION\s+)\d{4}\s*-\s*\d{4}(\s*)$")
WORD_RE = re.compile(r"[^\W\d_]+")  # letters only (accents included)


def is_swappable(word: str) -> bool:
    """Lower-case words of four letters or more; never numbers, names or capitals."""
    return len(word) >= 4 and word.islower()


def vocabulary(text: str) -> list[str]:
    """The plan's own lower-case words, sorted so the choice is reproducible."""
    return sorted({w for w in WORD_RE.findall(text) if is_swappable(w)})


def plan_name(start_year: int) -> str:
    return f"plan-action-{start_year}-{start_year + 1}.txt"


def vary_line(line: str, rng: random.Random, words: list[str]) -> str:
    """Swap some lower-case words of ``line``, keeping its first token and its kind."""
    if not any(c.islower() for c in line):
        return line  # blank lines and headings (PRIORITÉ TRANSVERSALE, MOYENS ET ACTIONS…)
    indent = len(line) - len(line.lstrip())
    first_end = indent + len(line[indent:].split(maxsplit=1)[0])
    head, rest = line[:first_end], line[first_end:]

    def swap(match: re.Match) -> str:
        word = match[0]
        if is_swappable(word) and rng.random() < SWAP_RATE:
            return rng.choice(words)
        return word

    return head + WORD_RE.sub(swap, rest)


def synthetic_plan(template: str, start_year: int, seed: int = 0) -> str:
    """The template plan for another period, with its text varied deterministically."""
    rng = random.Random(f"ciso-bench:{seed}:{start_year}")
    words = vocabulary(template)
    lines = template.split("\n")
    out, titled = [], False
    for line in lines:
        match = TITLE_RE.match(line)
        if match and not titled:
            out.append(f"{match[1]}{start_year}-{start_year + 1}{match[2]}")
            titled = True
        else:
            out.append(vary_line(line, rng, words))
    if not titled:
        raise ValueError("the template has no « PLAN D'ACTION AAAA-AAAA » title line")
    return "\n".join(out)


def generate(data_dir: Path, out_dir: Path, factor: int, seed: int = 0) -> list[Path]:
    """Write a data directory with ``factor`` plans; return the plan files written."""
    data_dir, out_dir = Path(data_dir), Path(out_dir)
    if factor < 1:
        raise ValueError(f"factor must be at least 1, got {factor}")
    last_year = FIRST_YEAR + factor - 1
    if last_year > 9998:
        raise ValueError(f"factor {factor} needs years past 9999; the parser reads four-digit years")
    plans = out_dir / "plans"
    if plans.exists() and any(plans.iterdir()):
        raise FileExistsError(f"{plans} is not empty: choose a new output directory")
    plans.mkdir(parents=True, exist_ok=True)

    template_path = data_dir / TEMPLATE
    raw = template_path.read_bytes()
    template = raw.decode("utf-8")
    written = [plans / plan_name(FIRST_YEAR)]
    written[0].write_bytes(raw)  # the real plan, unchanged: reference files quote it
    for k in range(1, factor):
        path = plans / plan_name(FIRST_YEAR + k)
        path.write_text(synthetic_plan(template, FIRST_YEAR + k, seed), encoding="utf-8", newline="")
        written.append(path)

    for sub, pattern in (("reference", "*.yml"), ("suivi", "*")):
        target = out_dir / sub
        target.mkdir(parents=True, exist_ok=True)
        for source in sorted((data_dir / sub).glob(pattern)):
            if source.is_file():
                shutil.copyfile(source, target / source.name)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT / "data", help="real data directory (default: data/)")
    parser.add_argument("--factor", type=int, required=True, help="number of plans to write")
    parser.add_argument("--out", type=Path, required=True, help="new data directory to write")
    parser.add_argument("--seed", type=int, default=0, help="seed of the text variations (default: 0)")
    args = parser.parse_args(argv)
    written = generate(args.data, args.out, args.factor, args.seed)
    print(f"{args.out}: {len(written)} plan(s) written (synthetic test data, never publish)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
