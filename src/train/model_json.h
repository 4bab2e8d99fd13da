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

}  // namespace qlite
