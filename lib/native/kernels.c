/*
 * Elementwise kernels for the course's native CPU backend (lib/native/), called from TypeScript through Deno FFI
 * on the wasm backend's heap. tools/setup.ts compiles this file where a C compiler exists (cc -O3 -shared); the
 * backend works without it (wasm softmax and exp). Plain C: the compiler vectorises the loops.
 *
 * exp(x): x = n·ln2 + r with |r| ≤ ln2/2, e^r by its Taylor polynomial to degree 6 (relative error < 2e-7 on that
 * interval), 2^n written into the exponent bits. Results below 2^-126 flush to 0; NaN propagates; ±∞ give ∞ and 0.
 */
#include <stdint.h>
#include <string.h>

#define LOG2E 1.44269504088896341f
#define LN2_HI 0.693145751953125f /* ln 2 split in two so that n·LN2_HI is exact */
#define LN2_LO 1.42860682030941723e-6f
#define X_MAX 88.7228317f  /* exp(x) overflows above */
#define X_MIN -87.3365479f /* exp(x) < 2^-126 below */

static inline float exp_one(float x) {
  float xc = x > X_MAX ? X_MAX : x;
  xc = xc < X_MIN ? X_MIN : xc;
  /* n = round(x·log2 e): adding 1.5·2^23 leaves n in the low mantissa bits (|n| < 2^22). */
  float z = xc * LOG2E + 12582912.0f;
  float nf = z - 12582912.0f;
  float r = xc - nf * LN2_HI - nf * LN2_LO;
  float p = 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  int32_t zbits;
  memcpy(&zbits, &z, sizeof zbits);
  int32_t n = zbits - 0x4B400000; /* 0x4B400000 = the bits of 1.5·2^23 */
  /* 2^n as 2^(n/2)·2^(n − n/2): n runs from −126 to 128, beyond one float exponent at both ends. */
  int32_t n1 = n >> 1, b1 = (n1 + 127) << 23, b2 = (n - n1 + 127) << 23;
  float s1, s2;
  memcpy(&s1, &b1, sizeof s1);
  memcpy(&s2, &b2, sizeof s2);
  float y = p * s1 * s2;
  y = x > X_MAX ? __builtin_inff() : y;
  y = x < X_MIN ? 0.0f : y;
  return x != x ? x : y; /* NaN stays NaN */
}

/** y[i] = exp(x[i]) for n elements (x and y may be the same array). */
void attn_exp(const float *x, float *y, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] = exp_one(x[i]);
}

/* Eight-lane vectors (GCC and Clang vector extensions) for the row reductions, which compilers will not vectorise
 * on their own without fast-math. */
typedef float vf8 __attribute__((vector_size(32)));
typedef int32_t vi8 __attribute__((vector_size(32)));

static inline vf8 load8(const float *p) {
  vf8 v;
  memcpy(&v, p, sizeof v);
  return v;
}

/* Lane-wise max that keeps `m` where x is NaN (the exp pass turns NaN into a NaN row). */
static inline vf8 max8(vf8 m, vf8 x) {
  vi8 gt = x > m;
  return (vf8)((gt & (vi8)x) | (~gt & (vi8)m));
}

static float row_max(const float *x, int64_t n) {
  vf8 m0, m1;
  for (int u = 0; u < 8; u++) m0[u] = m1[u] = -__builtin_inff();
  int64_t j = 0;
  for (; j + 16 <= n; j += 16) {
    m0 = max8(m0, load8(x + j));
    m1 = max8(m1, load8(x + j + 8));
  }
  m0 = max8(m0, m1);
  float mx = -__builtin_inff();
  for (int u = 0; u < 8; u++) mx = m0[u] > mx ? m0[u] : mx;
  for (; j < n; j++) mx = x[j] > mx ? x[j] : mx;
  return mx;
}

static float row_sum(const float *x, int64_t n) {
  vf8 s0 = {0}, s1 = {0};
  int64_t j = 0;
  for (; j + 16 <= n; j += 16) {
    s0 += load8(x + j);
    s1 += load8(x + j + 8);
  }
  s0 += s1;
  float s = 0;
  for (int u = 0; u < 8; u++) s += s0[u];
  for (; j < n; j++) s += x[j];
  return s;
}

/**
 * Softmax over each row of an [rows, cols] row-major matrix: y = exp(x − max) / Σ exp(x − max).
 * A row holding NaN gives NaN everywhere (as TensorFlow.js does); a row of −∞ gives NaN (0/0).
 */
void attn_softmax(const float *x, float *y, int64_t rows, int64_t cols) {
  for (int64_t i = 0; i < rows; i++) {
    const float *xr = x + i * cols;
    float *yr = y + i * cols;
    float mx = row_max(xr, cols);
    for (int64_t j = 0; j < cols; j++) yr[j] = exp_one(xr[j] - mx);
    float inv = 1.0f / row_sum(yr, cols); /* NaN anywhere in the row makes the sum NaN, and so the whole row */
    for (int64_t j = 0; j < cols; j++) yr[j] *= inv;
  }
}

/** The version of this file's interface, checked by lib/native/ before use. */
int32_t attn_kernels_version(void) { return 1; }
