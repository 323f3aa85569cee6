// Training-mode batch norm, forward and backward, for cupy.RawModule, with the names and the math of
// reference.batch_norm_forward / batch_norm_backward (Ioffe & Szegedy 2015):
//   x, y, gy, gx  (n, c, l), C-contiguous: element (ni, ci, li) at (ni * c + ci) * l + li;
//   gamma, beta, mean, invstd, ggamma, gbeta  (c,).
// One block per channel does the whole job for that channel in a single launch: it reduces the
// channel's m = n * l values to per-channel statistics in shared memory, then makes a second sweep
// over the same values (by then mostly in L2 cache) to write the output. The block size must be a
// power of two, at most kMaxThreads.

constexpr int kMaxThreads = 1024;

// Sum the per-thread values in the shared arrays a and b across the block (tree reduction); on
// return a[0] and b[0] hold the block's totals and every thread may read them.
template <typename T>
__device__ void block_sum2(T* a, T* b) {
    for (int half = blockDim.x / 2; half > 0; half /= 2) {
        __syncthreads();
        if (threadIdx.x < half) {
            a[threadIdx.x] += a[threadIdx.x + half];
            b[threadIdx.x] += b[threadIdx.x + half];
        }
    }
    __syncthreads();
}

// Forward. The variance uses Welford's update inside each thread and Chan, Golub & LeVeque's (1979)
// pairwise merge across threads: both work with deviations from a running mean, so float32 keeps its
// precision where E[x^2] - E[x]^2 would cancel catastrophically for inputs with a large mean.
template <typename T>
__global__ void batch_norm_forward(const T* __restrict__ x, const T* __restrict__ gamma,
                                   const T* __restrict__ beta, T* __restrict__ y, T* __restrict__ mean,
                                   T* __restrict__ invstd, int n, int c, int l, T eps) {
    __shared__ T s_count[kMaxThreads];
    __shared__ T s_mean[kMaxThreads];
    __shared__ T s_m2[kMaxThreads];  // sum of squared deviations from the mean
    int ci = blockIdx.x;
    int m = n * l;

    T count = T(0), run_mean = T(0), m2 = T(0);
    for (int k = threadIdx.x; k < m; k += blockDim.x) {
        T value = x[((k / l) * c + ci) * l + k % l];
        count += T(1);
        T delta = value - run_mean;
        run_mean += delta / count;
        m2 += delta * (value - run_mean);
    }
    s_count[threadIdx.x] = count;
    s_mean[threadIdx.x] = run_mean;
    s_m2[threadIdx.x] = m2;
    for (int half = blockDim.x / 2; half > 0; half /= 2) {
        __syncthreads();
        if (threadIdx.x < half) {
            T count_b = s_count[threadIdx.x + half];
            if (count_b > T(0)) {
                T count_a = s_count[threadIdx.x];
                T total = count_a + count_b;
                T delta = s_mean[threadIdx.x + half] - s_mean[threadIdx.x];
                s_mean[threadIdx.x] += delta * (count_b / total);
                s_m2[threadIdx.x] += s_m2[threadIdx.x + half] + delta * delta * (count_a * count_b / total);
                s_count[threadIdx.x] = total;
            }
        }
    }
    __syncthreads();

    T channel_mean = s_mean[0];
    T channel_invstd = T(1) / sqrt(s_m2[0] / T(m) + eps);  // biased variance, as in the reference
    if (threadIdx.x == 0) {
        mean[ci] = channel_mean;
        invstd[ci] = channel_invstd;
    }
    T scale = channel_invstd * gamma[ci];
    T shift = beta[ci];
    for (int k = threadIdx.x; k < m; k += blockDim.x) {
        int index = ((k / l) * c + ci) * l + k % l;
        y[index] = (x[index] - channel_mean) * scale + shift;
    }
}

// Backward, from the saved mean and invstd. With xhat = (x - mean) * invstd, per channel:
//   gbeta = sum gy,  ggamma = sum gy * xhat,  gx = gamma * invstd * (gy - (gbeta + xhat * ggamma) / m).
template <typename T>
__global__ void batch_norm_backward(const T* __restrict__ gy, const T* __restrict__ x,
                                    const T* __restrict__ mean, const T* __restrict__ invstd,
                                    const T* __restrict__ gamma, T* __restrict__ gx,
                                    T* __restrict__ ggamma, T* __restrict__ gbeta, int n, int c, int l) {
    __shared__ T s_gbeta[kMaxThreads];
    __shared__ T s_ggamma[kMaxThreads];
    int ci = blockIdx.x;
    int m = n * l;
    T channel_mean = mean[ci], channel_invstd = invstd[ci];

    T sum_gy = T(0), sum_gy_xhat = T(0);
    for (int k = threadIdx.x; k < m; k += blockDim.x) {
        int index = ((k / l) * c + ci) * l + k % l;
        T g = gy[index];
        sum_gy += g;
        sum_gy_xhat += g * (x[index] - channel_mean) * channel_invstd;
    }
    s_gbeta[threadIdx.x] = sum_gy;
    s_ggamma[threadIdx.x] = sum_gy_xhat;
    block_sum2(s_gbeta, s_ggamma);

    T channel_gbeta = s_gbeta[0], channel_ggamma = s_ggamma[0];
    if (threadIdx.x == 0) {
        gbeta[ci] = channel_gbeta;
        ggamma[ci] = channel_ggamma;
    }
    T scale = gamma[ci] * channel_invstd;
    T inv_m = T(1) / T(m);
    for (int k = threadIdx.x; k < m; k += blockDim.x) {
        int index = ((k / l) * c + ci) * l + k % l;
        T xhat = (x[index] - channel_mean) * channel_invstd;
        gx[index] = (gy[index] - (channel_gbeta + xhat * channel_ggamma) * inv_m) * scale;
    }
}
