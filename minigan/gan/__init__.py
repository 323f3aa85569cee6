"""The GAN library: losses, regularisers, tricks, models and the trainer.

``from minigan.gan import get_loss, build_models, Trainer, TrainConfig`` gives everything the
``minigan`` command uses; each module's docstring explains its part of the game.
"""
from minigan.gan.losses import LOSSES, GANLoss, get_loss
from minigan.gan.models import MODELS, build_models
from minigan.gan.regularisers import gradient_penalty, r1_penalty
from minigan.gan.trainer import NonFiniteLossError, TrainConfig, Trainer
from minigan.gan.tricks import EMA, InstanceNoise, real_targets
