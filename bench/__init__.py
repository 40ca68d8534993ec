"""Benchmarks that print ratios measured side by side in one run (``make bench`` = ``python -m bench``).

Imports ``dmmlib`` first so that torch starts with the allocator setting every dmmlib user gets (huge pages for
large CPU allocations, see :mod:`dmmlib`); both sides of every ratio run under it.
"""

import dmmlib  # noqa: F401
