#include <gtest/gtest.h>

#include "hemapath/core/error.h"
#include "hemapath/image/normalization.h"
#include "hemapath/image/tensor_convert.h"

namespace hemapath {
namespace {

// 1x2 image: pixel (0,0) = (0,128,255), pixel (0,1) = (10,20,30).
cv::Mat two_pixels() {
  cv::Mat m(1, 2, CV_8UC3);
  m.at<cv::Vec3b>(0, 0) = cv::Vec3b(0, 128, 255);
  m.at<cv::Vec3b>(0, 1) = cv::Vec3b(10, 20, 30);
  return m;
}

TEST(Normalization, UnitSymmetricStandardizeByHand) {
  const cv::Mat m = two_pixels();
  Normalization unit;
  torch::Tensor t = image_to_tensor(m, unit);
  ASSERT_EQ(t.sizes(), (std::vector<int64_t>{3, 1, 2}));
  EXPECT_EQ(t.dtype(), torch::kFloat);
  EXPECT_NEAR(t[1][0][0].item<float>(), 128.0 / 255, 1e-6);
  EXPECT_NEAR(t[2][0][0].item<float>(), 1.0, 1e-6);
  EXPECT_NEAR(t[2][0][1].item<float>(), 30.0 / 255, 1e-6);

  Normalization sym;
  sym.mode = "symmetric";
  t = image_to_tensor(m, sym);
  EXPECT_NEAR(t[0][0][0].item<float>(), -1.0, 1e-6);
  EXPECT_NEAR(t[1][0][0].item<float>(), 128 / 127.5 - 1, 1e-6);
  EXPECT_NEAR(t[2][0][0].item<float>(), 1.0, 1e-6);

  Normalization st;
  st.mode = "standardize";
  st.mean = {0.5, 0.4, 0.3};
  st.std = {0.2, 0.25, 0.5};
  t = image_to_tensor(m, st);
  EXPECT_NEAR(t[0][0][1].item<float>(), (10 / 255.0 - 0.5) / 0.2, 1e-5);
  EXPECT_NEAR(t[1][0][0].item<float>(), (128 / 255.0 - 0.4) / 0.25, 1e-5);
  EXPECT_NEAR(t[2][0][1].item<float>(), (30 / 255.0 - 0.3) / 0.5, 1e-5);

  for (const Normalization& n : {unit, sym, st}) {
    const cv::Mat back = tensor_to_image(image_to_tensor(m, n), n);
    EXPECT_EQ(cv::norm(back, m, cv::NORM_INF), 0) << n.mode;
  }
}

TEST(Normalization, NeedsStatisticsBeforeUse) {
  const Normalization n = Normalization::from_config(ConfigNode::parse("mode: standardize\n", "n.yaml"));
  EXPECT_TRUE(n.needs_statistics);
  EXPECT_THROW(image_to_tensor(two_pixels(), n), ConfigError);
  Normalization fitted = n;
  fitted.set_statistics({0.5, 0.5, 0.5}, {0.1, 0.2, 0.3});
  EXPECT_FALSE(fitted.needs_statistics);
  const Normalization back = Normalization::from_json(fitted.to_json());
  EXPECT_EQ(back.mode, "standardize");
  EXPECT_DOUBLE_EQ(back.std[2], 0.3);
  EXPECT_FALSE(back.needs_statistics);
}

TEST(Normalization, ConfigChecks) {
  const Normalization n = Normalization::from_config(
      ConfigNode::parse("mode: standardize\nmean: [0.7, 0.6, 0.5]\nstd: [0.1, 0.2, 0.3]\n", "n.yaml"));
  EXPECT_DOUBLE_EQ(n.mean[0], 0.7);
  EXPECT_DOUBLE_EQ(n.std[1], 0.2);
  EXPECT_FALSE(n.needs_statistics);
  for (const char* bad : {"mode: unit\nmean: [0.5, 0.5, 0.5]\n", "mode: standardize\nmean: [0.5, 0.5]\nstd: [1, 1]\n",
                          "mode: standardize\nmean: [0.5, 0.5, 0.5]\nstd: [1, 0, 1]\n",
                          "mode: standardize\nmean: [0.5, 0.5, 0.5]\n", "mode: zscore\n"})
    EXPECT_THROW(Normalization::from_config(ConfigNode::parse(bad, "n.yaml")), ConfigError) << bad;
}

TEST(ChannelStatistics, ConstructedImages) {
  // R: one pixel 51 (0.2) and three 255 (1.0): mean 0.8, var (0.36 + 3 * 0.04) / 4 = 0.12.
  // G: all 0. B: 0 and three 255: mean 0.75, var 0.1875.
  cv::Mat a(1, 1, CV_8UC3, cv::Scalar(51, 0, 0));
  cv::Mat b(1, 3, CV_8UC3, cv::Scalar(255, 0, 255));
  const auto [mean, sd] = channel_statistics({a, b});
  EXPECT_NEAR(mean[0], 0.8, 1e-12);
  EXPECT_NEAR(sd[0], std::sqrt(0.12), 1e-12);
  EXPECT_NEAR(mean[1], 0.0, 1e-12);
  EXPECT_NEAR(sd[1], 0.0, 1e-12);
  EXPECT_NEAR(mean[2], 0.75, 1e-12);
  EXPECT_NEAR(sd[2], std::sqrt(0.1875), 1e-12);
  EXPECT_THROW(channel_statistics({}), InputError);
  EXPECT_THROW(channel_statistics({cv::Mat(2, 2, CV_8UC1)}), InputError);
}

}  // namespace
}  // namespace hemapath
