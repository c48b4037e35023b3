"""``python -m hubspot_loader.cli``: the same as the ``hubspot-loader`` command."""

import sys

from hubspot_loader.cli import main

sys.exit(main())
