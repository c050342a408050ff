// The composition root's list of plugins: every router, metric provider and notifier canaryd
// ships, registered in one place (src/plugins/builtin.cpp).
#pragma once

#include "canaryd/plugins/registry.h"

namespace canaryd::plugins {

// Built once; the same object for every caller.
const Registry& builtin();

}  // namespace canaryd::plugins
