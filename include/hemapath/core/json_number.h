#pragma once
/// JSON has no NaN or infinity: figures that are undefined (no samples, 0/0) are written as null.
#include <cmath>
#include <nlohmann/json.hpp>

namespace hemapath {

inline nlohmann::json number_or_null(double value) {
  return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
}

}  // namespace hemapath
