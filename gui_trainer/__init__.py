"""gui_trainer: click through the real PyTorch training loop one stage at a time."""

__version__ = "0.1.0"
