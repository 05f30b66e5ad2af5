#!/usr/bin/env python3
"""A plain Python reader of log exports, the yardstick of `scripts/bench-ingest-python.sh`: every
file under the given paths (folders walked, `.gz` through `gzip`, `.zip` members through
`zipfile`) is read and each record parsed with the standard library — `json.loads` per line for
JSON lines, per document for arrays, Graph pages and `{"records":[…]}` blobs, `csv.DictReader` for
CSV with `json.loads` of Purview's `AuditData` cell. Prints files, records and bytes read.

Usage: read-exports.py PATH...
"""
import csv
import gzip
import io
import json
import os
import sys
import zipfile

csv.field_size_limit(1 << 30)


def documents(text):
    dec = json.JSONDecoder()
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in " \t\r\n":
            i += 1
        if i >= n:
            return
        doc, i = dec.raw_decode(text, i)
        yield doc


def json_records(text):
    first = text.split("\n", 1)[0].strip()
    if first.startswith("{") and first.endswith("}"):
        try:
            doc = json.loads(first)
        except ValueError:
            doc = None
        if isinstance(doc, dict) and "value" not in doc and "records" not in doc:
            return sum(1 for line in text.splitlines() if line.strip() and json.loads(line) is not None)
    n = 0
    for doc in documents(text):
        if isinstance(doc, list):
            n += len(doc)
        elif isinstance(doc, dict) and isinstance(doc.get("value"), list):
            n += len(doc["value"])
        elif isinstance(doc, dict) and isinstance(doc.get("records"), list):
            n += len(doc["records"])
        else:
            n += 1
    return n


def csv_records(text):
    n = 0
    for row in csv.DictReader(io.StringIO(text, newline="")):
        if row.get("AuditData"):
            json.loads(row["AuditData"])
        n += 1
    return n


def records(data):
    text = data.decode("utf-8-sig")
    head = text.lstrip()[:1]
    if head in ("{", "["):
        return json_records(text)
    return csv_records(text) if head else 0


def main():
    files = recs = size = 0
    for top in sys.argv[1:]:
        paths = [top] if os.path.isfile(top) else sorted(
            os.path.join(r, f) for r, _, fs in os.walk(top) for f in fs
        )
        for path in paths:
            size += os.path.getsize(path)
            if path.endswith(".zip"):
                with zipfile.ZipFile(path) as z:
                    for m in z.namelist():
                        files += 1
                        recs += records(z.read(m))
                continue
            opener = gzip.open if path.endswith(".gz") else open
            with opener(path, "rb") as fh:
                files += 1
                recs += records(fh.read())
    print(f"python: {files} files, {recs} records, {size} bytes")


if __name__ == "__main__":
    main()
