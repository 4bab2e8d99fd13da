// The model.json half of load_model (serialize.cpp), from the file's text:
// what the fuzz target fuzz/model_json_fuzz.cpp feeds with arbitrary bytes.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "qlite/train/model.h"

namespace qlite {

// The architecture (built with seed 0, weights freshly initialised) and, when
// the text has a training_config, the compiled loss and optimizer, the epochs
// trained and the layers' training state (the optimizer's slots live in
// optimizer.safetensors and are not read). Any defect, also invalid JSON, is
// an Error whose message starts with `where`.
std::unique_ptr<Model> model_from_json_text(std::string_view text, const std::string& where);

// The same graph made of fresh, unbuilt layers, each from its layer's
// get_config() (a shared layer made once and shared by the same calls), so
// that build(seed) initialises every weight anew: what `qlite train --model`
// does with a model.json, and what the fuzz target checks it accepts.
std::unique_ptr<Model> fresh_model_from_config(const Model& model);

}  // namespace qlite
