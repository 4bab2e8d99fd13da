// Quantization: parameters, fake quantization, quantizers and (to come) the
// QAT API (quantize_model, QuantizeConfig, ...).
#pragma once

// ---- Range -> scale/zero point, fake quantization, quantizers ----------------
#include "qlite/quant/qparams.h"

// ---- QAT API (quantize_model, QuantizeConfig, ...) ---------------------------
// Added by the QAT area below this line.
#include "qlite/quant/qat.h"
