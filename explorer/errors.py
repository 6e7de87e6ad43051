"""The error types a user can meet. Each message says what is wrong, where, and how to fix it."""

from __future__ import annotations


class ExplorerError(Exception):
    """Base class for errors caused by input, not by a bug: shown to users without a traceback."""

    def __init__(self, problem: str, *, where: str | None = None, fix: str | None = None) -> None:
        self.problem = problem
        self.where = where
        self.fix = fix
        super().__init__(self.message)

    @property
    def message(self) -> str:
        parts = [self.problem.rstrip(".") + "."]
        if self.where:
            parts.insert(0, f"{self.where}:")
        if self.fix:
            parts.append(f"How to fix: {self.fix.rstrip('.')}.")
        return " ".join(parts)


class CityDataError(ExplorerError):
    """A city folder, layer, series or manifest is invalid."""


class CheckpointError(ExplorerError):
    """A model checkpoint is missing, corrupted, altered or made for other data."""
