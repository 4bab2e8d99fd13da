// qlite core: the one error type, shapes, data types, aligned tensors,
// a deterministic random generator, CPU feature detection and a thread pool.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <type_traits>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace qlite {

// The single error type of the library. Messages name the file, layer,
// tensor or op at fault; only tools/qlite turns an Error into an exit code.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws Error(message) when cond is false. The message is built even when
// the check passes: use it on cold paths (loading, building, preparing).
inline void check(bool cond, const std::string& message) {
  if (!cond) throw Error(message);
}

// The same, but the message expression is evaluated only on failure: use it on
// paths that run per step or per invoke.
#define QLITE_CHECK(cond, msg)               \
  do {                                       \
    if (!(cond)) throw ::qlite::Error(msg);  \
  } while (0)

// One padding enum for layers, kernels and the .tflite format, numbered as
// TFLite's schema numbers it (so the writer stores it as is).
enum class Padding : int8_t { kSame = 0, kValid = 1 };

// One activation enum for layers (Keras' activation=), the kernels' fused
// activations and the .tflite format. Values 0..5 are TFLite's
// ActivationFunctionType, so the writer stores a fused activation as it is;
// kLinear is Keras' "linear" and TFLite's NONE. Keras activations that TFLite
// has only as ops of their own (LOGISTIC, SOFTMAX, HARD_SWISH) take values
// outside TFLite's range (from 100 up): they never appear in a file, and a
// file holding one is rejected by the validator as an unknown activation.
enum class Activation : int8_t {
  kLinear = 0,
  kRelu = 1,
  kReluN1To1 = 2,
  kRelu6 = 3,
  kTanh = 4,
  kSignBit = 5,
  kSigmoid = 100,    // Keras "sigmoid" -> TFLite LOGISTIC
  kSoftmax = 101,    // Keras "softmax" over the last axis -> SOFTMAX
  kHardSwish = 102,  // Keras "hard_swish": x * relu6(x + 3) / 6 -> HARD_SWISH
};
// TFLite's name of an activation ("NONE", "RELU", "RELU6", ...; the op's name
// for the activations TFLite has only as ops: "LOGISTIC", "SOFTMAX", "HARD_SWISH").
constexpr const char* activation_label(Activation a) {
  switch (a) {
    case Activation::kLinear: return "NONE";
    case Activation::kRelu: return "RELU";
    case Activation::kReluN1To1: return "RELU_N1_TO_1";
    case Activation::kRelu6: return "RELU6";
    case Activation::kTanh: return "TANH";
    case Activation::kSignBit: return "SIGN_BIT";
    case Activation::kSigmoid: return "LOGISTIC";
    case Activation::kSoftmax: return "SOFTMAX";
    case Activation::kHardSwish: return "HARD_SWISH";
  }
  return "UNKNOWN_ACTIVATION";  // a value read from an untrusted file
}
// True for the activations TFLite 2.9's int8 kernels apply as a clamp fused
// into the op (CalculateActivationRangeQuantized): NONE, RELU, RELU_N1_TO_1,
// RELU6. Every other activation becomes an op of its own after the op that
// produces its input (the shared rewrite splits it off; tanh included: TFLite
// rejects a fused TANH on int8 CONV_2D / FULLY_CONNECTED).
constexpr bool activation_fusable(Activation a) {
  return a == Activation::kLinear || a == Activation::kRelu || a == Activation::kReluN1To1 ||
         a == Activation::kRelu6;
}

enum class DType : uint8_t { kFloat32, kFloat16, kInt32, kInt8, kUInt8, kInt64 };

size_t dtype_size(DType t);
const char* dtype_name(DType t);

using Shape = std::vector<int64_t>;

// Product of dims; throws on negative dims or overflow past 2^62.
int64_t shape_numel(const Shape& s);
std::string shape_str(const Shape& s);  // "(28, 28, 1)"

