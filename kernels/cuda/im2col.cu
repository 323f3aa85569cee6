// im2col and col2im for cupy.RawModule (loaded by kernels/cuda_c.py), with the layout and the names of
// kernels/reference.py:
//   x   (n, c, h, w)            the image batch, C-contiguous;
//   col (n, ho, wo, kh, kw, c)  col[ni, oy, ox, i, j, ci] = xpad[ni, ci, oy*sh + i*dh, ox*sw + j*dw],
// where xpad is x with ph zero rows and pw zero columns on each side. Indices are int: the wrappers
// send arrays of 2**31 elements or more to the reference instead.

// One thread per element of col, in col's memory order, so that neighbouring threads write
// neighbouring addresses (coalesced stores); they read x across its channels (stride h w), through
// the cache, since every pixel of x is read by up to kh kw threads.
template <typename T>
__global__ void im2col(const T* __restrict__ x, T* __restrict__ col,
                       int n, int c, int h, int w, int kh, int kw, int sh, int sw,
                       int ph, int pw, int dh, int dw, int ho, int wo) {
    int index = blockIdx.x * blockDim.x + threadIdx.x;
    if (index >= c * kh * kw * n * ho * wo) return;
    int ci = index % c;
    int rest = index / c;
    int j = rest % kw;
    rest /= kw;
    int i = rest % kh;
    rest /= kh;
    int ox = rest % wo;
    rest /= wo;
    int oy = rest % ho;
    int ni = rest / ho;
    // Position in the unpadded input; outside it lies the zero padding.
    int iy = oy * sh + i * dh - ph;
    int ix = ox * sw + j * dw - pw;
    bool inside = 0 <= iy && iy < h && 0 <= ix && ix < w;
    col[index] = inside ? x[((ni * c + ci) * h + iy) * w + ix] : T(0);
}

// The adjoint of im2col in gather form: one thread per input pixel sums every col entry that was
// copied from it, so no two threads write the same address and no atomics are needed. Pixel (iy, ix)
// is tap (i, j) of output (oy, ox) when iy + ph = oy*sh + i*dh and ix + pw = ox*sw + j*dw with
// 0 <= oy < ho and 0 <= ox < wo. The taps are visited in the order reference.col2im adds them.
template <typename T>
__global__ void col2im(const T* __restrict__ col, T* __restrict__ x,
                       int n, int c, int h, int w, int kh, int kw, int sh, int sw,
                       int ph, int pw, int dh, int dw, int ho, int wo) {
    int index = blockIdx.x * blockDim.x + threadIdx.x;
    if (index >= n * c * h * w) return;
    int ix = index % w;
    int rest = index / w;
    int iy = rest % h;
    rest /= h;
    int ci = rest % c;
    int ni = rest / c;
    T sum = T(0);
    for (int i = 0; i < kh; ++i) {
        int ty = iy + ph - i * dh;  // = oy * sh if this row is tap i of output row oy
        if (ty < 0) break;          // ty only decreases with i
        if (ty % sh != 0 || ty / sh >= ho) continue;
        int oy = ty / sh;
        for (int j = 0; j < kw; ++j) {
            int tx = ix + pw - j * dw;
            if (tx < 0) break;
            if (tx % sw != 0 || tx / sw >= wo) continue;
            int ox = tx / sw;
            sum += col[((((ni * ho + oy) * wo + ox) * kh + i) * kw + j) * c + ci];
        }
    }
    x[index] = sum;
}
