"""The differentiable ops, one module per family: ``import minigan.functional as F``."""
from minigan.functional.activation import (
    celu, elu, gelu, glu, hardtanh, leaky_relu, log_softmax, logsigmoid, mish, prelu, relu, selu, sigmoid, silu,
    softmax, softmin, softplus, softsign, tanh, tanhshrink,
)
from minigan.functional.adaptive_pooling import (
    adaptive_max_pool1d, adaptive_max_pool1d_with_indices, adaptive_max_pool2d, adaptive_max_pool2d_with_indices,
    adaptive_max_pool3d, adaptive_max_pool3d_with_indices,
)
from minigan.functional.arithmetic import (
    abs, add, astype, clip, div, exp, log, maximum, mul, neg, pow, sqrt, sub, to_device, where,
)
from minigan.functional.attention import scaled_dot_product_attention
from minigan.functional.conv import conv2d, conv_transpose2d
from minigan.functional.conv1d import conv1d, conv_transpose1d
from minigan.functional.conv3d import conv3d, conv_transpose3d
from minigan.functional.distance import cosine_similarity, normalize, pairwise_distance, pdist
from minigan.functional.embedding_bag import embedding_bag
from minigan.functional.dropout import (
    alpha_dropout, dropout, dropout1d, dropout2d, dropout3d, feature_alpha_dropout,
)
from minigan.functional.fold import fold, unfold
from minigan.functional.fractional_pooling import fractional_max_pool2d
from minigan.functional.grid_sample import affine_grid, grid_sample
from minigan.functional.interpolation import (
    adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d, interpolate, upsample, upsample_bilinear,
    upsample_nearest,
)
from minigan.functional.linear import bilinear, embedding, linear, matmul, one_hot
from minigan.functional.loss import (
    binary_cross_entropy, binary_cross_entropy_with_logits, cosine_embedding_loss, cross_entropy, gaussian_nll_loss,
    hinge_embedding_loss, huber_loss, kl_div, l1_loss, margin_ranking_loss, mse_loss, multi_margin_loss,
    multilabel_margin_loss, multilabel_soft_margin_loss, nll_loss, poisson_nll_loss, smooth_l1_loss, soft_margin_loss,
    triplet_margin_loss,
)
from minigan.functional.normalization import (
    batch_norm, group_norm, instance_norm, layer_norm, local_response_norm, rms_norm,
)
from minigan.functional.padding import pad
from minigan.functional.piecewise import (
    hardshrink, hardsigmoid, hardswish, relu6, rrelu, softshrink, threshold,
)
from minigan.functional.pooling import (
    avg_pool1d, avg_pool2d, avg_pool3d, lp_pool1d, lp_pool2d, lp_pool3d, max_pool1d, max_pool2d, max_pool3d,
    max_pool1d_with_indices, max_pool2d_with_indices, max_pool3d_with_indices,
)
from minigan.functional.reduction import logsumexp, max, mean, min, std, sum, var
from minigan.functional.sampling import (
    channel_shuffle, gumbel_softmax, pixel_shuffle, pixel_unshuffle, upsample_nearest2d,
)
from minigan.functional.shape import broadcast_to, concat, flatten, getitem, reshape, stack, sum_to, transpose
from minigan.functional.unpooling import max_unpool1d, max_unpool2d, max_unpool3d
