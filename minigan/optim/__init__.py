"""Optimisers with PyTorch's update rules, names and parameter groups (SGD, Adam, AdamW, RMSprop), and
learning-rate schedules in ``minigan.optim.lr_scheduler``, laid out as torch.optim is."""
from minigan.optim import lr_scheduler
from minigan.optim.adam import Adam, AdamW
from minigan.optim.optimizer import Optimizer
from minigan.optim.rmsprop import RMSprop
from minigan.optim.sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "lr_scheduler"]
