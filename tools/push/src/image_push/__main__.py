import sys

from image_push.cli import main

sys.exit(main())
