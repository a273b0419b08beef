"""The one exception tree of harness.

Only `harness.cli` catches these and turns them into a one-line message and an
exit code; everything else raises. Messages name the file, the field, what was
wrong and what to do.
"""

from __future__ import annotations


class HarnessError(Exception):
    """Base of every error harness raises on purpose."""

    exit_code = 2

    def __str__(self) -> str:
        # one line whatever it quotes: a YAML key or value may itself hold a newline
        return super().__str__().replace("\r", "\\r").replace("\n", "\\n")


class ConfigError(HarnessError):
    """A CLI flag, an environment variable or a settings value is wrong."""


class ScenarioError(HarnessError):
    """A scenario file is missing, unparsable or invalid."""


class ProfileError(HarnessError):
    """A stack profile (stacks/<arch>/profile.yaml) is missing or invalid."""


class EnvironmentProblem(HarnessError):
    """A system part is missing or the machine cannot run the stack (e.g. a busy port)."""


class StackError(HarnessError):
    """A component did not start, did not become ready, or died."""

    def __init__(self, message: str, *, log_tail: str = "") -> None:
        super().__init__(message)
        #: the last lines of the component's log, shown below the one-line message
        self.log_tail = log_tail


class FaultError(HarnessError):
    """A fault could not be applied or reverted."""


class LoadError(HarnessError):
    """The load generator could not run (bad target, locustfile that does not import, ...)."""


class ResultsError(HarnessError):
    """The results folder cannot be written: a full disk, or the folder was removed.

    Exit 2, an environment problem, not 3: nothing is in doubt about the architectures
    or the generator, the figures could not be kept. The run stops at the first such
    failure, tears its stacks down and leaves what it had written readable.
    """


class InvalidRun(HarnessError):
    """The run cannot be judged: the generator could not keep its schedule."""

    exit_code = 3
