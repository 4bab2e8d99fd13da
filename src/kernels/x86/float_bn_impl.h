// BatchNormalization (training mode) and clamp kernels written once over a
// traits type T, instantiated by float_bn_avx2.cpp and float_bn_avx512.cpp.
// They compute exactly what the reference (reference/float_bn.cpp) does:
// the same float and double operations in the same order per element, each
// channel's sums in row order (channels are the vector lanes, so no sum is
// reassociated), and no FMA (these files are built with -ffp-contract=off).
//
// T provides, for kD lanes: h (kD floats) and d (kD doubles) registers, m (a
// tail mask), tail(n), hload / hstore (masked), hset1, hsub, hmul, hadd,
// hmax, hmin (H256 below has them for 8 floats), hkeep(x, hi, dy)
// ((0 < x < hi) ? dy : +0), cvt (float -> double), cvtback (double -> float,
// round to nearest), dload / dstore (masked), dset1, dadd, dsub, dmul; and
// optionally kMaxGroup (see max_group).
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>

namespace qlite::kernels::bn {
namespace {
// The float steps of T on 8 floats in a 256-bit register, which the AVX2
// and AVX-512 traits share (the anonymous namespace keeps each ISA's file's
// copy its own).
struct H256 {
  using h = __m256;
  static h hset1(float f) { return _mm256_set1_ps(f); }
  static h hsub(h a, h b) { return _mm256_sub_ps(a, b); }
  static h hmul(h a, h b) { return _mm256_mul_ps(a, b); }
  static h hadd(h a, h b) { return _mm256_add_ps(a, b); }
  static h hmax(h a, h b) { return _mm256_max_ps(a, b); }
  static h hmin(h a, h b) { return _mm256_min_ps(a, b); }
};
}  // namespace

// Vectors of channels whose sums stay in registers together: T::kMaxGroup
// when T says (at most 4), else 4.
template <class T>
constexpr int max_group() {
  if constexpr (requires { T::kMaxGroup; }) return T::kMaxGroup;
  else return 4;
}

// Calls f(k0, integral_constant<NB>) for each group of up to max_group<T>()
// vectors of channels starting at k0: accumulators for a group stay in
// registers over all rows.

template <class T, class F>
inline void for_groups(int64_t c, F&& f) {
  constexpr int64_t G = max_group<T>() * T::kD;
  for (int64_t k0 = 0; k0 < c; k0 += G) {
    const int64_t nb = std::min<int64_t>(max_group<T>(), (c - k0 + T::kD - 1) / T::kD);
    switch (nb) {
      case 1: f(k0, std::integral_constant<int, 1>{}); break;
      case 2: f(k0, std::integral_constant<int, 2>{}); break;
      case 3: f(k0, std::integral_constant<int, 3>{}); break;
      default: f(k0, std::integral_constant<int, 4>{}); break;
    }
  }
}

// Calls f(r0, r1) over tiles of rows, and f's caller walks channel blocks
// outside rows inside a tile: a tile of every stream stays in L1 while the
// blocks of one row are visited, so a cache line a block shares with the
// next is not fetched from L2 / L3 (or written back) once per block.
// Each element is computed alone, so the order of the walk changes no bit.
template <class F>
inline void for_row_tiles(int64_t rows, int64_t c, F&& f) {
  const int64_t tile = std::max<int64_t>(1, 2048 / std::max<int64_t>(c, 1));  // 8 KB of floats per stream
  for (int64_t r0 = 0; r0 < rows; r0 += tile) f(r0, std::min(rows, r0 + tile));
}

template <class T>
void sums(const float* x, int64_t rows, int64_t c, int64_t ld, double* sum) {
  for_groups<T>(c, [&](int64_t k0, auto nbc) {
    constexpr int NB = decltype(nbc)::value;
    typename T::m k[NB];
    typename T::d acc[NB];
    for (int b = 0; b < NB; ++b) {
      k[b] = T::tail(c - k0 - b * T::kD);
      acc[b] = T::dload(sum + k0 + b * T::kD, k[b]);
    }
    for (int64_t r = 0; r < rows; ++r) {
      const float* p = x + r * ld + k0;
      for (int b = 0; b < NB; ++b) acc[b] = T::dadd(acc[b], T::cvt(T::hload(p + b * T::kD, k[b])));
    }
    for (int b = 0; b < NB; ++b) T::dstore(sum + k0 + b * T::kD, acc[b], k[b]);
  });
}

template <class T>
void sq(const float* x, int64_t rows, int64_t c, int64_t ld, const float* mean, double* out) {
  for_groups<T>(c, [&](int64_t k0, auto nbc) {
    constexpr int NB = decltype(nbc)::value;
    typename T::m k[NB];
    typename T::d acc[NB], mu[NB];
    for (int b = 0; b < NB; ++b) {
      k[b] = T::tail(c - k0 - b * T::kD);
      acc[b] = T::dload(out + k0 + b * T::kD, k[b]);
      mu[b] = T::cvt(T::hload(mean + k0 + b * T::kD, k[b]));
    }
    for (int64_t r = 0; r < rows; ++r) {
      const float* p = x + r * ld + k0;
      for (int b = 0; b < NB; ++b) {
        const typename T::d d = T::dsub(T::cvt(T::hload(p + b * T::kD, k[b])), mu[b]);
        acc[b] = T::dadd(acc[b], T::dmul(d, d));
      }
    }
    for (int b = 0; b < NB; ++b) T::dstore(out + k0 + b * T::kD, acc[b], k[b]);
  });
}

template <class T>
void normalize(const float* x, int64_t rows, int64_t c, const float* gamma, const float* mean, const float* inv,
               const float* beta, const float* hi, float* y) {
  const typename T::h zero = T::hset1(0.0f), top = T::hset1(hi ? *hi : 0.0f);
  for_row_tiles(rows, c, [&](int64_t r0, int64_t r1) {
    for (int64_t k0 = 0; k0 < c; k0 += T::kD) {
      const typename T::m k = T::tail(c - k0);
      const typename T::h g = T::hload(gamma + k0, k), mu = T::hload(mean + k0, k), s = T::hload(inv + k0, k),
                          bt = T::hload(beta + k0, k);
      if (hi) {
        for (int64_t r = r0; r < r1; ++r) {
          const int64_t o = r * c + k0;
          const typename T::h v = T::hadd(T::hmul(T::hmul(g, T::hsub(T::hload(x + o, k), mu)), s), bt);
          T::hstore(y + o, T::hmin(T::hmax(v, zero), top), k);
        }
      } else {
        for (int64_t r = r0; r < r1; ++r) {
          const int64_t o = r * c + k0;
          T::hstore(y + o, T::hadd(T::hmul(T::hmul(g, T::hsub(T::hload(x + o, k), mu)), s), bt), k);
        }
      }
    }
  });
}

template <class T, bool kClamp>
void grad_sums_impl(const float* x, const float* dy, int64_t rows, int64_t c, const float* mean, const float* inv,
                    const float* gamma, const float* beta, const float* hi, double* sdy, double* sdyx,
                    int64_t ld) {
  for_groups<T>(c, [&](int64_t k0, auto nbc) {
    constexpr int NB = decltype(nbc)::value;
    typename T::m k[NB];
    typename T::d a1[NB], a2[NB];
    typename T::h mu[NB], s[NB], g[NB], bt[NB];
    const typename T::h top = T::hset1(kClamp ? *hi : 0.0f);
    for (int b = 0; b < NB; ++b) {
      const int64_t o = k0 + b * T::kD;
      k[b] = T::tail(c - o);
      a1[b] = T::dload(sdy + o, k[b]);
      a2[b] = T::dload(sdyx + o, k[b]);
      mu[b] = T::hload(mean + o, k[b]);
      s[b] = T::hload(inv + o, k[b]);
      if (kClamp) g[b] = T::hload(gamma + o, k[b]), bt[b] = T::hload(beta + o, k[b]);
    }
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t o = r * ld + k0;
      for (int b = 0; b < NB; ++b) {
        const typename T::h xv = T::hload(x + o + b * T::kD, k[b]);
        const typename T::h xc = T::hsub(xv, mu[b]);
        typename T::h dv = T::hload(dy + o + b * T::kD, k[b]);
        if (kClamp) dv = T::hkeep(T::hadd(T::hmul(T::hmul(g[b], xc), s[b]), bt[b]), top, dv);
        const typename T::d xh = T::cvt(T::hmul(xc, s[b]));
        const typename T::d d = T::cvt(dv);
        a1[b] = T::dadd(a1[b], d);
        a2[b] = T::dadd(a2[b], T::dmul(d, xh));
      }
    }
    for (int b = 0; b < NB; ++b) {
      T::dstore(sdy + k0 + b * T::kD, a1[b], k[b]);
      T::dstore(sdyx + k0 + b * T::kD, a2[b], k[b]);
    }
  });
}

