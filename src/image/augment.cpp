#include "hemapath/image/augment.h"

#include <opencv2/imgproc.hpp>

#include "hemapath/core/error.h"
#include "hemapath/image/stain_augment.h"

namespace hemapath {
namespace {

bool coin(Rng& rng) { return (rng() >> 63) != 0; }

// Applies the same geometric operation to the image and, when given, the mask.
template <typename Op>
void both(cv::Mat& image, cv::Mat* mask, Op op) {
  cv::Mat out;
  op(image, out, cv::INTER_LINEAR);
  image = out;
  if (mask) {
    cv::Mat m;
    op(*mask, m, cv::INTER_NEAREST);
    *mask = m;
  }
}

}  // namespace

double uniform(Rng& rng, double lo, double hi) {
  const double u = double(rng() >> 11) * (1.0 / 9007199254740992.0);  // [0, 1)
  return lo + (hi - lo) * u;
}

AugmentOptions AugmentOptions::from_config(const ConfigNode& node) {
  AugmentOptions o;
  o.enabled = node.get<bool>("enabled", o.enabled);
  o.hflip = node.get<bool>("hflip", o.hflip);
  o.vflip = node.get<bool>("vflip", o.vflip);
  o.rot90 = node.get<bool>("rot90", o.rot90);
  o.rotate_degrees = node.get_number("rotate_degrees", o.rotate_degrees, 0, 180);
  o.scale_min = node.get_number("scale_min", o.scale_min, 0.1, 10);
  o.scale_max = node.get_number("scale_max", o.scale_max, 0.1, 10);
  HP_CHECK(o.scale_min <= o.scale_max, ConfigError, node.where("scale_min"), " = ", o.scale_min,
           " is larger than scale_max = ", o.scale_max, ": expected scale_min <= scale_max");
  o.brightness = node.get_number("brightness", o.brightness, 0, 1);
  o.contrast = node.get_number("contrast", o.contrast, 0, 1);
  o.channel_shift = node.get_number("channel_shift", o.channel_shift, 0, 1);
  o.channel_scale = node.get_number("channel_scale", o.channel_scale, 0, 1);
  o.hed_sigma = node.get_number("hed_sigma", o.hed_sigma, 0, 1);
  return o;
}

nlohmann::json AugmentOptions::to_json() const {
  return {{"enabled", enabled},
          {"hflip", hflip},
          {"vflip", vflip},
          {"rot90", rot90},
          {"rotate_degrees", rotate_degrees},
          {"scale_min", scale_min},
          {"scale_max", scale_max},
          {"brightness", brightness},
          {"contrast", contrast},
          {"channel_shift", channel_shift},
          {"channel_scale", channel_scale},
          {"hed_sigma", hed_sigma}};
}

AugmentOptions AugmentOptions::from_json(const nlohmann::json& json) {
  ConfigNode node(json, "augmentation options");
  AugmentOptions o = from_config(node);
  node.finish();
  return o;
}

void augment(cv::Mat& image, cv::Mat* mask, const AugmentOptions& options, Rng& rng) {
  if (!options.enabled) return;
  HP_CHECK(!image.empty() && image.type() == CV_8UC3, InputError,
           "augment: expected a non-empty 8-bit RGB image (CV_8UC3)");
  if (mask)
    HP_CHECK(mask->size() == image.size() && mask->channels() == 1, InputError, "augment: the mask is ",
             mask->cols, "x", mask->rows, " with ", mask->channels(), " channels but the image is ", image.cols,
             "x", image.rows, ": expected a single-channel mask of the same size");

  // Geometry. Random numbers are drawn only for enabled operations, always in this order.
  if (options.hflip && coin(rng))
    both(image, mask, [](const cv::Mat& in, cv::Mat& out, int) { cv::flip(in, out, 1); });
  if (options.vflip && coin(rng))
    both(image, mask, [](const cv::Mat& in, cv::Mat& out, int) { cv::flip(in, out, 0); });
  if (options.rot90) {
    int k = int(rng() % 4);
    if (image.rows != image.cols) k &= 2;  // 90/270 would swap width and height
    static const cv::RotateFlags kRotations[] = {cv::ROTATE_90_CLOCKWISE, cv::ROTATE_180,
                                                 cv::ROTATE_90_COUNTERCLOCKWISE};
    if (k > 0)
      both(image, mask, [&](const cv::Mat& in, cv::Mat& out, int) { cv::rotate(in, out, kRotations[k - 1]); });
  }
  double angle = 0, zoom = 1;
  if (options.rotate_degrees > 0) angle = uniform(rng, -options.rotate_degrees, options.rotate_degrees);
  if (options.scale_max > options.scale_min) zoom = uniform(rng, options.scale_min, options.scale_max);
  else zoom = options.scale_min;
  if (angle != 0 || zoom != 1) {
    // One warp for rotation and zoom (a single interpolation); pixel centres rotate about
    // the image centre. Reflected borders avoid black corners the network could key on.
    const cv::Point2f centre((image.cols - 1) * 0.5f, (image.rows - 1) * 0.5f);
    const cv::Mat m = cv::getRotationMatrix2D(centre, angle, zoom);
    both(image, mask, [&](const cv::Mat& in, cv::Mat& out, int interpolation) {
      cv::warpAffine(in, out, m, in.size(), interpolation, cv::BORDER_REFLECT_101);
    });
  }

  // Photometry, image only.
  if (options.hed_sigma > 0) hed_jitter(image, options.hed_sigma, rng);
  cv::Scalar gain(1, 1, 1), shift(0, 0, 0);
  if (options.channel_scale > 0)
    for (int c = 0; c < 3; ++c) gain[c] = uniform(rng, 1 - options.channel_scale, 1 + options.channel_scale);
  if (options.channel_shift > 0)
    for (int c = 0; c < 3; ++c)
      shift[c] = 255.0 * uniform(rng, -options.channel_shift, options.channel_shift);
  const double contrast = options.contrast > 0 ? uniform(rng, 1 - options.contrast, 1 + options.contrast) : 1.0;
  const double brightness =
      options.brightness > 0 ? uniform(rng, 1 - options.brightness, 1 + options.brightness) : 1.0;
  if (gain != cv::Scalar(1, 1, 1) || shift != cv::Scalar(0, 0, 0) || contrast != 1 || brightness != 1) {
    cv::Mat f;
    image.convertTo(f, CV_32F);
    cv::multiply(f, gain, f);
    cv::add(f, shift, f);
    if (contrast != 1) {
      // Stretch about the mean grey level so contrast does not also shift brightness.
      const cv::Scalar m = cv::mean(f);
      const double grey = (m[0] + m[1] + m[2]) / 3;
      f.convertTo(f, CV_32F, contrast, grey * (1 - contrast));
    }
    if (brightness != 1) f.convertTo(f, CV_32F, brightness);
    f.convertTo(image, CV_8U);  // rounds and saturates to [0, 255]
  }
}

}  // namespace hemapath
