#pragma once
/// \file
/// Umbrella header: everything needed to build, train and use a model.

#include "xdense/activation.hpp"
#include "xdense/builtin_activations.hpp"
#include "xdense/checkpoint.hpp"
#include "xdense/config.hpp"
#include "xdense/csv.hpp"
#include "xdense/dense.hpp"
#include "xdense/error.hpp"
#include "xdense/fusion.hpp"
#include "xdense/initializer.hpp"
#include "xdense/layer.hpp"
#include "xdense/loss.hpp"
#include "xdense/model_file.hpp"
#include "xdense/optimizer.hpp"
#include "xdense/preprocessing.hpp"
#include "xdense/random.hpp"
#include "xdense/sequential.hpp"
#include "xdense/tensor.hpp"
#include "xdense/threads.hpp"
