"""The validation tests share one real local stack (the fixtures of tests/stack)."""

from tests.stack.conftest import admin, stack, stack_config, traffic

__all__ = ["admin", "stack", "stack_config", "traffic"]
