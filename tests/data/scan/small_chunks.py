"""``k8saudit`` with small parallel chunks (1 MiB, at most 4 MiB), for tests of big files."""

import sys

from k8saudit_cli import parallel_run
from k8saudit_cli.cli import main

parallel_run.MIN_CHUNK = 1 << 20
parallel_run.MAX_CHUNK = 4 << 20
sys.argv[0] = "k8saudit"
main()
