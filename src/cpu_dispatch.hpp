#pragma once
// Private: XDENSE_VECTOR_CLONES marks a hot loop to be compiled twice, for x86-64-v3
// (AVX2 + FMA: 8 floats per instruction) and for the baseline x86-64 (SSE2: 4), with
// the dynamic loader picking one per process from the CPU it runs on (GNU ifunc).
// The library is built without -march, so it runs on any x86-64 CPU, yet on a
// current one its elementwise passes, small products and optimizer updates run
// at full vector width.
//
// The two versions may differ in the last bit (the AVX2 one contracts a*b + c into
// fused multiply-adds); a given machine always runs the same one, so a seeded
// training run is bit-identical from run to run there. OpenBLAS picks its kernels by
// CPU in the same way.
//
// GCC 11 or later only (the first with arch=x86-64-v3; Clang's target_clones does
// not take arch= levels on Debian 12's clang 14); elsewhere the attribute is empty
// and the baseline build is used.

#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11 && defined(__x86_64__) && defined(__linux__) && \
    !defined(XDENSE_NO_VECTOR_CLONES)
#define XDENSE_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define XDENSE_VECTOR_CLONES
#endif

// XDENSE_KERNEL_INLINE: for helpers of the cloned kernels. They must be inlined into
// each clone to be compiled for its instruction set; an out-of-line copy would be
// baseline code (and pass vector arguments through memory).
#if defined(__GNUC__)
#define XDENSE_KERNEL_INLINE inline __attribute__((always_inline))
#else
#define XDENSE_KERNEL_INLINE inline
#endif
