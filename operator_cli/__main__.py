import sys

from operator_cli.cli import main

sys.exit(main())
