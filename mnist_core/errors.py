"""Errors a user can act on.

Every failure a person can cause (a missing data file, a bad argument, an unreachable store)
is raised as a subclass of :class:`MnistError` with a short message. The CLI and the app
show that message and nothing else; anything else is a bug and keeps its traceback.
"""


class MnistError(Exception):
    """Base class for errors whose message is meant for the user."""


class DataError(MnistError):
    """The MNIST data could not be found, read or validated."""


class ConfigError(MnistError):
    """A preset, an override or a setting is invalid."""


class ModelError(MnistError):
    """A saved model could not be loaded."""


class StoreError(MnistError):
    """The artifact store could not be reached, or a run or file in it is missing or damaged."""


class ImageError(MnistError):
    """An image could not be read: empty, corrupt, too large or not an image at all."""


class NoDigitError(ImageError):
    """An image was read but holds no digit: blank, or nothing stands out from the background."""


class StoreUnavailableError(StoreError):
    """The store's server could not be reached, refused the credentials, or failed a request."""
