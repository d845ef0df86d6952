"""The one exception the testbed raises for anything a user can act on."""


class TestbedError(Exception):
    """A failure with a message meant for the person running the testbed."""

    __test__ = False  # not a pytest test class, despite the name
