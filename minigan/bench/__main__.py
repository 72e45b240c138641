import sys

from minigan.bench.command import main

sys.exit(main())
