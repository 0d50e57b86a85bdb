"""Imported first, makes this Python import the container code as the image does.

The image has no scikit-learn; development environments often do (the SageMaker SDK needs it), and XGBoost imports
it whenever it is installed, which costs seconds per process.
"""

import sys

sys.modules.setdefault("sklearn", None)
