#include "hemapath/infer/symmetry_averaging.h"

#include <algorithm>
#include <cmath>

#include "hemapath/core/error.h"

namespace hemapath {

namespace {
// The symmetries of the square as bits: 1 mirrors left-right, 2 flips top-bottom, 4 transposes
// first. Views 0-1 and 0-3 are themselves groups (mirror; the flips); 5 and 6 are the quarter turns.
torch::Tensor view_of(const torch::Tensor& x, int k) {
  torch::Tensor v = (k & 4) ? x.transpose(2, 3) : x;
  if (k & 1) v = v.flip({3});
  if (k & 2) v = v.flip({2});
  return v;
}

// x turned by 45 degrees about its centre (bilinear, border reflected).
torch::Tensor turned_45(const torch::Tensor& x) {
  const double c = std::sqrt(0.5);
  const torch::Tensor theta =
      torch::tensor({{c, -c, 0.0}, {c, c, 0.0}}, x.options()).unsqueeze(0).expand({x.size(0), 2, 3});
  const torch::Tensor grid = torch::nn::functional::affine_grid(theta, x.sizes(), false);
  return torch::nn::functional::grid_sample(
      x, grid, torch::nn::functional::GridSampleFuncOptions().padding_mode(torch::kReflection).align_corners(false));
}

void check_symmetry_count(int views) {
  const std::vector<int>& counts = symmetry_view_counts();
  HP_CHECK(std::find(counts.begin(), counts.end(), views) != counts.end(), ConfigError, "symmetry views is ", views,
           ": expected 1 (no averaging), 2 (mirror), 4 (flips), 8 (flips and quarter turns) or 16 (those 8 and the "
           "8 of the image turned by 45 degrees)");
}
}  // namespace

const std::vector<int>& symmetry_view_counts() {
  static const std::vector<int> counts{1, 2, 4, 8, 16};
  return counts;
}

TensorFunction symmetry_averaged(TensorFunction network, int views) {
  check_symmetry_count(views);
  if (views == 1) return network;
  return [network = std::move(network), views](const torch::Tensor& x) {
    HP_CHECK(x.dim() == 4, InputError, "symmetry averaging expects an NCHW batch, got ", x.dim(), " dimensions");
    HP_CHECK(views <= 4 || x.size(2) == x.size(3), InputError, "averaging over quarter turns needs square inputs, got ",
             x.size(2), "x", x.size(3));
    // One pass per view at the batch's own size: an inference engine's plans for that shape
    // serve every view, and the workspace does not grow with the view count.
    torch::Tensor sum = network(x);
    for (int k = 1; k < std::min(views, 8); ++k) sum = sum + network(view_of(x, k).contiguous());
    if (views == 16) {
      const torch::Tensor turned = turned_45(x);
      for (int k = 0; k < 8; ++k) sum = sum + network(view_of(turned, k).contiguous());
    }
    return sum / views;
  };
}

}  // namespace hemapath
