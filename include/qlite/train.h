// Training: layers, models, optimizers, losses, save/load.
#pragma once
#include "qlite/train/layer.h"
#include "qlite/train/layer_kind.h"
#include "qlite/train/layers.h"
#include "qlite/train/model.h"
#include "qlite/train/rewrite.h"
#include "qlite/train/applications.h"
