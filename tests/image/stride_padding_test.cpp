// Padding to a network stride and cropping back round-trips exactly.
#include <gtest/gtest.h>

#include "hemapath/core/error.h"
#include "hemapath/image/stride_padding.h"

namespace hemapath {
namespace {

TEST(StridePadding, PaddingToMultiplesSplitsEvenly) {
  const Padding p = padding_to_multiple(45, 64, 16);  // 45 -> 48, 64 stays
  EXPECT_EQ(p.top, 1);
  EXPECT_EQ(p.bottom, 2);
  EXPECT_EQ(p.left, 0);
  EXPECT_EQ(p.right, 0);
  EXPECT_TRUE(padding_to_multiple(32, 32, 32).empty());
  EXPECT_EQ(padding_to_multiple(1, 1, 32).bottom, 16);  // 1 -> 32: 15 on top, 16 below
  EXPECT_THROW(padding_to_multiple(10, 10, 0), InputError);
  EXPECT_THROW(padding_to_multiple(0, 10, 8), InputError);
}

TEST(StridePadding, RoundTripIsExactForOddSizes) {
  torch::manual_seed(0);
  for (auto [h, w] : std::vector<std::pair<int64_t, int64_t>>{{45, 37}, {1, 1}, {3, 70}, {64, 64}}) {
    SCOPED_TRACE(std::to_string(h) + "x" + std::to_string(w));
    const torch::Tensor image = torch::rand({2, 3, h, w});
    const Padding p = padding_to_multiple(h, w, 16);
    const torch::Tensor padded = pad_image(image, p);
    EXPECT_EQ(padded.size(2) % 16, 0);
    EXPECT_EQ(padded.size(3) % 16, 0);
    EXPECT_TRUE(torch::equal(crop_padding(padded, p), image));
    // A map of another channel count (the network's output) crops the same way.
    EXPECT_EQ(crop_padding(torch::zeros({2, 5, padded.size(2), padded.size(3)}), p).sizes(),
              (std::vector<int64_t>{2, 5, h, w}));
  }
}

TEST(StridePadding, ReflectsWhereItCan) {
  const torch::Tensor row = torch::arange(4, torch::kFloat).view({1, 1, 4});  // [C,H,W] = 1 x 1 x 4
  const torch::Tensor padded = pad_image(row.expand({1, 3, 4}).contiguous(), {0, 0, 1, 2});
  // Reflection: 1 | 0 1 2 3 | 2 1
  EXPECT_TRUE(torch::equal(padded[0][0], torch::tensor({1.0f, 0.0f, 1.0f, 2.0f, 3.0f, 2.0f, 1.0f})));
  // Too small to reflect: replicated instead of failing.
  const torch::Tensor tiny = pad_image(torch::ones({1, 1, 1, 1}), padding_to_multiple(1, 1, 8));
  EXPECT_EQ(tiny.sizes(), (std::vector<int64_t>{1, 1, 8, 8}));
  EXPECT_TRUE(torch::equal(tiny, torch::ones({1, 1, 8, 8})));
}

}  // namespace
}  // namespace hemapath
