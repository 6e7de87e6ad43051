"""Numbers as people write them: words to digits (text2num), fractions, multipliers, percentages.

``digits(text)`` rewrites normalised text so the rest of the parser sees digits: 'twenty thousand' -> '20000',
'two and a half hours' -> '2.5 hours', 'a third busier' -> '0.333 busier', 'the four oh five' -> 'the 405',
'nine thirty pm' -> '9:30 pm'. Ordinals stay ordinals ('third', '3rd'), so 'a third' is a fraction and
'the 3rd of May' a date. ``Size`` readers live in :mod:`explorer.voice.parser`.
"""

from __future__ import annotations

import re

from text_to_num import alpha2digit

FRACTIONS = {"half": 0.5, "halves": 0.5, "third": 1 / 3, "thirds": 1 / 3, "3rd": 1 / 3, "3rds": 1 / 3,
             "quarter": 0.25, "quarters": 0.25, "fifth": 0.2, "fifths": 0.2, "5th": 0.2, "5ths": 0.2,
             "tenth": 0.1, "tenths": 0.1, "10th": 0.1, "10ths": 0.1}
FRACTION_WORD = r"(?:half|halves|thirds?|3rds?|quarters?|fifths?|5ths?|tenths?|10ths?)"
MULTIPLIERS = {"twice": 2.0, "double": 2.0, "doubles": 2.0, "doubled": 2.0, "doubling": 2.0, "triple": 3.0,
               "triples": 3.0, "tripled": 3.0, "tripling": 3.0, "treble": 3.0, "trebled": 3.0,
               "quadruple": 4.0, "quadrupled": 4.0, "quadruples": 4.0}


def _fmt(x: float) -> str:
    return f"{x:.4f}".rstrip("0").rstrip(".")


def digits(t: str) -> str:
    """Normalised text with number words, fractions and spoken road numbers as digits."""
    t = re.sub(r"\b(no one|noone|nobody)\b", "nobody", t)
    t = re.sub(r"\b(some|any|every) ?one\b", r"\1body", t)
    t = re.sub(r"\b(a|one) dozen\b", "12", t)
    try:
        t = alpha2digit(t, "en", threshold=0)
    except Exception:  # noqa: BLE001 - text2num never should, but a parser must not raise
        pass
    t = re.sub(r"\b(\d+(?:\.\d+)?)\s*(?:k|grand)\b", lambda m: _fmt(float(m.group(1)) * 1e3), t)
    t = re.sub(r"\b(\d+(?:\.\d+)?)\s*(?:m|mil|million)\b", lambda m: _fmt(float(m.group(1)) * 1e6), t)
    t = re.sub(r"\b(\d) oh (\d)\b", r"\g<1>0\2", t)  # 'the 4 oh 5' -> 'the 405'
    t = re.sub(r"\b(?:a )?couple(?: of)? (\d+)\b", lambda m: str(2 * int(m.group(1))), t)
    t = re.sub(r"\b(\d+) (100|1000)\b", lambda m: str(int(m.group(1)) * int(m.group(2))), t)  # '15 100'
    t = re.sub(r"\ban? (\d{3,})\b", r"\1", t)
    t = re.sub(r"\b(\d{1,2}) ([0-5]\d)\b(?= ?(?:am|pm|a m|p m|in the|at night|tonight|oclock))", r"\1:\2", t)
    # clock words before fractions: 'quarter to 9' -> 8:45, 'half past 5' -> 5:30, '10 past 8' -> 8:10
    t = re.sub(r"\b(?:a )?quarter to (\d{1,2})\b", lambda m: f"{(int(m.group(1)) - 1) % 24}:45", t)
    t = re.sub(r"\b(?:a )?quarter past (\d{1,2})\b", r"\1:15", t)
    t = re.sub(r"\bhalf past (\d{1,2})\b", r"\1:30", t)
    t = re.sub(r"\b([1-5]?\d) (past|to) (\d{1,2})\b(?! ?(?:%|percent|per cent))",
               lambda m: f"{m.group(3)}:{int(m.group(1)):02d}" if m.group(2) == "past"
               else f"{(int(m.group(3)) - 1) % 24}:{60 - int(m.group(1)):02d}", t)
    # fractions: '2 and a half' -> 2.5, 'an hour and a half' -> 1.5 hours, 'a third' -> 0.333, '3 quarters' -> 0.75
    t = re.sub(r"\b(\d+) and (?:a|1) half\b", lambda m: _fmt(int(m.group(1)) + 0.5), t)
    t = re.sub(r"\b(?:an|1) (hour|hr)s? and (?:a|1) half\b", r"1.5 \1s", t)
    t = re.sub(r"\b(\d+)[ -](thirds|3rds|quarters|fifths|5ths|tenths|10ths)\b",
               lambda m: _fmt(int(m.group(1)) * FRACTIONS[m.group(2)]), t)
    t = re.sub(r"\b(?:a|one|1) (third|3rd|quarter|fifth|5th|tenth|10th)\b(?! of (?:the )?(?:jan|feb|mar|apr|may|jun|"
               r"jul|aug|sep|oct|nov|dec))", lambda m: _fmt(FRACTIONS[m.group(1)]), t)
    t = re.sub(r"\b(\d+)/(\d+)\b(?!/)", lambda m: _fmt(int(m.group(1)) / int(m.group(2)))
               if 0 < int(m.group(1)) < int(m.group(2)) <= 10 else m.group(0), t)
    return t


def number(s: str) -> float:
    """A number written with digits (after :func:`digits`): '20000', '2.5', '1,500'."""
    return float(s.replace(",", ""))
