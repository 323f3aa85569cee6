// Fused LeakyReLU, forward and backward, for cupy.RawModule (names as in kernels/reference.py).
// One pass over memory each: y = x > 0 ? x : slope * x, and gx = x > 0 ? gy : slope * gy, where an
// unfused version reads and writes a temporary for the comparison and one for the product.
// A grid-stride loop covers any size with a bounded grid (size_t: no 2**31 limit on elementwise work).

template <typename T>
__global__ void leaky_relu(const T* __restrict__ x, T* __restrict__ y, T slope, size_t size) {
    for (size_t index = blockIdx.x * (size_t)blockDim.x + threadIdx.x; index < size;
         index += (size_t)blockDim.x * gridDim.x) {
        T value = x[index];
        y[index] = value > T(0) ? value : slope * value;
    }
}

template <typename T>
__global__ void leaky_relu_grad(const T* __restrict__ x, const T* __restrict__ gy, T* __restrict__ gx,
                                T slope, size_t size) {
    for (size_t index = blockIdx.x * (size_t)blockDim.x + threadIdx.x; index < size;
         index += (size_t)blockDim.x * gridDim.x) {
        T g = gy[index];
        gx[index] = x[index] > T(0) ? g : slope * g;
    }
}
