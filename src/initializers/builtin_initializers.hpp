#pragma once
// Private: the initializers xdense ships (builtin_initializers.cpp), added to the registry when it is
// first used, so that a DenseOptions made before any static initialiser has run still finds them.

#include "../registry.hpp"
#include "xdense/initializer.hpp"

namespace xdense::detail {

void add_builtin_initializers(Registry<InitializerFactory>& registry);

}  // namespace xdense::detail
