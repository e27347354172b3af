"""Small review files the review tests write: rows, CSV and JSON-lines writers."""

import json

ROWS = [
    ("Great food, great service!", "5"),
    ("The soup was cold.", "2"),
    ("Good food; slow service", "4.0"),
    ("Terrible. Never again", "1"),
]


def write_csv(path, rows, header=("review", "stars"), delimiter=","):
    import csv

    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_jsonl(path, rows, opener=open):
    with opener(path, "wt", encoding="utf-8") as f:
        for text, stars in rows:
            f.write(json.dumps({"review": text, "stars": stars}) + "\n")
    return path
