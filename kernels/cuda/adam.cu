// The fused Adam update for cupy.RawModule: one pass reads param, grad, m and v and writes param, m
// and v, in place, where the reference makes about ten passes with temporaries. The math is
// reference.adam_update's (torch.optim.Adam; Kingma & Ba 2015, Algorithm 1, with L2 weight decay):
//   g = grad + weight_decay * param
//   m = beta1 * m + (1 - beta1) * g
//   v = beta2 * v + (1 - beta2) * g^2
//   param -= step_size * m / (sqrt(v) * inv_sqrt_bias2 + eps)
// The host computes the per-step scalars step_size = lr / (1 - beta1^step) and
// inv_sqrt_bias2 = 1 / sqrt(1 - beta2^step) in double precision, as the reference does.

template <typename T>
__global__ void adam_update(T* __restrict__ param, const T* __restrict__ grad, T* __restrict__ m,
                            T* __restrict__ v, T beta1, T beta2, T eps, T weight_decay, T step_size,
                            T inv_sqrt_bias2, size_t size) {
    for (size_t index = blockIdx.x * (size_t)blockDim.x + threadIdx.x; index < size;
         index += (size_t)blockDim.x * gridDim.x) {
        T p = param[index];
        T g = grad[index] + weight_decay * p;
        T m_new = beta1 * m[index] + (T(1) - beta1) * g;
        T v_new = beta2 * v[index] + (T(1) - beta2) * g * g;
        m[index] = m_new;
        v[index] = v_new;
        param[index] = p - step_size * m_new / (sqrt(v_new) * inv_sqrt_bias2 + eps);
    }
}
