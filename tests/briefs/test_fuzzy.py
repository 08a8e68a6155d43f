"""Did-you-mean over many labels: the trigram shortlist finds what difflib over all would."""

from __future__ import annotations

import difflib
import itertools
import random

from bot.briefs.fuzzy import DIRECT_LIMIT, Fuzzy

FIRST = ["ishaq", "marco", "tammy", "shehbaz", "asim", "donald", "antony", "hina", "bilawal"]
FIRST += ["jake", "kristi", "pete", "tulsi", "susie", "mike", "hakan", "wang", "sergey"]
LAST = ["dar", "rubio", "bruce", "sharif", "munir", "trump", "blinken", "khar", "bhutto"]
LAST += ["sullivan", "noem", "hegseth", "gabbard", "wiles", "waltz", "fidan", "yi", "lavrov"]
LAST += [f"{a}{b}" for a, b in itertools.product(["al", "ben", "von", "mac"], LAST)]


def labels() -> list[str]:
    """A few thousand realistic person names, surnames alone among them."""
    names = {f"{f} {last}" for f, last in itertools.product(FIRST, LAST)}
    return sorted(names | set(LAST))


def typo(text: str, rng: random.Random) -> str:
    i = rng.randrange(len(text))
    kind = rng.randrange(3)
    if kind == 0:  # a letter doubled ("darr")
        return text[: i + 1] + text[i] + text[i + 1 :]
    if kind == 1 and len(text) > 3:  # a letter missing
        return text[:i] + text[i + 1 :]
    j = min(i + 1, len(text) - 1)  # two letters swapped
    return text[:i] + text[j] + text[i] + text[j + 1 :] if j > i else text + "e"


def test_many_labels_go_through_the_shortlist() -> None:
    assert len(labels()) > DIRECT_LIMIT  # else this file tests plain difflib only


def test_a_misspelt_name_is_found_among_thousands() -> None:
    fuzzy = Fuzzy(labels())
    assert fuzzy.close("darr", 5)[0] == "dar"
    assert fuzzy.close("ishaq darr", 5)[0] == "ishaq dar"
    assert fuzzy.close("marko rubio", 5)[0] == "marco rubio"
    assert fuzzy.close("tamy bruce", 5)[0] == "tammy bruce"
    # Short words with letters swapped share no three-letter piece with the name.
    assert fuzzy.close("neom", 5)[0] == "noem"
    assert "dar" in fuzzy.close("adr", 5)


def test_shortlist_agrees_with_difflib_over_every_label() -> None:
    everything = labels()
    fuzzy = Fuzzy(everything)
    rng = random.Random(7)
    for _ in range(300):
        key = typo(rng.choice(everything), rng)
        full = difflib.get_close_matches(key, everything, n=5, cutoff=0.6)
        quick = fuzzy.close(key, 5)
        assert bool(full) == bool(quick), key
        if full:
            # The best guess is the same one, or one exactly as close.
            best = difflib.SequenceMatcher(None, key, full[0]).ratio()
            assert difflib.SequenceMatcher(None, key, quick[0]).ratio() == best, (key, full, quick)


def test_nothing_alike_gives_no_guess() -> None:
    assert Fuzzy(labels()).close("zzzzqqqq", 5) == []
    assert Fuzzy(["dar", "rubio"]).close("zzzzqqqq", 5) == []


def test_few_labels_are_all_compared() -> None:
    few = ["ishaq dar", "dar", "marco rubio", "rubio"]
    assert Fuzzy(few).close("rubioo", 5) == difflib.get_close_matches("rubioo", few, 5, 0.6)
