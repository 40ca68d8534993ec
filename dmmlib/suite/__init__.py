"""Running the notebooks: presets, sessions, shared artefacts, papermill runs, the training CLI, the book.

Sits on the method and on :mod:`dmmlib.lab`; nothing outside ``suite`` imports it. One entry point per job:

| job | command |
|---|---|
| run the notebooks headless | ``python -m dmmlib.suite run --preset auto`` (``make run``) |
| train Table 1/2 runs, also under torchrun | ``python -m dmmlib.suite.train_cli`` (``make paper NPROC=N``) |
| build the Jupyter Book | ``python -m dmmlib.suite book --preset auto`` (``make book``) |
| run a batch sweep, collect it | ``python -m dmmlib.suite sweep SPEC``, ``... collect NAME`` (``make sweep``) |
| write student copies | ``python -m dmmlib.suite.exercises`` (``make student``) |

| module | holds |
|---|---|
| :mod:`~dmmlib.suite.presets` | smoke, teach and paper in one table; how ``auto`` resolves |
| :mod:`~dmmlib.suite.session` | what every notebook does after its parameters cell |
| :mod:`~dmmlib.suite.pipeline` | the artefacts notebooks share: datasets, trained runs, evaluations |
| :mod:`~dmmlib.suite.runner` | papermill over the manifest |
| :mod:`~dmmlib.suite.sweep`, :mod:`~dmmlib.suite.stats` | batch sweeps; their results, intervals and verdicts |
| :mod:`~dmmlib.suite.manifest`, :mod:`~dmmlib.suite.paths` | notebook order; where things live |
| :mod:`~dmmlib.suite.provenance`, :mod:`~dmmlib.suite.environment` | what produced a result; set-up checks |
| :mod:`~dmmlib.suite.book` | the Jupyter Book, its replication report and the browser check of the site |
"""
