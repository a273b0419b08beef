"""harness: load-and-failure rehearsal for EC2-era and container-era stacks."""

__version__ = "0.1.0"
