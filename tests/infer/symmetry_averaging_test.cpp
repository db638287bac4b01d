// Classifier logits averaged over flipped and turned views of each crop.
#include "hemapath/infer/symmetry_averaging.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "hemapath/core/error.h"

namespace hemapath {
namespace {

// A "network" that sees orientation: its logits are the image's pixels in order.
torch::Tensor pixels_as_logits(const torch::Tensor& x) { return x.flatten(1); }

torch::Tensor seeded_batch(int64_t n, int64_t h, int64_t w) {
  torch::manual_seed(3);
  return torch::rand({n, 2, h, w});
}

TEST(SymmetryAveraging, OneViewIsTheNetworkItself) {
  const torch::Tensor x = seeded_batch(3, 5, 5);
  EXPECT_TRUE(torch::equal(symmetry_averaged(pixels_as_logits, 1)(x), pixels_as_logits(x)));
}

TEST(SymmetryAveraging, TwoAndFourViewsAverageTheMirrorsAndFlips) {
  // The top-left pixel of each view is one of the image's corners.
  const TensorFunction top_left = [](const torch::Tensor& x) { return x.select(3, 0).select(2, 0); };
  const torch::Tensor x = seeded_batch(3, 4, 6);
  const auto corner = [&](int64_t r, int64_t c) { return x.select(3, c).select(2, r); };
  EXPECT_TRUE(torch::allclose(symmetry_averaged(top_left, 2)(x), (corner(0, 0) + corner(0, 5)) / 2));
  EXPECT_TRUE(torch::allclose(symmetry_averaged(top_left, 4)(x),
                              (corner(0, 0) + corner(0, 5) + corner(3, 0) + corner(3, 5)) / 4));
}

TEST(SymmetryAveraging, EightViewsAnswerTheSameForATurnedOrFlippedCrop) {
  const torch::Tensor x = seeded_batch(2, 5, 5);
  const TensorFunction averaged = symmetry_averaged(pixels_as_logits, 8);
  const torch::Tensor expected = averaged(x);
  for (const torch::Tensor& turned :
       {torch::rot90(x, 1, {2, 3}), torch::rot90(x, 3, {2, 3}), x.flip({2}), x.transpose(2, 3)})
    EXPECT_TRUE(torch::allclose(averaged(turned), expected, 1e-6, 1e-6));
  // Four views are not enough for quarter turns.
  const TensorFunction flips = symmetry_averaged(pixels_as_logits, 4);
  EXPECT_TRUE(torch::allclose(flips(x.flip({3})), flips(x), 1e-6, 1e-6));
  EXPECT_FALSE(torch::allclose(flips(torch::rot90(x, 1, {2, 3})), flips(x), 1e-3, 1e-3));
}

TEST(SymmetryAveraging, SixteenViewsAddTheCropTurnedBy45Degrees) {
  // A horizontal bar through the centre, seen by a "network" that reads the main diagonal:
  // the square's 8 symmetries keep the bar horizontal or vertical, crossing the diagonal at
  // one pixel; turned by 45 degrees it lies along one diagonal or the other.
  torch::Tensor bar = torch::zeros({1, 1, 15, 15});
  bar.select(2, 7).fill_(1);
  const TensorFunction diagonal = [](const torch::Tensor& x) { return x.select(1, 0).diagonal(0, 1, 2).mean(1, true); };
  const double eight = symmetry_averaged(diagonal, 8)(bar).item<double>();
  const double sixteen = symmetry_averaged(diagonal, 16)(bar).item<double>();
  EXPECT_NEAR(eight, 1.0 / 15, 1e-6);
  // Half the turned views put the bar on the main diagonal (about 1 along it), so the average
  // is about (8 x 1/15 + 4 x 1 + 4 x 1/15) / 16.
  EXPECT_GT(sixteen, 0.25) << sixteen;
  EXPECT_LT(sixteen, 0.35) << sixteen;
  // A turn or flip of the crop leaves all 16 views' average as it was, up to interpolation.
  const torch::Tensor x = seeded_batch(2, 9, 9);
  const TensorFunction averaged = symmetry_averaged(pixels_as_logits, 16);
  EXPECT_TRUE(torch::allclose(averaged(torch::rot90(x, 1, {2, 3})), averaged(x), 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(averaged(x.flip({3})), averaged(x), 1e-5, 1e-5));
}

TEST(SymmetryAveraging, EachSampleIsAveragedOverItsOwnViews) {
  const torch::Tensor x = seeded_batch(4, 6, 6);
  const TensorFunction averaged = symmetry_averaged(pixels_as_logits, 8);
  const torch::Tensor together = averaged(x);
  ASSERT_EQ(together.sizes(), (std::vector<int64_t>{4, 72}));
  for (int64_t i = 0; i < 4; ++i)
    EXPECT_TRUE(torch::allclose(together[i], averaged(x.narrow(0, i, 1))[0], 1e-6, 1e-6)) << "sample " << i;
}

TEST(SymmetryAveraging, BadCountsAndShapesAreRefused) {
  EXPECT_THROW(symmetry_averaged(pixels_as_logits, 3), ConfigError);
  EXPECT_THROW(symmetry_averaged(pixels_as_logits, 0), ConfigError);
  EXPECT_THROW(symmetry_averaged(pixels_as_logits, 12), ConfigError);
  EXPECT_THROW(symmetry_averaged(pixels_as_logits, 16)(seeded_batch(1, 4, 6)), InputError);
  EXPECT_THROW(symmetry_averaged(pixels_as_logits, 8)(seeded_batch(1, 4, 6)), InputError);
  EXPECT_THROW(symmetry_averaged(pixels_as_logits, 2)(torch::zeros({4, 6})), InputError);
  EXPECT_NO_THROW(symmetry_averaged(pixels_as_logits, 4)(seeded_batch(1, 4, 6)));
}

}  // namespace
}  // namespace hemapath
