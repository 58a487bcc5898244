"""The one exception type a user is meant to read.

A :class:`FunmlError` carries one sentence that names the problem and says what to do.
The command line prints it and exits non-zero, without a traceback.
"""


class FunmlError(Exception):
    """A problem with the user's input, files or environment, explained in one sentence."""


class DataError(FunmlError, ValueError):
    """A data file is missing, corrupt or of the wrong form."""


class DownloadError(FunmlError):
    """A download failed on every mirror, or what arrived does not match its known hash."""
