"""Files: what every other part of dmmlib needs to write and open files safely; it imports nothing else of dmmlib.

| module | holds |
|---|---|
| :mod:`~dmmlib.files.atomic` | atomic writes: a reader sees the old file or the new one, never half of one |
| :mod:`~dmmlib.files.filecheck` | files that are not what their name says (an HTML page, an empty or truncated file), ``open_zip`` |
| :mod:`~dmmlib.files.lock` | exclusive locks between processes: one makes a dataset or trains a run, the others wait |

Both the dataset readers (:mod:`dmmlib.data`) and the landmark cache (:mod:`dmmlib.landmarks`) use them, so they sit
below both: neither subpackage imports the other for them.
"""
