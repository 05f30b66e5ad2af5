#!/usr/bin/env python3
"""Rewrites a `tenantwatch simulate` log folder the way collection tools leave a real case: many
small files rather than one per export.

- Graph `auditLogs/signIns` and `directoryAudits` exports become one file per page of PAGE records
  in the export's folder (`<name>_0001.json`, each `{"@odata.context":…,"@odata.nextLink":…,
  "value":[…]}`, the last page without a next link), as a collector that saves every response does.
- Azure Monitor diagnostic exports (`insights-logs-*.json`) become hourly blobs in the layout of
  the storage account diagnostic settings write to,
  `<name>/resourceId=/tenants/<id>/providers/Microsoft.aadiam/y=YYYY/m=MM/d=DD/h=HH/m=00/PT1H.json`
  (the record's own `resourceId`): records of one hour per blob, as JSON lines or
  `{"records":[…]}` blobs as the export had them.
- Everything else (Management Activity API JSON, Search-UnifiedAuditLog arrays, Purview and Log
  Analytics CSV, Event Hub captures, zips) is copied as it is.

A `.gz` input gives `.gz` outputs. Records are written back with Python's `json` (compact), so
their content is unchanged; the order of records within an export is kept.

Usage: split-exports.py SRC DST [PAGE]
"""
import gzip
import json
import os
import shutil
import sys


def documents(text):
    """Every JSON document of a text (several Graph pages or records blobs per file)."""
    dec = json.JSONDecoder()
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in " \t\r\n\ufeff":
            i += 1
        if i >= n:
            return
        doc, i = dec.raw_decode(text, i)
        yield doc


def opener(path):
    return gzip.open if path.endswith(".gz") else open


def dump(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with opener(path)(path, "wt", encoding="utf-8", newline="") as fh:
        fh.write(text)


def split_graph(src, dst_dir, stem, gz, page):
    with opener(src)(src, "rt", encoding="utf-8-sig") as fh:
        pages = list(documents(fh.read()))
    context = pages[0].get("@odata.context", "")
    records = [r for p in pages for r in p.get("value", [])]
    chunks = [records[i : i + page] for i in range(0, len(records), page)] or [[]]
    for k, chunk in enumerate(chunks):
        doc = {"@odata.context": context}
        if k + 1 < len(chunks):
            base = context.split("$metadata#")[0] + context.split("#")[-1]
            doc["@odata.nextLink"] = f"{base}?$top={page}&$skiptoken={k + 1:08x}"
        doc["value"] = chunk
        write(os.path.join(dst_dir, f"{stem}_{k + 1:04d}.json" + gz), dump(doc) + "\n")
    return len(chunks)


def split_azure_monitor(src, dst_dir, gz):
    with opener(src)(src, "rt", encoding="utf-8-sig") as fh:
        docs = list(documents(fh.read()))
    blobs = any("records" in d for d in docs)
    hours = {}
    for d in docs:
        for r in d.get("records", [d]):
            key = (r.get("resourceId", "").strip("/"), r["time"][:13])
            hours.setdefault(key, []).append(r)
    for (resource, hour), recs in hours.items():
        y, m, rest = hour.split("-")
        day, h = rest.split("T")
        path = os.path.join(
            dst_dir, "resourceId=", resource, f"y={y}", f"m={m}", f"d={day}", f"h={h}", "m=00"
        )
        if blobs:
            text = dump({"records": recs}) + "\n"
        else:
            text = "".join(dump(r) + "\n" for r in recs)
        write(os.path.join(path, "PT1H.json" + gz), text)
    return len(hours)


def main():
    src, dst = sys.argv[1], sys.argv[2]
    page = int(sys.argv[3]) if len(sys.argv) > 3 else 300
    made = 0
    for root, _, files in os.walk(src):
        for name in sorted(files):
            path = os.path.join(root, name)
            out_dir = os.path.join(dst, os.path.relpath(root, src))
            gz = ".gz" if name.endswith(".gz") else ""
            stem = name[: -len(".json" + gz)] if name.endswith(".json" + gz) else None
            if stem and (stem.startswith("signIns") or stem == "directoryAudits"):
                made += split_graph(path, out_dir, stem, gz, page)
            elif stem and stem.startswith("insights-logs-"):
                made += split_azure_monitor(path, os.path.join(out_dir, stem), gz)
            else:
                os.makedirs(out_dir, exist_ok=True)
                shutil.copyfile(path, os.path.join(out_dir, name))
                made += 1
    print(f"{made} files in {dst}")


if __name__ == "__main__":
    main()
