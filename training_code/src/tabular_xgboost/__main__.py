"""``python -m tabular_xgboost train|serve|evaluate``: the same commands as the image's."""

import sys

from tabular_xgboost.cli import main

sys.exit(main())
