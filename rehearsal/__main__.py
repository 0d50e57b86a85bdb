"""``python -m rehearsal``: rehearses the deploy of one Region's stage against the emulator."""

import sys

from rehearsal.driver import main

sys.exit(main())
