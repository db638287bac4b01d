#include "hemapath/image/normalization.h"

#include "hemapath/core/error.h"

namespace hemapath {
namespace {

std::array<double, 3> read_triple(const ConfigNode& node, const std::string& key, bool positive) {
  std::vector<double> v;
  try {
    v = node.require<std::vector<double>>(key);
  } catch (const ConfigError&) {
    throw ConfigError(node.where(key) + " must be a list of 3 numbers (R, G, B on the [0,1] scale)");
  }
  HP_CHECK(v.size() == 3, ConfigError, node.where(key), " has ", v.size(),
           " values: expected 3 (R, G, B on the [0,1] scale)");
  for (double x : v)
    HP_CHECK(std::isfinite(x) && (!positive || x > 0), ConfigError, node.where(key), " contains ", x,
             positive ? ": expected positive numbers" : ": expected finite numbers");
  return {v[0], v[1], v[2]};
}

}  // namespace

Normalization Normalization::from_config(const ConfigNode& node) {
  Normalization n;
  n.mode = node.get_choice("mode", n.mode, {"unit", "symmetric", "standardize"});
  const bool has_mean = node.has("mean"), has_std = node.has("std");
  if (n.mode != "standardize") {
    HP_CHECK(!has_mean && !has_std, ConfigError, node.where(has_mean ? "mean" : "std"),
             " is only used with mode 'standardize', not '", n.mode, "'");
    return n;
  }
  HP_CHECK(has_mean == has_std, ConfigError, node.where(has_mean ? "std" : "mean"),
           " is missing: give both mean and std, or neither to compute them on the training split");
  if (has_mean) {
    n.mean = read_triple(node, "mean", false);
    n.std = read_triple(node, "std", true);
  } else {
    n.needs_statistics = true;
  }
  return n;
}

nlohmann::json Normalization::to_json() const {
  nlohmann::json j = {{"mode", mode}};
  if (mode == "standardize" && !needs_statistics) {
    j["mean"] = mean;
    j["std"] = std;
  }
  return j;
}

Normalization Normalization::from_json(const nlohmann::json& json) {
  ConfigNode node(json, "normalization");
  Normalization n = from_config(node);
  node.finish();
  return n;
}

void Normalization::set_statistics(const std::array<double, 3>& m, const std::array<double, 3>& s) {
  for (double x : s) HP_CHECK(x > 0, InputError, "normalization std ", x, " is not positive");
  mean = m;
  std = s;
  needs_statistics = false;
}

void Normalization::affine(std::array<double, 3>& scale, std::array<double, 3>& offset) const {
  HP_CHECK(!needs_statistics, ConfigError,
           "normalization 'standardize' has no mean/std yet: compute them on the training split first");
  for (int c = 0; c < 3; ++c) {
    if (mode == "unit") {
      scale[c] = 1.0 / 255;
      offset[c] = 0;
    } else if (mode == "symmetric") {
      scale[c] = 2.0 / 255;
      offset[c] = -1;
    } else if (mode == "standardize") {
      scale[c] = 1.0 / (255 * std[c]);
      offset[c] = -mean[c] / std[c];
    } else {
      throw ConfigError("normalization mode '" + mode + "' is not valid: expected unit, symmetric or standardize");
    }
  }
}

std::pair<std::array<double, 3>, std::array<double, 3>> channel_statistics(const std::vector<cv::Mat>& images) {
  HP_CHECK(!images.empty(), InputError, "channel statistics need at least one image");
  // Per-image mean/variance merged with Chan et al.'s pairwise update: exact in double
  // precision for any number of pixels, no catastrophic cancellation.
  double count = 0;
  std::array<double, 3> mean{0, 0, 0}, m2{0, 0, 0};
  for (size_t i = 0; i < images.size(); ++i) {
    const cv::Mat& im = images[i];
    HP_CHECK(!im.empty() && im.type() == CV_8UC3, InputError, "channel statistics: image ", i,
             " is empty or not 8-bit RGB (CV_8UC3)");
    cv::Scalar m, s;
    cv::meanStdDev(im, m, s);
    const double n = double(im.total());
    for (int c = 0; c < 3; ++c) {
      const double mc = m[c] / 255, vc = (s[c] / 255) * (s[c] / 255);
      const double delta = mc - mean[c], total = count + n;
      mean[c] += delta * n / total;
      m2[c] += vc * n + delta * delta * count * n / total;
    }
    count += n;
  }
  std::array<double, 3> sd;
  for (int c = 0; c < 3; ++c) sd[c] = std::sqrt(m2[c] / count);
  return {mean, sd};
}

}  // namespace hemapath
