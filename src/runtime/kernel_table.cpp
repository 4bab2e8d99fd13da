#include "runtime/kernel_table.h"

#include "kernels/runtime_quantize.h"

namespace qlite::runtime {
namespace {

KernelTable make_reference() {
  KernelTable t;
  t.isa = Isa::kReference;
  t.softmax_int8 = ref::softmax_int8;
  t.quantize_f32_to_int8 = ref::quantize_f32_to_int8;
  t.quantize_f32_to_uint8 = ref::quantize_f32_to_uint8;
  t.dequantize_int8 = ref::dequantize_int8;
  t.dequantize_uint8 = ref::dequantize_uint8;
  t.requantize_int8 = ref::requantize_int8;
  t.conv2d_f32 = ref::conv2d_f32;
  t.depthwise_conv2d_f32 = ref::depthwise_conv2d_f32;
  t.fully_connected_f32 = ref::fully_connected_f32;
  t.max_pool2d_f32 = ref::max_pool2d_f32;
  t.average_pool2d_f32 = ref::average_pool2d_f32;
  t.add_f32 = ref::add_f32;
  t.mean_hw_f32 = ref::mean_hw_f32;
  t.softmax_f32 = ref::softmax_f32;
  t.dequantize_f16 = ref::dequantize_f16;
  return t;
}

KernelTable make_for(Isa isa) {
  KernelTable t = make_reference();
  t.isa = isa;
  if (isa == Isa::kAvx512) {
    t.quantize_f32_to_int8 = kernels::quantize_f32_to_int8_avx512;
    t.dequantize_int8 = kernels::dequantize_int8_avx512;
  } else if (isa == Isa::kAvx2) {
    t.quantize_f32_to_int8 = kernels::quantize_f32_to_int8_avx2;
    t.dequantize_int8 = kernels::dequantize_int8_avx2;
  }
  return t;
}

}  // namespace

const KernelTable& kernel_table(Isa isa) {
  static const KernelTable tables[] = {make_reference(), make_for(Isa::kAvx2), make_for(Isa::kAvx512)};
  switch (isa) {
    case Isa::kReference: return tables[0];
    case Isa::kAvx2: return tables[1];
    case Isa::kAvx512: return tables[2];
  }
  return tables[0];
}

}  // namespace qlite::runtime