template <class T>
void grad_sums(const float* x, const float* dy, int64_t rows, int64_t c, const float* mean, const float* inv,
               const float* gamma, const float* beta, const float* hi, double* sdy, double* sdyx, int64_t ld) {
  if (hi) grad_sums_impl<T, true>(x, dy, rows, c, mean, inv, gamma, beta, hi, sdy, sdyx, ld);
  else grad_sums_impl<T, false>(x, dy, rows, c, mean, inv, gamma, beta, hi, sdy, sdyx, ld);
}

template <class T, bool kClamp>
void input_grad_impl(const float* x, const float* dy, int64_t rows, int64_t c, const float* mean, const float* inv,
                     const float* gamma, const float* beta, const float* hi, const double* a, double m,
                     const double* sdy, const double* sdyx, float* dx) {
  const typename T::d mv = T::dset1(m);
  const typename T::h top = T::hset1(kClamp ? *hi : 0.0f);
  for_row_tiles(rows, c, [&](int64_t r0, int64_t r1) {
    for (int64_t k0 = 0; k0 < c; k0 += T::kD) {
      const typename T::m k = T::tail(c - k0);
      const typename T::h mu = T::hload(mean + k0, k), s = T::hload(inv + k0, k);
      typename T::h g = s, bt = s;
      if (kClamp) g = T::hload(gamma + k0, k), bt = T::hload(beta + k0, k);
      const typename T::d av = T::dload(a + k0, k), s1 = T::dload(sdy + k0, k), s2 = T::dload(sdyx + k0, k);
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t o = r * c + k0;
        const typename T::h xc = T::hsub(T::hload(x + o, k), mu);
        typename T::h dv = T::hload(dy + o, k);
        if (kClamp) dv = T::hkeep(T::hadd(T::hmul(T::hmul(g, xc), s), bt), top, dv);
        const typename T::d xh = T::cvt(T::hmul(xc, s));
        const typename T::d d = T::cvt(dv);
        const typename T::d t = T::dsub(T::dsub(T::dmul(mv, d), s1), T::dmul(xh, s2));
        T::hstore(dx + o, T::cvtback(T::dmul(av, t)), k);
      }
    }
  });
}

