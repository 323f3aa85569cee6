// batch_transpose for cupy.RawModule (the name and the layout of kernels/reference.py):
//   out[b, j, i] = x[b, i, j], x (nb, r, s) -> out (nb, s, r), both C-contiguous.
// One thread per element of out, in out's memory order, so that writes are coalesced; the reads
// stride by s. A grid-stride loop covers any size with a bounded grid.

template <typename T>
__global__ void batch_transpose(const T* __restrict__ x, T* __restrict__ out, size_t r, size_t s, size_t size) {
    for (size_t index = blockIdx.x * (size_t)blockDim.x + threadIdx.x; index < size;
         index += (size_t)blockDim.x * gridDim.x) {
        size_t i = index % r;
        size_t rest = index / r;
        size_t j = rest % s;
        size_t b = rest / s;
        out[index] = x[(b * r + i) * s + j];
    }
}