// A dense, row-major, 64-byte-aligned tensor that owns its storage.
// resize() keeps the allocation when it is large enough, so buffers reused
// across steps do not allocate once they reached their high-water mark.
class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(Shape shape, DType dtype = DType::kFloat32);  // zero-filled

  Tensor(const Tensor& other);
  Tensor& operator=(const Tensor& other);
  Tensor(Tensor&&) noexcept = default;
  Tensor& operator=(Tensor&&) noexcept = default;

  // A tensor over memory it does not own (e.g. a caller's array), read in
  // place: the memory must stay valid, and unchanged by others, while the
  // tensor is used. It may lack the owned storage's 64-byte alignment and
  // spare bytes past the end, so it is for code that copies rows out of it
  // (Model::fit / evaluate / predict's inputs), not for vector kernels.
  // Copies own their storage; resizing it allocates owned storage.
  static Tensor borrow(void* data, Shape shape, DType dtype = DType::kFloat32);
  bool borrowed() const { return !data_.get_deleter().owned; }

  const Shape& shape() const { return shape_; }
  int64_t dim(size_t i) const { return shape_.at(i); }
  size_t rank() const { return shape_.size(); }
  DType dtype() const { return dtype_; }
  int64_t numel() const { return numel_; }
  size_t nbytes() const { return static_cast<size_t>(numel_) * dtype_size(dtype_); }
  bool empty() const { return numel_ == 0; }

  // Changes shape and dtype; contents are unspecified afterwards (not zeroed).
  // Once the storage and the shape's capacity are large enough, resizing
  // allocates nothing (so per-step buffers are allocation-free after warm-up).
  void resize(const Shape& shape, DType dtype = DType::kFloat32);
  void resize(std::initializer_list<int64_t> dims, DType dtype = DType::kFloat32);
  // resize to [batch, sample...] without building a temporary shape.
  void resize_batched(int64_t batch, const Shape& sample, DType dtype = DType::kFloat32);
  // Same element count, new shape; contents kept.
  void reshape(const Shape& shape);
  void zero();

  void* raw() { return data_.get(); }
  const void* raw() const { return data_.get(); }
  float* f32();
  const float* f32() const;
  template <class T>
  T* data() { return static_cast<T*>(raw()); }
  template <class T>
  const T* data() const { return static_cast<const T*>(raw()); }

  std::span<float> span_f32() { return {f32(), static_cast<size_t>(numel_)}; }
  std::span<const float> span_f32() const { return {f32(), static_cast<size_t>(numel_)}; }

 private:
  struct Free {
    constexpr Free() noexcept : owned(true) {}
    constexpr explicit Free(bool owns) noexcept : owned(owns) {}
    bool owned;  // false for borrow()'s memory
    void operator()(std::byte* p) const;
  };
  // Sets shape_ to [lead (if >= 0), dims...] in place and makes room for the data.
  void reshape_storage(int64_t lead, const int64_t* dims, size_t rank, DType dtype);
  Shape shape_;
  DType dtype_ = DType::kFloat32;
  int64_t numel_ = 0;
  size_t capacity_ = 0;  // bytes
  std::unique_ptr<std::byte[], Free> data_;
};

// xoshiro256** seeded by splitmix64: fast, and the same numbers on every
// platform and standard library (std distributions are not portable).
class Rng {
 public:
  explicit Rng(uint64_t seed = 0);
  uint64_t next_u64();
  float uniform();                 // [0, 1)
  float uniform(float lo, float hi);
  float normal();                  // standard normal (Box-Muller)
  uint64_t below(uint64_t n);      // uniform integer in [0, n), unbiased
  template <class T>
  void shuffle(std::vector<T>& v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(i)]);
  }

 private:
  uint64_t s_[4];
};

// CPU features, detected once.
struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512dq = false;
  bool avx512vl = false;
  bool avx512vnni = false;
};
const CpuFeatures& cpu_features();

// The instruction-set path kernels take. The widest path the CPU supports is
// chosen once; the environment variable QLITE_ISA=reference|avx2|avx512
// forces a narrower one (asking for one the CPU lacks is an error).
enum class Isa : uint8_t { kReference = 0, kAvx2 = 1, kAvx512 = 2 };
Isa active_isa();
const char* isa_name(Isa isa);

// A fixed pool of worker threads. parallel_for splits [0, n) into at most
// num_threads() contiguous chunks, deterministically for a given n and thread
// count, so reductions done per chunk in chunk order are reproducible.
class ThreadPool {
 public:
  explicit ThreadPool(int num_threads = 1);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return num_threads_; }
  // fn(begin, end, chunk_index) for each chunk; at most num_threads() chunks of
  // at least min_chunk items. Runs inline when there is one chunk. An exception
  // thrown by fn is rethrown in the caller. Takes any callable by reference
  // (no std::function), so a call allocates nothing.
  template <class F>
  void parallel_for(int64_t n, F&& fn, int64_t min_chunk = 1) {
    using Fn = std::remove_reference_t<F>;
    run(n, min_chunk,
        [](void* ctx, int64_t b, int64_t e, int c) { (*static_cast<Fn*>(ctx))(b, e, c); },
        const_cast<void*>(static_cast<const void*>(&fn)));
  }

 private:
  using Thunk = void (*)(void* ctx, int64_t begin, int64_t end, int chunk);
  void run(int64_t n, int64_t min_chunk, Thunk thunk, void* ctx);
  struct Impl;
  int num_threads_;
  std::unique_ptr<Impl> impl_;
};

// pool->parallel_for, or fn(0, n, 0) inline when pool is null.
template <class F>
void parallel_for(ThreadPool* pool, int64_t n, F&& fn, int64_t min_chunk = 1) {
  if (n <= 0) return;
  if (pool) pool->parallel_for(n, fn, min_chunk);
  else fn(int64_t{0}, n, 0);
}

// Number of hardware threads (at least 1).
int hardware_threads();

}  // namespace qlite
