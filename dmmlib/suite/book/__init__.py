"""The suite's publication corner: the Jupyter Book, its replication report and the browser check of the site.

| module | holds |
|---|---|
| :mod:`~dmmlib.suite.book.build` | staging the executed notebooks and building the book (Jupyter Book 1.x) |
| :mod:`~dmmlib.suite.book.report` | the replication report page, generated from one run's results |
| :mod:`~dmmlib.suite.book.browser` | serving the built site and checking it in headless chromium |

Entry point: ``python -m dmmlib.suite book --preset auto`` (``make book``).
"""
