"""The end-to-end world, for the contract test that holds the fake and the sandbox together."""

from tests.e2e.conftest import make_world  # noqa: F401 - a fixture, found by pytest by name
