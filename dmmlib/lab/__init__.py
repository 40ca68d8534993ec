"""What the notebooks call to teach: figures, widgets, exercise checks, toy examples, the paper's reported numbers.

Built on the method (``dmmlib.*``); the method never imports it.

| module | holds |
|---|---|
| :mod:`~dmmlib.lab.plots` | the figures of the notebooks (Figs. 3-7 and the explanatory ones) |
| :mod:`~dmmlib.lab.widgets` | ipywidgets explorers (thresholds, SPP, photo upload) |
| :mod:`~dmmlib.lab.checks` | the exercise checkers |
| :mod:`~dmmlib.lab.toy` | small worked examples of Eqs. 4-6 |
| :mod:`~dmmlib.lab.history` | reading Algorithm 1 histories into tables |
| :mod:`~dmmlib.lab.gallery` | image galleries of the datasets |
| :mod:`~dmmlib.lab.model_summary` | parameter counts and shapes of the variants |
| :mod:`~dmmlib.lab.landmark_timing` | the small landmark-path timing a notebook runs in seconds |
| :mod:`~dmmlib.lab.seed_study` | means with 95% intervals over seeds, paired differences (notebook 11) |
| :mod:`~dmmlib.lab.paper` | the numbers the paper reports (Tables 1-3, per attribute), from ``dmmlib/resources`` |
"""
