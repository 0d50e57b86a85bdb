"""The one exception type for problems the person running the container can fix."""


class UserError(Exception):
    """Bad input or configuration: the message says what was wrong and what is allowed.

    A training job that fails with it reports the message as its FailureReason; the serving
    process prints it and exits before it starts listening.
    """
