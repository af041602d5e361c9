"""``python -m framesig.drconfig validate|runbook|init ...``."""

from framesig.drconfig.cli import main

raise SystemExit(main())
