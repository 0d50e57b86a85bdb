"""The one kind of error ``mlp`` reports to its user."""


class OperatorError(Exception):
    """A problem the operator can fix; printed as one line, exit status 1."""
