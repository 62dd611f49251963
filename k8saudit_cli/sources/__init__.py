"""Open inputs (files, directories, globs, stdin) as streams of numbered lines.

Compressed inputs (gzip, bzip2, xz, zstd) are recognised by their magic
bytes, not their names, and decompressed on the fly; other binary input is
refused once per file. Nothing here holds more than one bounded line in
memory, so a 200 MB line, a 20 GB file or a decompression bomb are all fine.

* :mod:`~k8saudit_cli.sources.paths`: command-line specs to paths; which
  paths may be split across processes.
* :mod:`~k8saudit_cli.sources.byte_source`: raw bytes with the sniffed head
  put back, capped at the size seen at open.
* :mod:`~k8saudit_cli.sources.compression`: formats by magic bytes, decompressors.
* :mod:`~k8saudit_cli.sources.lines`: bounded numbered lines.
* :mod:`~k8saudit_cli.sources.inputs`: one opened input, and what went wrong.
"""

from k8saudit_cli.sources.compression import BINARY_PROBE, STREAM_ERRORS, compression_of, splittable
from k8saudit_cli.sources.inputs import Input, LineError, open_inputs
from k8saudit_cli.sources.lines import (
    DEFAULT_LINE_LIMIT,
    LINE_SLACK,
    LineReader,
    LongLine,
    line_limit,
)
from k8saudit_cli.sources.paths import STDIN, expand_inputs, is_regular_file, needs_single_process

__all__ = [
    "BINARY_PROBE",
    "DEFAULT_LINE_LIMIT",
    "LINE_SLACK",
    "STDIN",
    "STREAM_ERRORS",
    "Input",
    "LineError",
    "LineReader",
    "LongLine",
    "compression_of",
    "expand_inputs",
    "is_regular_file",
    "line_limit",
    "needs_single_process",
    "open_inputs",
    "splittable",
]
