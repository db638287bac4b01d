#include "hemapath/image/stain_normalization.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <opencv2/imgproc.hpp>
#include <random>
#include <string>

#include "hemapath/core/error.h"
#include "test_support.h"

namespace hemapath {
namespace {

using test::error_of;

// H and E OD vectors (rows R, G, B) of the reference matrix the common Macenko implementations
// normalise to (e.g. schaugf/HEnorm_python).
const cv::Vec3d kHaematoxylin(0.5626, 0.7201, 0.4062);
const cv::Vec3d kEosin(0.2159, 0.8012, 0.5581);

cv::Vec3d unit(const cv::Vec3d& v) { return v / cv::norm(v); }

// Rodrigues rotation of v about `axis` by `degrees`.
cv::Vec3d rotate(const cv::Vec3d& v, const cv::Vec3d& axis, double degrees) {
  const cv::Vec3d k = unit(axis);
  const double t = degrees * CV_PI / 180;
  return v * std::cos(t) + k.cross(v) * std::sin(t) + k * k.dot(v) * (1 - std::cos(t));
}

cv::Matx32d stain_matrix(const cv::Vec3d& h, const cv::Vec3d& e) {
  const cv::Vec3d a = unit(h), b = unit(e);
  return cv::Matx32d(a[0], b[0], a[1], b[1], a[2], b[2]);
}

cv::Vec3d column(const cv::Matx32d& m, int c) { return cv::Vec3d(m(0, c), m(1, c), m(2, c)); }

double cosine(const cv::Vec3d& a, const cv::Vec3d& b) { return a.dot(b) / (cv::norm(a) * cv::norm(b)); }

// A stand-in for the two stains of the normalisation tests: the reference's (published, B)
// and a visibly different protocol's (A: each vector turned by 8 degrees).
cv::Matx32d reference_stains() { return stain_matrix(kHaematoxylin, kEosin); }
cv::Matx32d other_stains() { return stain_matrix(rotate(kHaematoxylin, {0, 0, 1}, 8), rotate(kEosin, {1, 0, 0}, -8)); }

struct Synthetic {
  cv::Mat rgb;     // CV_8UC3
  cv::Mat tissue;  // CV_8U, 255 where the pixel was made of stain (the rest is background)
};

// A 8-bit RGB "H&E" image made by the Beer-Lambert model I = io * 10^-(S c): 15% near-white
// background, then nuclei (mostly H), cytoplasm/stroma (mostly E) and mixtures, with
// concentrations drawn from a seeded generator and multiplied by `strength` (darker or
// lighter staining). The same seed gives the same concentration field for any stains/strength,
// so two images differ only in their staining.
Synthetic synthesise(const cv::Matx32d& stains, uint64_t seed, double strength = 1.0, int rows = 96, int cols = 96,
                     double io = 240) {
  std::mt19937_64 rng(seed);
  auto uniform = [&](double lo, double hi) { return lo + (hi - lo) * double(rng() >> 11) * 0x1.0p-53; };
  Synthetic s{cv::Mat(rows, cols, CV_8UC3), cv::Mat(rows, cols, CV_8U, cv::Scalar(0))};
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      const double kind = uniform(0, 1);
      cv::Vec3b& px = s.rgb.at<cv::Vec3b>(r, c);
      if (kind < 0.15) {
        for (int k = 0; k < 3; ++k) px[k] = cv::saturate_cast<uchar>(uniform(236, 255));
        uniform(0, 1);  // keep the draw count per pixel fixed
        continue;
      }
      double h, e;
      if (kind < 0.40) {
        h = uniform(0.45, 1.1), e = uniform(0.0, 0.05);
      } else if (kind < 0.65) {
        h = uniform(0.0, 0.05), e = uniform(0.75, 1.3);
      } else {
        h = uniform(0.2, 0.8), e = uniform(0.3, 0.9);
      }
      const cv::Vec2d conc(strength * h, strength * e);
      const cv::Vec3d od = stains * conc;
      for (int k = 0; k < 3; ++k) px[k] = cv::saturate_cast<uchar>(io * std::pow(10.0, -od[k]));
      s.tissue.at<uchar>(r, c) = 255;
    }
  }
  return s;
}

