#include "hemapath/image/stain_normalization.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <opencv2/imgproc.hpp>
#include <set>
#include <sstream>
#include <vector>

#include "hemapath/core/atomic_file.h"
#include "hemapath/core/error.h"

namespace hemapath {
namespace {

const double kLn10 = std::log(10.0);
const double kPi = std::acos(-1.0);
// Two stain directions closer than this cannot be told apart: the least-squares
// concentrations would be dominated by noise.
const double kMinStainAngleDeg = 1.0;
// Share of background pixels above which an image without enough tissue counts as blank.
const double kBlankBackgroundFraction = 0.99;
// The percentile that defines a stain's "maximum" concentration (Macenko et al.).
const double kMaxConcentrationPercentile = 99.0;

void check_rgb(const cv::Mat& rgb, const std::string& what) {
  HP_CHECK(!rgb.empty(), InputError, what, " is empty: expected a CV_8UC3 RGB image");
  HP_CHECK(rgb.type() == CV_8UC3, InputError, what, " has OpenCV type ", cv::typeToString(rgb.type()),
           ": expected a CV_8UC3 (8-bit, 3-channel RGB) image");
}

// `where` prefixes the message ("stain normaliser 'x.json': " or "Macenko options: ").
void check_options(const MacenkoOptions& o, const std::string& where) {
  HP_CHECK(std::isfinite(o.alpha) && o.alpha >= 0 && o.alpha < 50, ConfigError, where, "field 'alpha' = ", o.alpha,
           " is out of range: expected a percentile in [0, 50)");
  HP_CHECK(std::isfinite(o.beta) && o.beta >= 0, ConfigError, where, "field 'beta' = ", o.beta,
           " is out of range: expected an optical density (log10) >= 0");
  HP_CHECK(std::isfinite(o.io) && o.io > 0 && o.io <= 255, ConfigError, where, "field 'io' = ", o.io,
           " is out of range: expected a light intensity in (0, 255]");
}

// OD = -log10(max(I, 1) / io), clamped to >= 0, as CV_32FC3.
cv::Mat optical_density(const cv::Mat& rgb, double io) {
  cv::Mat od;
  rgb.convertTo(od, CV_32F, 1.0 / io);
  cv::max(od, 1.0 / io, od);
  cv::log(od, od);
  od.convertTo(od, CV_32F, -1.0 / kLn10);
  cv::max(od, 0.0, od);
  return od;
}

struct TissuePixels {
  std::vector<cv::Vec3f> od;  // pixels with OD >= beta in every channel
  size_t background = 0;      // pixels with OD < beta in every channel
  size_t total = 0;
};

TissuePixels split_tissue(const cv::Mat& od, double beta) {
  TissuePixels t;
  t.total = od.total();
  const float b = float(beta);
  for (int r = 0; r < od.rows; ++r) {
    const cv::Vec3f* row = od.ptr<cv::Vec3f>(r);
    for (int c = 0; c < od.cols; ++c) {
      const cv::Vec3f& p = row[c];
      if (p[0] >= b && p[1] >= b && p[2] >= b)
        t.od.push_back(p);
      else if (p[0] < b && p[1] < b && p[2] < b)
        ++t.background;
    }
  }
  return t;
}

std::string not_enough_tissue(const std::string& what, const TissuePixels& t, const MacenkoOptions& o) {
  std::ostringstream m;
  m << what << " has " << t.od.size() << " tissue pixels (OD >= beta = " << o.beta
    << " in every channel, i.e. darker than " << std::lround(o.io * std::pow(10.0, -o.beta))
    << " in R, G and B with io = " << o.io << "): Macenko needs at least " << kMacenkoMinTissuePixels
    << " to estimate the H and E stains";
  return m.str();
}

// numpy's default ("linear") percentile; reorders `v`.
double percentile(std::vector<double>& v, double p) {
  const double rank = p / 100.0 * double(v.size() - 1);
  const size_t lo = size_t(std::floor(rank));
  std::nth_element(v.begin(), v.begin() + lo, v.end());
  const double a = v[lo];
  if (lo + 1 >= v.size()) return a;
  const double b = *std::min_element(v.begin() + lo + 1, v.end());
  return a + (rank - double(lo)) * (b - a);
}

cv::Matx32d stains_from_tissue(const std::vector<cv::Vec3f>& tissue, const MacenkoOptions& o, const std::string& what) {
  const cv::Mat samples = cv::Mat(tissue, false).reshape(1);  // N x 3 CV_32F, no copy
  cv::Mat covar, mean;
  cv::calcCovarMatrix(samples, covar, mean, cv::COVAR_NORMAL | cv::COVAR_ROWS | cv::COVAR_SCALE, CV_64F);
  mean.convertTo(mean, CV_64F);
  cv::Mat eigenvalues, eigenvectors;  // rows, largest eigenvalue first
  cv::eigen(covar, eigenvalues, eigenvectors);
  const cv::Vec3d v1(eigenvectors.ptr<double>(0)), v2(eigenvectors.ptr<double>(1));

  // Angles in the plane are measured from the pixels' mean direction: all OD vectors lie in
  // the positive octant, so they stay within +-90 degrees of it and never straddle the +-180
  // wrap of atan2, whatever signs the eigenvectors came out with.
  const cv::Vec3d m(mean.ptr<double>(0));
  const double phi_mean = std::atan2(m.dot(v2), m.dot(v1));
  std::vector<double> phi(tissue.size());
  for (size_t i = 0; i < tissue.size(); ++i) {
    const cv::Vec3d p(tissue[i]);
    phi[i] = std::remainder(std::atan2(p.dot(v2), p.dot(v1)) - phi_mean, 2 * kPi);
  }
  const double lo = percentile(phi, o.alpha) + phi_mean;
  const double hi = percentile(phi, 100 - o.alpha) + phi_mean;
  const double apart = (hi - lo) * 180 / kPi;
  HP_CHECK(apart >= kMinStainAngleDeg, InputError, what, ": its tissue pixels show a single stain colour (the ",
           o.alpha, "/", 100 - o.alpha, " percentile directions are ", apart, " degrees apart, under ",
           kMinStainAngleDeg, "): cannot separate haematoxylin from eosin");

  // Unit vectors: v1, v2 are orthonormal and (cos, sin) has length 1.
  const cv::Vec3d a = std::cos(lo) * v1 + std::sin(lo) * v2;
  const cv::Vec3d b = std::cos(hi) * v1 + std::sin(hi) * v2;
  const cv::Vec3d& h = a[0] > b[0] ? a : b;
  const cv::Vec3d& e = a[0] > b[0] ? b : a;
  return cv::Matx32d(h[0], e[0], h[1], e[1], h[2], e[2]);
}

// (S^T S)^-1 S^T: the least-squares map from OD (3) to concentrations (2).
cv::Matx23d pseudo_inverse(const cv::Matx32d& stains) {
  cv::Matx23d p;
  cv::invert(stains, p, cv::DECOMP_SVD);
  return p;
}

// 99th-percentile H and E concentrations over the tissue pixels. Over tissue rather than all
// pixels (as some ports do), so the scale does not drift with the share of background.
cv::Vec2d percentile_concentrations(const std::vector<cv::Vec3f>& tissue, const cv::Matx32d& stains,
                                    const std::string& what) {
  const cv::Matx23d p = pseudo_inverse(stains);
  std::vector<double> h(tissue.size()), e(tissue.size());
  for (size_t i = 0; i < tissue.size(); ++i) {
    const cv::Vec2d c = p * cv::Vec3d(tissue[i]);
    h[i] = c[0];
    e[i] = c[1];
  }
  const cv::Vec2d m(percentile(h, kMaxConcentrationPercentile), percentile(e, kMaxConcentrationPercentile));
  const char* names[2] = {"haematoxylin", "eosin"};
  for (int k = 0; k < 2; ++k)
    HP_CHECK(m[k] > 1e-6, InputError, what, ": the ", kMaxConcentrationPercentile, "th-percentile ", names[k],
             " concentration is ", m[k], ": expected a positive amount of both stains");
  return m;
}

cv::Mat to_lab(const cv::Mat& rgb) {
  cv::Mat f, lab;
  rgb.convertTo(f, CV_32F, 1.0 / 255);
  cv::cvtColor(f, lab, cv::COLOR_RGB2Lab);
  return lab;
}

cv::Mat apply_reinhard(const StainNormalizer& n, const cv::Mat& rgb) {
  const cv::Mat lab = to_lab(rgb);
  cv::Scalar mean, sd;
  cv::meanStdDev(lab, mean, sd);
  // One affine map per channel, lab' = scale * lab + offset, in a single pass.
  cv::Matx34d affine = cv::Matx34d::zeros();
  for (int c = 0; c < 3; ++c) {
    // A flat channel has no spread to stretch; matching its mean is all that is defined.
    const double scale = sd[c] > 1e-6 ? n.lab_std[c] / sd[c] : 1.0;
    affine(c, c) = scale;
    affine(c, 3) = n.lab_mean[c] - scale * mean[c];
  }
  cv::Mat mapped, out_f, out;
  cv::transform(lab, mapped, affine);
  cv::cvtColor(mapped, out_f, cv::COLOR_Lab2RGB);
  out_f.convertTo(out, CV_8U, 255.0);
  return out;
}

cv::Mat apply_macenko(const StainNormalizer& n, const cv::Mat& rgb) {
  const MacenkoOptions& o = n.options;
  const cv::Mat od = optical_density(rgb, o.io);
  const TissuePixels t = split_tissue(od, o.beta);
  const std::string what = "stain normalisation input image";
  if (t.od.size() < size_t(kMacenkoMinTissuePixels)) {
    if (double(t.background) >= kBlankBackgroundFraction * double(t.total)) return rgb.clone();
    throw InputError(not_enough_tissue(what, t, o) + "; only " +
                     std::to_string(int(100.0 * double(t.background) / double(t.total))) +
                     "% of it is background (an image at least 99% background is returned unchanged)");
  }
  const cv::Matx32d source = stains_from_tissue(t.od, o, what);
  const cv::Vec2d source_max = percentile_concentrations(t.od, source, what);
  // Deconvolve with the source's stains, rescale each stain, recompose with the reference's:
  // all linear in OD, so one 3x3 matrix does it per pixel.
  const cv::Matx22d scale(n.max_concentrations[0] / source_max[0], 0, 0, n.max_concentrations[1] / source_max[1]);
  const cv::Matx33d m = n.stains * scale * pseudo_inverse(source);
  cv::Mat out_od, intensity, out;
  cv::transform(od, out_od, m);
  out_od.convertTo(out_od, CV_32F, -kLn10);
  cv::exp(out_od, intensity);  // I / io = 10^-OD
  intensity.convertTo(out, CV_8U, o.io);
  return out;
}

// --- JSON ---

std::string where(const std::string& source) { return "stain normaliser '" + source + "': "; }

const nlohmann::json& field(const nlohmann::json& j, const std::string& key, const std::string& source,
                            const std::string& method) {
  auto it = j.find(key);
  HP_CHECK(it != j.end() && !it->is_null(), ConfigError, where(source), "field '", key,
           "' is missing (required for method '", method, "')");
  return *it;
}

std::vector<double> numbers(const nlohmann::json& j, const std::string& key, size_t count, const std::string& source,
                            const std::string& method, const std::string& meaning) {
  const nlohmann::json& v = field(j, key, source, method);
  bool ok = v.is_array() && v.size() == count;
  std::vector<double> out;
  for (size_t i = 0; ok && i < count; ++i) {
    ok = v[i].is_number() && std::isfinite(v[i].get<double>());
    if (ok) out.push_back(v[i].get<double>());
  }
  HP_CHECK(ok, ConfigError, where(source), "field '", key, "' = ", v.dump(), " is not valid: expected ", count,
           " finite numbers (", meaning, ")");
  return out;
}

double number(const nlohmann::json& j, const std::string& key, const std::string& source) {
  const nlohmann::json& v = field(j, key, source, "macenko");
  HP_CHECK(v.is_number(), ConfigError, where(source), "field '", key, "' = ", v.dump(), " is not a number");
  return v.get<double>();
}

cv::Vec3d unit_vector(const nlohmann::json& j, const std::string& key, const std::string& source) {
  const std::vector<double> v = numbers(j, key, 3, source, "macenko", "an R, G, B optical-density vector");
  const cv::Vec3d u(v[0], v[1], v[2]);
  const double length = cv::norm(u);
  HP_CHECK(length > 1e-9, ConfigError, where(source), "field '", key,
           "' is a zero vector: expected a stain's OD direction");
  // Exactly-unit vectors (all that save() writes) are kept bit-exact.
  return std::abs(length - 1) < 1e-12 ? u : u / length;
}

}  // namespace

cv::Matx32d estimate_macenko_stains(const cv::Mat& rgb, const MacenkoOptions& options) {
  check_rgb(rgb, "estimate_macenko_stains: image");
  check_options(options, "Macenko options: ");
  const TissuePixels t = split_tissue(optical_density(rgb, options.io), options.beta);
  HP_CHECK(t.od.size() >= size_t(kMacenkoMinTissuePixels), InputError, not_enough_tissue("image", t, options));
  return stains_from_tissue(t.od, options, "image");
}

StainNormalizer StainNormalizer::fit(const std::string& method, const cv::Mat& reference_rgb,
                                     const MacenkoOptions& options) {
  HP_CHECK(method == "reinhard" || method == "macenko", ConfigError, "stain normalisation method '", method,
           "' is not valid: expected reinhard or macenko");
  check_rgb(reference_rgb, "stain normalisation reference image");
  StainNormalizer n;
  n.method = method;
  if (method == "reinhard") {
    cv::Scalar mean, sd;
    cv::meanStdDev(to_lab(reference_rgb), mean, sd);
    n.lab_mean = cv::Vec3d(mean[0], mean[1], mean[2]);
    n.lab_std = cv::Vec3d(sd[0], sd[1], sd[2]);
    return n;
  }
  check_options(options, "Macenko options: ");
  const std::string what = "stain normalisation reference image";
  const TissuePixels t = split_tissue(optical_density(reference_rgb, options.io), options.beta);
  HP_CHECK(t.od.size() >= size_t(kMacenkoMinTissuePixels), InputError, not_enough_tissue(what, t, options));
  n.options = options;
  n.stains = stains_from_tissue(t.od, options, what);
  n.max_concentrations = percentile_concentrations(t.od, n.stains, what);
  return n;
}

cv::Mat StainNormalizer::apply(const cv::Mat& rgb) const {
  check_rgb(rgb, "stain normalisation input image");
  if (method == "reinhard") return apply_reinhard(*this, rgb);
  if (method == "macenko") return apply_macenko(*this, rgb);
  throw ConfigError("stain normaliser has method '" + method +
                    "': expected reinhard or macenko (fit or load one before apply)");
}

nlohmann::json StainNormalizer::to_json() const {
  nlohmann::json j = {{"method", method}};
  if (method == "reinhard") {
    j["lab_mean"] = {lab_mean[0], lab_mean[1], lab_mean[2]};
    j["lab_std"] = {lab_std[0], lab_std[1], lab_std[2]};
  } else if (method == "macenko") {
    j["haematoxylin_od"] = {stains(0, 0), stains(1, 0), stains(2, 0)};
    j["eosin_od"] = {stains(0, 1), stains(1, 1), stains(2, 1)};
    j["max_concentrations"] = {max_concentrations[0], max_concentrations[1]};
    j["alpha"] = options.alpha;
    j["beta"] = options.beta;
    j["io"] = options.io;
  }
  return j;
}

StainNormalizer StainNormalizer::from_json(const nlohmann::json& json, const std::string& source) {
  HP_CHECK(json.is_object(), ConfigError, where(source), "expected a JSON object with a 'method' field, got ",
           json.type_name());
  auto m = json.find("method");
  HP_CHECK(m != json.end() && !m->is_null(), ConfigError, where(source),
           "field 'method' is missing: expected reinhard or macenko");
  HP_CHECK(m->is_string() && (*m == "reinhard" || *m == "macenko"), ConfigError, where(source),
           "field 'method' = ", m->dump(), " is not valid: expected reinhard or macenko");
  StainNormalizer n;
  n.method = m->get<std::string>();
  const std::set<std::string> known =
      n.method == "reinhard"
          ? std::set<std::string>{"method", "lab_mean", "lab_std"}
          : std::set<std::string>{"method", "haematoxylin_od", "eosin_od", "max_concentrations", "alpha", "beta", "io"};
  for (auto it = json.begin(); it != json.end(); ++it) {
    if (known.count(it.key())) continue;
    std::string valid;
    for (const auto& k : known) valid += (valid.empty() ? "" : ", ") + k;
    throw ConfigError(where(source) + "field '" + it.key() + "' is not known for method '" + n.method +
                      "' (valid fields: " + valid + ")");
  }

  if (n.method == "reinhard") {
    const auto mean = numbers(json, "lab_mean", 3, source, n.method, "L*a*b* means, L in 0..100");
    const auto sd = numbers(json, "lab_std", 3, source, n.method, "L*a*b* standard deviations, >= 0");
    HP_CHECK(mean[0] >= 0 && mean[0] <= 100, ConfigError, where(source), "field 'lab_mean' has L = ", mean[0],
             ": expected L in [0, 100]");
    for (double s : sd)
      HP_CHECK(s >= 0, ConfigError, where(source), "field 'lab_std' contains ", s, ": expected values >= 0");
    n.lab_mean = cv::Vec3d(mean[0], mean[1], mean[2]);
    n.lab_std = cv::Vec3d(sd[0], sd[1], sd[2]);
    return n;
  }

  const cv::Vec3d h = unit_vector(json, "haematoxylin_od", source);
  const cv::Vec3d e = unit_vector(json, "eosin_od", source);
  const double apart = std::acos(std::min(1.0, std::abs(h.dot(e)))) * 180 / kPi;
  HP_CHECK(apart >= kMinStainAngleDeg, ConfigError, where(source), "fields 'haematoxylin_od' and 'eosin_od' are ",
           apart, " degrees apart: expected two distinct stain directions");
  n.stains = cv::Matx32d(h[0], e[0], h[1], e[1], h[2], e[2]);
  const auto c = numbers(json, "max_concentrations", 2, source, n.method, "H and E concentrations, log10 OD, > 0");
  for (double x : c)
    HP_CHECK(x > 0, ConfigError, where(source), "field 'max_concentrations' contains ", x, ": expected values > 0");
  n.max_concentrations = cv::Vec2d(c[0], c[1]);
  n.options.alpha = number(json, "alpha", source);
  n.options.beta = number(json, "beta", source);
  n.options.io = number(json, "io", source);
  check_options(n.options, where(source));
  return n;
}

void StainNormalizer::save(const std::string& path) const { write_text_atomic(path, to_json().dump(2) + "\n"); }

StainNormalizer StainNormalizer::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  HP_CHECK(in.is_open(), InputError, "stain normaliser file '", path,
           "' cannot be opened: expected a JSON file written by save");
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw InputError("stain normaliser file '" + path + "' is not valid JSON: " + e.what());
  }
  return from_json(json, path);
}

}  // namespace hemapath