template <class T>
void input_grad(const float* x, const float* dy, int64_t rows, int64_t c, const float* mean, const float* inv,
                const float* gamma, const float* beta, const float* hi, const double* a, double m, const double* sdy,
                const double* sdyx, float* dx) {
  if (hi) input_grad_impl<T, true>(x, dy, rows, c, mean, inv, gamma, beta, hi, a, m, sdy, sdyx, dx);
  else input_grad_impl<T, false>(x, dy, rows, c, mean, inv, gamma, beta, hi, a, m, sdy, sdyx, dx);
}

// max(x, 0) then min(., hi) in maxps / minps operand order: a NaN x gives 0.
template <class T>
void clamp_forward(const float* x, float* y, int64_t n, float hi) {
  const typename T::h z = T::hset1(0.0f), h = T::hset1(hi);
  for (int64_t i = 0; i < n; i += T::kD) {
    const typename T::m k = T::tail(n - i);
    T::hstore(y + i, T::hmin(T::hmax(T::hload(x + i, k), z), h), k);
  }
}

template <class T>
void clamp_backward(const float* x, const float* dy, float* dx, int64_t n, float hi) {
  const typename T::h h = T::hset1(hi);
  for (int64_t i = 0; i < n; i += T::kD) {
    const typename T::m k = T::tail(n - i);
    T::hstore(dx + i, T::hkeep(T::hload(x + i, k), h, T::hload(dy + i, k)), k);
  }
}

}  // namespace qlite::kernels::bn

#define QLITE_DEFINE_FLOAT_BN_KERNELS(T)                                                                      \
  void bn_sums(const float* x, int64_t rows, int64_t c, int64_t ld, double* sum) {                         \
    bn::sums<T>(x, rows, c, ld, sum);                                                                       \
  }                                                                                                         \
  void bn_sq(const float* x, int64_t rows, int64_t c, int64_t ld, const float* mean, double* sq) {          \
    bn::sq<T>(x, rows, c, ld, mean, sq);                                                                    \
  }                                                                                                         \
  void bn_normalize(const float* x, int64_t rows, int64_t c, const float* gamma, const float* mean,         \
                    const float* inv, const float* beta, const float* hi, float* y) {                       \
    bn::normalize<T>(x, rows, c, gamma, mean, inv, beta, hi, y);                                            \
  }                                                                                                         \
  void bn_grad_sums(const float* x, const float* dy, int64_t rows, int64_t c, const float* mean,            \
                    const float* inv, const float* gamma, const float* beta, const float* hi, double* sdy,  \
                    double* sdyx, int64_t ld) {                                                             \
    bn::grad_sums<T>(x, dy, rows, c, mean, inv, gamma, beta, hi, sdy, sdyx, ld);                            \
  }                                                                                                         \
  void bn_input_grad(const float* x, const float* dy, int64_t rows, int64_t c, const float* mean,           \
                     const float* inv, const float* gamma, const float* beta, const float* hi,              \
                     const double* a, double m, const double* sdy, const double* sdyx, float* dx) {         \
    bn::input_grad<T>(x, dy, rows, c, mean, inv, gamma, beta, hi, a, m, sdy, sdyx, dx);                     \
  }                                                                                                         \
  void clamp_forward(const float* x, float* y, int64_t n, float hi) { bn::clamp_forward<T>(x, y, n, hi); }  \
  void clamp_backward(const float* x, const float* dy, float* dx, int64_t n, float hi) {                    \
    bn::clamp_backward<T>(x, dy, dx, n, hi);                                                                \
  }
