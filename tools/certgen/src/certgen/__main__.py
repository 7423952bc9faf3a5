import sys

from certgen.cli import main

sys.exit(main())
