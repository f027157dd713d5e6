"""What a model will produce, computed from the model alone: the analytic side of doge-connect
(`doge analyze`, `doge graph`). Expected values of the same chain the engine samples, no draws."""

from connector.analysis.report import Analyser, Analysis, AnalysisSettings, solve_users

__all__ = ["Analyser", "Analysis", "AnalysisSettings", "solve_users"]
