"""Wall time of the notebook suite (``make run``) per preset, read from the summaries that ``make run`` writes.

The suite itself is not run here (the teach preset takes tens of minutes): ``build/executed/<preset>/suite.json``
(per-notebook seconds, written by :mod:`dmmlib.suite`) is read when present and compared with the manifest, so a
partial run (``--only``, or one stopped by a failure) is reported as partial, not as the suite's time. The whole
suite's time includes the runs ``make run`` trained before the notebooks (:mod:`dmmlib.suite.pretrain`).
Budgets (DESIGN section 4): smoke, each notebook under a minute on 2 CPU cores; teach, the whole suite within
about 30 minutes.

    .venv/bin/python -m bench.notebook_suite
"""

from __future__ import annotations

import json
import sys
from typing import Any

from bench.common import print_entry, record
from dmmlib.suite import guide, manifest, paths

#: preset -> (what is compared with the goal, goal in seconds)
BUDGETS = {"smoke": ("slowest notebook", 60.0), "teach": ("whole suite", 1800.0)}


def run(preset: str) -> dict[str, Any]:
    what, goal = BUDGETS[preset]
    path = paths.executed_dir(preset) / "suite.json"
    meaning = f"make run PRESET={preset}: {what}, seconds"
    if not path.is_file():
        return record(None, goal, "<=", meaning=meaning, raw={"summary": str(path)},
                      note=f"not measured: run make run PRESET={preset} (writes {path})")  # fmt: skip
    summary = json.loads(path.read_text())
    timings: dict[str, float] = summary.get("notebooks", {})
    expected = [entry.file for entry in manifest.load()]
    missing = [name for name in expected if name not in timings]
    before = float((summary.get(guide.TRAINED_BEFORE) or {}).get("seconds", 0.0))
    total = float(sum(timings.values())) + before
    slowest = max(timings.items(), key=lambda item: item[1]) if timings else ("-", 0.0)
    raw = {"summary": str(path), "notebooks": timings, guide.TRAINED_BEFORE: before, "total_seconds": round(total, 1),
           "slowest": {"notebook": slowest[0], "seconds": slowest[1]}, "missing_from_run": missing,
           "created": summary.get("provenance", {}).get("created")}  # fmt: skip
    if missing:
        return record(None, goal, "<=", meaning=meaning, raw=raw,
                      note=f"partial run ({len(timings)} of {len(expected)} notebooks, missing {', '.join(missing)}; "
                           f"those ran in {total:.0f} s, slowest {slowest[0]} {slowest[1]:.0f} s): the suite is not "
                           f"measured; run make run PRESET={preset}")  # fmt: skip
    value = slowest[1] if preset == "smoke" else total
    over = [f"{name} {seconds:.0f} s" for name, seconds in timings.items() if preset == "smoke" and seconds > goal]
    note = f"whole suite {total:.0f} s ({total / 60:.1f} min), slowest {slowest[0]} {slowest[1]:.0f} s"
    if before:
        note += f"; {before:.0f} s of the whole were training before the notebooks"
    if over:
        note += f"; over a minute: {', '.join(over)}"
    return record(value, goal, "<=", meaning=meaning, raw=raw, note=note)


def main() -> int:
    for preset in BUDGETS:
        print_entry(f"notebooks_{preset}", run(preset))
    return 0


if __name__ == "__main__":
    sys.exit(main())
