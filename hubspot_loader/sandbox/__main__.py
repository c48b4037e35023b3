"""``python -m hubspot_loader.sandbox``: same as ``hubspot-loader sandbox``."""

import sys

from hubspot_loader.sandbox.cli import main

sys.exit(main())
