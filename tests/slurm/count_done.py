"""count_done.py: how many "done" records an ablate results journal holds (0 if it has none yet)."""
import json
import sys

count = 0
try:
    with open(sys.argv[1], encoding="utf-8") as journal:
        for line in journal:
            try:
                count += json.loads(line.split(" ", 1)[1]).get("t") == "done"
            except (IndexError, ValueError):
                pass  # a line being written right now
except FileNotFoundError:
    pass
print(count)
