#pragma once
/// Test-time augmentation by the image's symmetries: a cell has no up, down, left or right,
/// so a classifier's answer should not change when its crop is flipped or turned. Averaging
/// the logits over those views steadies the answer for cells near a class boundary.
#include <vector>

#include "hemapath/core/tensor_function.h"

namespace hemapath {

/// `network` applied to `views` flipped or turned copies of each NCHW batch, one pass each,
/// its logits averaged (softmax of the mean logits is the normalised geometric mean of the
/// views' probabilities). `views` is 1 (`network` itself), 2 (plus the mirror image), 4 (the
/// flips), 8 (flips and quarter turns: all symmetries of a square; square inputs only,
/// InputError otherwise) or 16 (those 8, and the same 8 of the image turned by 45 degrees
/// about its centre, bilinear with the border reflected: a cell has no preferred angle at
/// all); ConfigError for any other count.
TensorFunction symmetry_averaged(TensorFunction network, int views);

/// The view counts symmetry_averaged accepts: 1, 2, 4, 8, 16.
const std::vector<int>& symmetry_view_counts();

}  // namespace hemapath
