"""dmmlib: the DMM-CNN paper (Mao et al.) as a small library; see the README and the notebooks.

Importing it before torch turns on transparent huge pages for torch's large CPU allocations
(``THP_MEM_ALLOC_ENABLE=1``, read once by torch when it starts; an explicit setting is kept). Each training step
allocates fresh gradient buffers, 235 MB for DMM-CNN's subjective FC layer alone, and on 4 KB pages their page
faults dominated: the weight-gradient product of that layer took 0.18 s with a fresh output and 0.067 s with huge
pages (0.044 s into a preallocated one; one thread, measured side by side). ``make`` exports the same setting, so
notebook kernels and DataLoader workers inherit it.
"""

import os as _os
import sys as _sys

if "torch" not in _sys.modules:
    _os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")
