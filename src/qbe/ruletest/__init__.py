"""Test cases that rule authors keep beside a ruleset, and the ``qbe test`` command's engine.

A test file (``<standard-id>.test.toml``, in a ``tests/`` folder beside the
ruleset or right beside it) holds cases: a handful of school rows, county rows
when needed, and the verdicts the author expects. Every case goes through the
same functions as ``qbe run`` (validation, frame, plan, evaluation, report
dict), so a passing case says something about what users will see.

Modules, one job each:

- :mod:`.casefile` reads a test file into cases and expectations, each with its
  line, and reports every problem in the file as a located diagnostic;
- :mod:`.discover` turns the paths given on the command line into test files
  and the ruleset each one tests;
- :mod:`.runner` evaluates the cases and compares the report with the
  expectations;
- :mod:`.coverage` counts which statuses the cases produced per declaration;
- :mod:`.update` rewrites expectations in place after a deliberate change;
- :mod:`.command` strings them together for the CLI and prints the results.
"""

from .casefile import Case, Expectation, TestFile, TestFileError, read_test_file
from .command import EXIT_TESTS_FAILED, run_tests
from .discover import discover

__all__ = [
    "EXIT_TESTS_FAILED",
    "Case",
    "Expectation",
    "TestFile",
    "TestFileError",
    "discover",
    "read_test_file",
    "run_tests",
]
