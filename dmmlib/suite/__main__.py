"""``python -m dmmlib.suite``: the suite's command line (see :func:`dmmlib.suite.runner.main`)."""

import sys

from dmmlib.suite.runner import main

sys.exit(main())
