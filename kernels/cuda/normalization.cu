// Training-mode batch norm and the standardisation of rows (layer, group and instance norm's core),
// forward and backward, for cupy.RawModule, with the names and the math of reference.py:
//   batch_norm_forward / batch_norm_backward (Ioffe & Szegedy 2015):
//     x, y, gy, gx  (n, c, l), C-contiguous: element (ni, ci, li) at (ni * c + ci) * l + li;
//     gamma, beta, mean, invstd, ggamma, gbeta  (c,);
//   standardise_forward / standardise_backward:
//     x, xhat, gy, gx  (rows, m), C-contiguous: element (r, j) at r * m + j;  invstd  (rows,).
// One block per channel (batch norm) or per row (standardisation) does the whole job for it in a
// single launch: it reduces the m values to statistics in shared memory, then makes a second sweep
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

// Mean and sum of squared deviations of the values ``value_at(k)``, k = 0 .. m - 1, across the block:
// Welford's update inside each thread and Chan, Golub & LeVeque's (1979) pairwise merge across
// threads. Both work with deviations from a running mean, so float32 keeps its precision where
// E[x^2] - E[x]^2 would cancel catastrophically for inputs with a large mean. On return every thread
// holds the block's mean and m2.
template <typename T, typename ValueAt>
__device__ void block_mean_m2(int m, ValueAt value_at, T* mean, T* m2) {
    __shared__ T s_count[kMaxThreads];
    __shared__ T s_mean[kMaxThreads];
    __shared__ T s_m2[kMaxThreads];

    T count = T(0), run_mean = T(0), run_m2 = T(0);
    for (int k = threadIdx.x; k < m; k += blockDim.x) {
        T value = value_at(k);
        count += T(1);
        T delta = value - run_mean;
        run_mean += delta / count;
        run_m2 += delta * (value - run_mean);
    }
    s_count[threadIdx.x] = count;
    s_mean[threadIdx.x] = run_mean;
    s_m2[threadIdx.x] = run_m2;
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
    *mean = s_mean[0];
    *m2 = s_m2[0];
}

// Forward, with the statistics of block_mean_m2.
template <typename T>
__global__ void batch_norm_forward(const T* __restrict__ x, const T* __restrict__ gamma,
                                   const T* __restrict__ beta, T* __restrict__ y, T* __restrict__ mean,
                                   T* __restrict__ invstd, int n, int c, int l, T eps) {
    int ci = blockIdx.x;
    int m = n * l;
    T channel_mean, m2;
    block_mean_m2<T>(m, [=](int k) { return x[((k / l) * c + ci) * l + k % l]; }, &channel_mean, &m2);

    T channel_invstd = T(1) / sqrt(m2 / T(m) + eps);  // biased variance, as in the reference
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

// Standardisation of row r = blockIdx.x: its mean and m2 from block_mean_m2, then
// xhat = (x - mean) * invstd with invstd = 1 / sqrt(m2 / m + eps) (the biased variance).
template <typename T>
__global__ void standardise_forward(const T* __restrict__ x, T* __restrict__ xhat, T* __restrict__ invstd,
                                    int m, T eps) {
    const T* row = x + (size_t)blockIdx.x * m;
    T row_mean, m2;
    block_mean_m2<T>(m, [=](int k) { return row[k]; }, &row_mean, &m2);
    T row_invstd = T(1) / sqrt(m2 / T(m) + eps);
    if (threadIdx.x == 0) invstd[blockIdx.x] = row_invstd;
    T* out = xhat + (size_t)blockIdx.x * m;
    for (int k = threadIdx.x; k < m; k += blockDim.x) out[k] = (row[k] - row_mean) * row_invstd;
}

// Its input gradient, row by row: gx = invstd (gy - mean(gy) - xhat mean(gy xhat)).
template <typename T>
__global__ void standardise_backward(const T* __restrict__ gy, const T* __restrict__ xhat,
                                     const T* __restrict__ invstd, T* __restrict__ gx, int m) {
    __shared__ T s_sum[kMaxThreads];
    __shared__ T s_dot[kMaxThreads];
    size_t offset = (size_t)blockIdx.x * m;
    T sum = T(0), dot = T(0);
    for (int k = threadIdx.x; k < m; k += blockDim.x) {
        T g = gy[offset + k];
        sum += g;
        dot += g * xhat[offset + k];
    }
    s_sum[threadIdx.x] = sum;
    s_dot[threadIdx.x] = dot;
    block_sum2(s_sum, s_dot);
    T inv_m = T(1) / T(m);
    T mean_gy = s_sum[0] * inv_m, mean_gy_xhat = s_dot[0] * inv_m, row_invstd = invstd[blockIdx.x];
    for (int k = threadIdx.x; k < m; k += blockDim.x)
        gx[offset + k] = (gy[offset + k] - mean_gy - xhat[offset + k] * mean_gy_xhat) * row_invstd;
}
