// Runs CUDA C kernels on the CPU, for tests on machines without a GPU (see cuda_emulator.py).
//
// A kernel source is included after this header and compiled as C++17 by g++. Every CUDA thread of a
// block becomes a POSIX thread, so the threads of a block really run concurrently: __syncthreads() is
// a barrier over the block, and __shared__ variables are function-local statics, one copy shared by
// all threads of the block (blocks run one after another, so one copy serves them all in turn). Only
// the subset of CUDA our kernels use is provided; anything else fails to compile, loudly. Only C
// headers are used, because the C++ thread headers alone take seconds to compile.
#include <pthread.h>
#include <stddef.h>
#include <string.h>
#include <utility>

#define __global__
#define __device__
#define __shared__ static

// CUDA's sqrt is overloaded for float and double (C's would compute a float in double precision).
inline float sqrt(float value) { return __builtin_sqrtf(value); }
inline double sqrt(double value) { return __builtin_sqrt(value); }

struct dim3 {
    unsigned x = 1, y = 1, z = 1;
};

thread_local dim3 threadIdx, blockIdx;
dim3 blockDim, gridDim;
pthread_barrier_t block_barrier;

inline void __syncthreads() { pthread_barrier_wait(&block_barrier); }

// One code letter per kernel parameter type, so that Python can check the arguments it passes
// against the kernel's real signature. A parameter of any other type does not compile.
template <typename A> struct TypeCode;
template <> struct TypeCode<float*> { static constexpr char value = 'F'; };
template <> struct TypeCode<const float*> { static constexpr char value = 'F'; };
template <> struct TypeCode<double*> { static constexpr char value = 'D'; };
template <> struct TypeCode<const double*> { static constexpr char value = 'D'; };
template <> struct TypeCode<int> { static constexpr char value = 'i'; };
template <> struct TypeCode<size_t> { static constexpr char value = 'm'; };
template <> struct TypeCode<float> { static constexpr char value = 'f'; };
template <> struct TypeCode<double> { static constexpr char value = 'd'; };

struct Launcher {
    const char* name;
    const char* signature;
    void (*call)(void** params);  // one thread's run, arguments as cuLaunchKernel takes them
};

template <typename... Args>
struct KernelType {
    static constexpr char signature[] = {TypeCode<Args>::value..., '\0'};

    template <void (*Kernel)(Args...), size_t... I>
    static void call_unpacked(void** params, std::index_sequence<I...>) {
        Kernel(*static_cast<Args*>(params[I])...);
    }

    template <void (*Kernel)(Args...)>
    static void call(void** params) {
        call_unpacked<Kernel>(params, std::index_sequence_for<Args...>{});
    }
};

template <typename... Args>
KernelType<Args...> kernel_type(void (*)(Args...));

// The Launcher of a kernel instantiation: EMULATE(im2col<float>).
#define EMULATE(...) \
    Launcher{#__VA_ARGS__, decltype(kernel_type(&__VA_ARGS__))::signature, \
             &decltype(kernel_type(&__VA_ARGS__))::template call<&__VA_ARGS__>}

extern const Launcher launchers[];
extern const int launcher_count;

static const Launcher* find_launcher(const char* name) {
    for (int k = 0; k < launcher_count; ++k)
        if (strcmp(launchers[k].name, name) == 0) return &launchers[k];
    return nullptr;
}

extern "C" const char* emulator_signature(const char* name) {
    const Launcher* launcher = find_launcher(name);
    return launcher ? launcher->signature : nullptr;
}

struct ThreadStart {
    const Launcher* launcher;
    void** params;
    unsigned block, thread;
};

static void* run_thread(void* start_ptr) {
    ThreadStart* start = static_cast<ThreadStart*>(start_ptr);
    blockIdx = dim3{start->block, 1, 1};
    threadIdx = dim3{start->thread, 1, 1};
    start->launcher->call(start->params);
    return nullptr;
}

// Launch `name` on a one-dimensional grid, as cuLaunchKernel(grid, 1, 1, block, 1, 1, ..., params).
// Returns 0, or 1 for an unknown kernel, 2 when a thread could not be started.
extern "C" int emulator_launch(const char* name, unsigned grid, unsigned block, void** params) {
    const Launcher* launcher = find_launcher(name);
    if (launcher == nullptr) return 1;
    gridDim = dim3{grid, 1, 1};
    blockDim = dim3{block, 1, 1};
    pthread_t* threads = new pthread_t[block];
    ThreadStart* starts = new ThreadStart[block];
    int status = 0;
    for (unsigned b = 0; b < grid && status == 0; ++b) {
        pthread_barrier_init(&block_barrier, nullptr, block);
        unsigned started = 0;
        for (; started < block; ++started) {
            starts[started] = ThreadStart{launcher, params, b, started};
            if (pthread_create(&threads[started], nullptr, run_thread, &starts[started]) != 0) break;
        }
        // A thread that failed to start would leave the others waiting at a barrier forever; that
        // only happens when the machine is out of threads, and then the test run is lost anyway.
        if (started < block) status = 2;
        for (unsigned t = 0; t < started; ++t) pthread_join(threads[t], nullptr);
        pthread_barrier_destroy(&block_barrier);
    }
    delete[] threads;
    delete[] starts;
    return status;
}
