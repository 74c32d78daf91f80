"""Counts the clicks of one Kafka batch per page; the batch comes as JSON in argv[1] (params.kafka)."""
import json
import os
import sys
from collections import Counter

batch = json.loads(sys.argv[1])
pages = Counter(str(m["value"].get("page", "?")) for m in batch["messages"] if isinstance(m["value"], dict))
result = {
    "partition": batch["partition"],
    "first_offset": batch["first_offset"],
    "last_offset": batch["last_offset"],
    "clicks": sum(pages.values()),
    "pages": dict(pages),
    "rejected": len(batch.get("rejected", [])),
}
print(f"partition {batch['partition']} offsets {batch['first_offset']}-{batch['last_offset']}: {result['clicks']} clicks")
with open(os.environ["CAPSTAN_OUTPUT"], "w", encoding="utf-8") as out:
    json.dump(result, out)
