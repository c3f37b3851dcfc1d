"""The simulator's core: real PyTorch training, one stage at a time. No Qt here."""

from gui_trainer.core.history import History
from gui_trainer.core.records import ParamValues, StageRecord
from gui_trainer.core.session import StageOrderError, TrainingSession
from gui_trainer.core.session_file import SessionFileError
from gui_trainer.core.stages import LABELS, STAGES, Stage
from gui_trainer.core.validation import parse_learning_rate

__all__ = [
    "LABELS",
    "STAGES",
    "History",
    "ParamValues",
    "SessionFileError",
    "Stage",
    "StageOrderError",
    "StageRecord",
    "TrainingSession",
    "parse_learning_rate",
]
