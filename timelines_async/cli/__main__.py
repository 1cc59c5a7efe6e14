"""`python -m timelines_async.cli`, the same as the `timelines-async` script."""

import sys

from . import main

sys.exit(main())
