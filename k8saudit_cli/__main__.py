"""Allow ``python -m k8saudit_cli``."""

from k8saudit_cli.cli import main

main()