cv::Mat lab_of(const cv::Mat& rgb) {
  cv::Mat f, lab;
  rgb.convertTo(f, CV_32F, 1.0 / 255);
  cv::cvtColor(f, lab, cv::COLOR_RGB2Lab);
  return lab;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

class TempDir {
 public:
  TempDir() : path_(std::filesystem::temp_directory_path() / ("hemapath_stain_norm_" + std::to_string(getpid()))) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

TEST(StainNormalization, MacenkoRecoversAKnownStainMatrix) {
  // Published vectors turned a little, so a hard-coded answer could not pass.
  const cv::Vec3d h = unit(rotate(kHaematoxylin, {1, -1, 0}, 4));
  const cv::Vec3d e = unit(rotate(kEosin, {0, 1, -1}, -3));
  const Synthetic image = synthesise(stain_matrix(h, e), 7, 1.0, 128, 128);

  const cv::Matx32d found = estimate_macenko_stains(image.rgb);
  for (int c = 0; c < 2; ++c) EXPECT_NEAR(cv::norm(column(found, c)), 1.0, 1e-9) << "column " << c;
  // cos 0.999 is 2.6 degrees; the true H and E are 22 degrees apart, so a swapped or
  // mis-estimated pair fails.
  EXPECT_GT(cosine(column(found, 0), h), 0.999);
  EXPECT_GT(cosine(column(found, 1), e), 0.999);
  EXPECT_LT(cosine(column(found, 0), e), 0.95);

  // The same matrix from a stronger staining and another field: the estimate is of the stain
  // directions, not of the amounts.
  const cv::Matx32d again = estimate_macenko_stains(synthesise(stain_matrix(h, e), 8, 1.3).rgb);
  EXPECT_GT(cosine(column(again, 0), h), 0.999);
  EXPECT_GT(cosine(column(again, 1), e), 0.999);
}

TEST(StainNormalization, MacenkoMapsOneStainingOntoTheReference) {
  // Same concentration field (seed 11) stained two ways: the source with other stain vectors
  // and 30% more dye. Normalised, each tissue pixel should take the reference's colour.
  const Synthetic reference = synthesise(reference_stains(), 11);
  const Synthetic source = synthesise(other_stains(), 11, 1.3);
  const StainNormalizer n = StainNormalizer::fit("macenko", reference.rgb);
  EXPECT_GT(cosine(column(n.stains, 0), kHaematoxylin), 0.999);
  EXPECT_GT(cosine(column(n.stains, 1), kEosin), 0.999);

  const cv::Mat out = n.apply(source.rgb);
  ASSERT_EQ(out.type(), CV_8UC3);
  ASSERT_EQ(out.size(), source.rgb.size());
  // Per tissue pixel, in 8-bit levels: the source is 11-22 levels off the reference per
  // channel; normalised it is within rounding of it (measured ~0.5).
  cv::Mat diff;
  cv::absdiff(source.rgb, reference.rgb, diff);
  const cv::Scalar before = cv::mean(diff, reference.tissue);
  cv::absdiff(out, reference.rgb, diff);
  const cv::Scalar after = cv::mean(diff, reference.tissue);
  const cv::Scalar out_mean = cv::mean(out, reference.tissue), ref_mean = cv::mean(reference.rgb, reference.tissue);
  for (int c = 0; c < 3; ++c) {
    EXPECT_GT(before[c], 10) << "channel " << c;
    EXPECT_LT(after[c], 1.5) << "channel " << c;
    EXPECT_NEAR(out_mean[c], ref_mean[c], 1.0) << "channel " << c;
  }

  // Background (236..255 in the source) carries no stain and comes out near io = 240 grey.
  cv::Mat background;
  cv::bitwise_not(reference.tissue, background);
  const cv::Scalar bg_mean = cv::mean(out, background);
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(bg_mean[c], 240, 2) << "channel " << c;
  for (int r = 0; r < out.rows; ++r) {
    for (int c = 0; c < out.cols; ++c) {
      if (!background.at<uchar>(r, c)) continue;
      for (int k = 0; k < 3; ++k) ASSERT_GE(out.at<cv::Vec3b>(r, c)[k], 230) << "pixel " << r << "," << c;
    }
  }

  // The reference normalised to itself barely moves.
  cv::absdiff(n.apply(reference.rgb), reference.rgb, diff);
  const cv::Scalar self = cv::mean(diff, reference.tissue);
  for (int c = 0; c < 3; ++c) EXPECT_LT(self[c], 1.0) << "channel " << c;
}

TEST(StainNormalization, ReinhardMatchesTheReferenceLabStatistics) {
  const Synthetic reference = synthesise(reference_stains(), 21);
  const Synthetic source = synthesise(other_stains(), 22, 1.4);
  const StainNormalizer n = StainNormalizer::fit("reinhard", reference.rgb);
  cv::Scalar ref_mean, ref_sd;
  cv::meanStdDev(lab_of(reference.rgb), ref_mean, ref_sd);
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(n.lab_mean[c], ref_mean[c], 1e-4);
    EXPECT_NEAR(n.lab_std[c], ref_sd[c], 1e-4);
  }
  const cv::Mat out = n.apply(source.rgb);
  ASSERT_EQ(out.type(), CV_8UC3);
  ASSERT_EQ(out.size(), source.rgb.size());
  cv::Scalar out_mean, out_sd, src_mean, src_sd;
  cv::meanStdDev(lab_of(out), out_mean, out_sd);
  cv::meanStdDev(lab_of(source.rgb), src_mean, src_sd);
  // The output is the source's L*a*b* mapped affinely onto the reference's mean and std, then
  // rounded to 8 bits: rounding moves a pixel by at most half a level per channel (about 0.2 L*,
  // 0.5 a*/b* units), zero-mean over 9216 pixels, so means and stds can move by a few
  // hundredths; the few source background pixels pushed past white and clipped add about as
  // much (measured: at most 0.09). The source starts 1.6 to 7 units away.
  const double tolerance = 0.25;
  for (int c = 0; c < 3; ++c) {
    EXPECT_GT(std::abs(src_mean[c] - ref_mean[c]) + std::abs(src_sd[c] - ref_sd[c]), 1.5) << "channel " << c;
    EXPECT_NEAR(out_mean[c], ref_mean[c], tolerance) << "channel " << c;
    EXPECT_NEAR(out_sd[c], ref_sd[c], tolerance) << "channel " << c;
  }

  // A flat image (std 0) is only shifted, not blown up by a division by zero.
  const cv::Mat flat(8, 8, CV_8UC3, cv::Scalar(200, 120, 170));
  cv::Scalar flat_mean, flat_sd;
  cv::meanStdDev(lab_of(n.apply(flat)), flat_mean, flat_sd);
  EXPECT_NEAR(flat_mean[0], ref_mean[0], 0.5);
  EXPECT_LT(flat_sd[0], 0.5);
}

TEST(StainNormalization, JsonRoundTripGivesIdenticalOutput) {
  const Synthetic reference = synthesise(reference_stains(), 31);
  const Synthetic source = synthesise(other_stains(), 32, 0.8);
  TempDir dir;
  for (const std::string method : {"reinhard", "macenko"}) {
    SCOPED_TRACE(method);
    MacenkoOptions options;
    options.alpha = 2;  // not the default, so a lost option would show
    options.io = 245;
    const StainNormalizer n = StainNormalizer::fit(method, reference.rgb, options);
    const cv::Mat expected = n.apply(source.rgb);

    const nlohmann::json json = n.to_json();
    EXPECT_EQ(json.at("method"), method);
    const StainNormalizer copy = StainNormalizer::from_json(json, "memory");
    EXPECT_EQ(cv::norm(copy.apply(source.rgb), expected, cv::NORM_INF), 0);

    const std::string path = dir / (method + "/normaliser.json");
    n.save(path);
    const StainNormalizer loaded = StainNormalizer::load(path);
    EXPECT_EQ(loaded.method, method);
    EXPECT_EQ(loaded.to_json(), json);
    EXPECT_EQ(cv::norm(loaded.apply(source.rgb), expected, cv::NORM_INF), 0);
    if (method == "macenko") {
      EXPECT_EQ(loaded.options.alpha, 2);
      EXPECT_EQ(loaded.options.io, 245);
    }
  }
}

TEST(StainNormalization, BadJsonNamesTheSourceAndTheField) {
  const StainNormalizer macenko = StainNormalizer::fit("macenko", synthesise(reference_stains(), 41).rgb);
  const nlohmann::json good = macenko.to_json();
  auto config_error = [](const nlohmann::json& j) {
    return error_of<ConfigError>([&] { StainNormalizer::from_json(j, "norm.json"); });
  };

  std::string m = config_error(nlohmann::json::array({1, 2}));
  EXPECT_TRUE(has(m, "norm.json") && has(m, "JSON object")) << m;

  nlohmann::json j = good;
  j["method"] = "vahadane";
  m = config_error(j);
  EXPECT_TRUE(has(m, "norm.json") && has(m, "'method'") && has(m, "vahadane") && has(m, "reinhard")) << m;

  j = good;
  j.erase("method");
  m = config_error(j);
  EXPECT_TRUE(has(m, "'method'") && has(m, "missing")) << m;

  j = good;
  j.erase("max_concentrations");
  m = config_error(j);
  EXPECT_TRUE(has(m, "norm.json") && has(m, "'max_concentrations'") && has(m, "missing")) << m;

  j = good;
  j["eosin_od"] = {0.2, 0.8};
  m = config_error(j);
  EXPECT_TRUE(has(m, "'eosin_od'") && has(m, "3 finite numbers")) << m;

  j = good;
  j["eosin_od"] = j["haematoxylin_od"];
  m = config_error(j);
  EXPECT_TRUE(has(m, "'eosin_od'") && has(m, "distinct")) << m;

  j = good;
  j["beta"] = -0.1;
  m = config_error(j);
  EXPECT_TRUE(has(m, "'beta'") && has(m, "out of range")) << m;

  j = good;
  j["io"] = "240";
  m = config_error(j);
  EXPECT_TRUE(has(m, "'io'") && has(m, "not a number")) << m;

  j = good;
  j["lab_mean"] = {50, 0, 0};  // a Reinhard field in a Macenko file: a mix-up, not ignored
  m = config_error(j);
  EXPECT_TRUE(has(m, "'lab_mean'") && has(m, "not known")) << m;

  j = {{"method", "reinhard"}, {"lab_mean", {60, 20, -5}}, {"lab_std", {10, -1, 5}}};
  m = config_error(j);
  EXPECT_TRUE(has(m, "'lab_std'") && has(m, ">= 0")) << m;

  // Hand-written stain vectors need not be unit length.
  j = good;
  j["haematoxylin_od"] = {0.65, 0.70, 0.29};
  const StainNormalizer hand = StainNormalizer::from_json(j, "norm.json");
  EXPECT_NEAR(cv::norm(column(hand.stains, 0)), 1.0, 1e-12);
  EXPECT_GT(cosine(column(hand.stains, 0), {0.65, 0.70, 0.29}), 1 - 1e-12);

  // Files: missing, not JSON, and a bad field all name the file.
  TempDir dir;
  const std::string missing = dir / "missing.json";
  m = error_of<InputError>([&] { StainNormalizer::load(missing); });
  EXPECT_TRUE(has(m, missing) && has(m, "cannot be opened")) << m;

  const std::string broken = dir / "broken.json";
  std::ofstream(broken) << "{\"method\": \"macenko\",";
  m = error_of<InputError>([&] { StainNormalizer::load(broken); });
  EXPECT_TRUE(has(m, broken) && has(m, "not valid JSON")) << m;

  const std::string bad = dir / "bad.json";
  std::ofstream(bad) << R"({"method": "reinhard", "lab_mean": [60, 20, -5]})";
  m = error_of<ConfigError>([&] { StainNormalizer::load(bad); });
  EXPECT_TRUE(has(m, bad) && has(m, "'lab_std'") && has(m, "missing")) << m;
}

TEST(StainNormalization, BadInputsAreInputErrors) {
  const cv::Mat tissue = synthesise(reference_stains(), 51, 1.0, 32, 32).rgb;
  const StainNormalizer macenko = StainNormalizer::fit("macenko", tissue);
  const StainNormalizer reinhard = StainNormalizer::fit("reinhard", tissue);

  std::string m = error_of<InputError>([] { StainNormalizer::fit("reinhard", cv::Mat()); });
  EXPECT_TRUE(has(m, "empty")) << m;
  m = error_of<InputError>([] { StainNormalizer::fit("macenko", cv::Mat(8, 8, CV_8UC1, cv::Scalar(100))); });
  EXPECT_TRUE(has(m, "CV_8UC1") && has(m, "CV_8UC3")) << m;
  m = error_of<InputError>([&] { reinhard.apply(cv::Mat()); });
  EXPECT_TRUE(has(m, "empty")) << m;
  m = error_of<InputError>([&] { macenko.apply(cv::Mat(8, 8, CV_32FC3)); });
  EXPECT_TRUE(has(m, "CV_32FC3") && has(m, "CV_8UC3")) << m;
  m = error_of<InputError>([] { estimate_macenko_stains(cv::Mat(8, 8, CV_8UC4)); });
  EXPECT_TRUE(has(m, "CV_8UC3")) << m;

  // An all-white reference has no stain to learn.
  const cv::Mat white(64, 64, CV_8UC3, cv::Scalar(255, 255, 255));
  m = error_of<InputError>([&] { StainNormalizer::fit("macenko", white); });
  EXPECT_TRUE(has(m, "reference") && has(m, "0 tissue pixels") && has(m, "at least 100")) << m;
  m = error_of<InputError>([&] { estimate_macenko_stains(white); });
  EXPECT_TRUE(has(m, "0 tissue pixels")) << m;

  // At apply time an essentially blank image is returned unchanged...
  cv::Mat blank = white.clone();
  blank(cv::Rect(0, 0, 4, 4)) = cv::Scalar(90, 40, 120);  // 16 stained pixels: 0.4%
  EXPECT_EQ(cv::norm(macenko.apply(blank), blank, cv::NORM_INF), 0);
  // ...but pale staining with too little tissue to estimate from is an error, not a guess.
  const cv::Mat pale(64, 64, CV_8UC3, cv::Scalar(230, 150, 200));
  m = error_of<InputError>([&] { macenko.apply(pale); });
  EXPECT_TRUE(has(m, "0 tissue pixels") && has(m, "background")) << m;
  // Tissue of one colour cannot be split into two stains.
  const cv::Mat grey(64, 64, CV_8UC3, cv::Scalar(100, 100, 100));
  m = error_of<InputError>([&] { macenko.apply(grey); });
  EXPECT_TRUE(has(m, "single stain colour")) << m;

  m = error_of<ConfigError>([&] { StainNormalizer::fit("vahadane", tissue); });
  EXPECT_TRUE(has(m, "vahadane") && has(m, "reinhard or macenko")) << m;
  MacenkoOptions options;
  options.alpha = 60;
  m = error_of<ConfigError>([&] { StainNormalizer::fit("macenko", tissue, options); });
  EXPECT_TRUE(has(m, "'alpha'")) << m;
  m = error_of<ConfigError>([] { StainNormalizer().apply(cv::Mat(4, 4, CV_8UC3)); });
  EXPECT_TRUE(has(m, "fit or load")) << m;
}

}  // namespace
}  // namespace hemapath
