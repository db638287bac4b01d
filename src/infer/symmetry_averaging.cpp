#include "hemapath/infer/symmetry_averaging.h"

#include "hemapath/core/error.h"

namespace hemapath {

namespace {
// The dihedral group of the square, ordered so that its first 1, 2 and 4 elements are
// themselves groups: identity; mirror; the two flips; then the quarter turns and transposes.
torch::Tensor view_of(const torch::Tensor& x, int k) {
  const int64_t h = 2, w = 3;
  switch (k) {
    case 0:
      return x;
    case 1:
      return x.flip({w});
    case 2:
      return x.flip({h});
    case 3:
      return x.flip({h, w});
    case 4:
      return x.transpose(h, w);
    case 5:
      return x.transpose(h, w).flip({w});  // quarter turn clockwise
    case 6:
      return x.transpose(h, w).flip({h});  // quarter turn anticlockwise
    default:
      return x.transpose(h, w).flip({h, w});
  }
}
}  // namespace

void check_symmetry_count(int views, const std::string& option) {
  HP_CHECK(views == 1 || views == 2 || views == 4 || views == 8, ConfigError, option, " is ", views,
           ": expected 1 (no averaging), 2 (mirror), 4 (flips) or 8 (flips and quarter turns)");
}

TensorFunction symmetry_averaged(TensorFunction network, int views) {
  check_symmetry_count(views, "symmetry views");
  if (views == 1) return network;
  return [network = std::move(network), views](const torch::Tensor& x) {
    HP_CHECK(x.dim() == 4, InputError, "symmetry averaging expects an NCHW batch, got ", x.dim(), " dimensions");
    HP_CHECK(views <= 4 || x.size(2) == x.size(3), InputError, "averaging over quarter turns needs square inputs, got ",
             x.size(2), "x", x.size(3));
    // One pass per view at the batch's own size: an inference engine's plans for that shape
    // serve every view, and the workspace does not grow with the view count.
    torch::Tensor sum = network(x);
    for (int k = 1; k < views; ++k) sum = sum + network(view_of(x, k).contiguous());
    return sum / views;
  };
}

}  // namespace hemapath
