#include "hemapath/io/slide_reader.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include <openslide.h>
#include <opencv2/imgproc.hpp>

#include "hemapath/core/error.h"
#include "hemapath/io/image_io.h"

namespace hemapath {
namespace {

// OpenSlide gives premultiplied ARGB; over white a channel c with alpha a becomes
// c + (255 - a), which is also white for the transparent pixels outside the slide.
cv::Mat argb_over_white(const std::vector<uint32_t>& argb, int width, int height) {
  cv::Mat rgb(height, width, CV_8UC3);
  for (int y = 0; y < height; ++y) {
    const uint32_t* in = argb.data() + static_cast<size_t>(y) * width;
    uint8_t* out = rgb.ptr<uint8_t>(y);
    for (int x = 0; x < width; ++x) {
      const uint32_t p = in[x];
      const uint32_t white = 255 - (p >> 24);
      out[3 * x + 0] = static_cast<uint8_t>(((p >> 16) & 0xff) + white);
      out[3 * x + 1] = static_cast<uint8_t>(((p >> 8) & 0xff) + white);
      out[3 * x + 2] = static_cast<uint8_t>((p & 0xff) + white);
    }
  }
  return rgb;
}

// Level-0 px per thumbnail px.
double thumbnail_downsample(int64_t width, int64_t height, int max_side) {
  HP_CHECK(max_side > 0, InputError, "thumbnail size must be positive, got ", max_side);
  return std::max(1.0, static_cast<double>(std::max(width, height)) / max_side);
}

cv::Size thumbnail_size_at(int64_t width, int64_t height, double downsample) {
  return {std::max(1, static_cast<int>(std::lround(width / downsample))),
          std::max(1, static_cast<int>(std::lround(height / downsample)))};
}

}  // namespace

struct SlideReader::Handle {
  openslide_t* slide = nullptr;
  cv::Mat image;  // a plain image, held decoded
  ~Handle() {
    if (slide) openslide_close(slide);
  }
};

bool SlideReader::is_slide(const std::string& path) { return openslide_detect_vendor(path.c_str()) != nullptr; }

SlideReader::SlideReader(const std::string& path, const SlideOpenOptions& options)
    : path_(path), handle_(std::make_unique<Handle>()), mpp_override_(options.mpp) {
  HP_CHECK(!options.mpp || *options.mpp > 0, ConfigError, "--mpp must be > 0 (um per level-0 px), got ",
           options.mpp.value_or(0));
  HP_CHECK(std::filesystem::is_regular_file(path), InputError, "slide '", path, "' does not exist");
  if (is_slide(path)) {
    handle_->slide = openslide_open(path.c_str());
    HP_CHECK(handle_->slide != nullptr, InputError, "slide '", path, "' cannot be opened by OpenSlide");
    const char* error = openslide_get_error(handle_->slide);
    HP_CHECK(error == nullptr, InputError, "slide '", path, "' cannot be read: ", error ? error : "");
    const int32_t count = openslide_get_level_count(handle_->slide);
    for (int32_t i = 0; i < count; ++i) {
      SlideLevel level;
      openslide_get_level_dimensions(handle_->slide, i, &level.width, &level.height);
      level.downsample = openslide_get_level_downsample(handle_->slide, i);
      levels_.push_back(level);
    }
    for (const char* const* name = openslide_get_property_names(handle_->slide); *name; ++name) {
      const char* value = openslide_get_property_value(handle_->slide, *name);
      properties_[*name] = value ? value : "";
    }
    // A header can be fine while the pixels are not: one pixel of the coarsest level tells.
    uint32_t probe = 0;
    openslide_read_region(handle_->slide, &probe, 0, 0, count - 1, 1, 1);
    const char* read_error = openslide_get_error(handle_->slide);
    HP_CHECK(read_error == nullptr, InputError, "slide '", path, "' cannot be read: ", read_error ? read_error : "");
  } else {
    HP_CHECK(has_image_extension(path), InputError, "slide '", path,
             "' is neither a format OpenSlide reads (svs, tif, ndpi, mrxs, scn, vms, bif, tiled TIFF) nor a plain "
             "image (png, jpg, tif, bmp)");
    handle_->image = read_image_rgb(path);
    levels_.push_back({handle_->image.cols, handle_->image.rows, 1.0});
  }
  HP_CHECK(!levels_.empty() && width() > 0 && height() > 0, InputError, "slide '", path, "' has no pixels");
}

SlideReader::~SlideReader() = default;

std::string SlideReader::vendor() const {
  if (!handle_->slide) return "image";
  auto it = properties_.find(OPENSLIDE_PROPERTY_NAME_VENDOR);
  return it == properties_.end() ? "unknown" : it->second;
}

std::optional<double> SlideReader::number(const std::string& key) const {
  auto it = properties_.find(key);
  if (it == properties_.end()) return std::nullopt;
  try {
    return std::stod(it->second);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<double> SlideReader::mpp(const char* vendor_key) const {
  if (mpp_override_) return mpp_override_;
  if (auto v = number(vendor_key); v && *v > 0) return v;
  // libvips pyramids carry only TIFF resolution tags: px per cm (unit 3) or per inch (2).
  auto res = number(vendor_key == std::string(OPENSLIDE_PROPERTY_NAME_MPP_X) ? "tiff.XResolution" : "tiff.YResolution");
  auto unit = properties_.find("tiff.ResolutionUnit");
  if (!res || *res <= 0 || unit == properties_.end()) return std::nullopt;
  double mpp = 0;
  if (unit->second == "centimeter") mpp = 1e4 / *res;
  else if (unit->second == "inch") mpp = 25400.0 / *res;
  // Files that never meant a resolution still carry one (72 dpi = 353 um/px, 1 px/inch):
  // outside what microscopes scan at, a tag is not a resolution.
  if (mpp < kMinPlausibleMpp || mpp > kMaxPlausibleMpp) return std::nullopt;
  return mpp;
}

std::optional<double> SlideReader::mpp_x() const { return mpp(OPENSLIDE_PROPERTY_NAME_MPP_X); }
std::optional<double> SlideReader::mpp_y() const { return mpp(OPENSLIDE_PROPERTY_NAME_MPP_Y); }

double SlideReader::require_mpp() const {
  const auto x = mpp_x(), y = mpp_y();
  HP_CHECK(x && y, InputError, "slide '", path_,
           "' does not say its resolution (no openslide.mpp-x/-y or TIFF resolution tags): pass --slide-mpp UM_PER_PX");
  return (*x + *y) / 2;
}

std::optional<double> SlideReader::objective_power() const { return number(OPENSLIDE_PROPERTY_NAME_OBJECTIVE_POWER); }

std::vector<std::string> SlideReader::associated_images() const {
  std::vector<std::string> names;
  if (!handle_->slide) return names;
  for (const char* const* name = openslide_get_associated_image_names(handle_->slide); *name; ++name)
    names.emplace_back(*name);
  return names;
}

cv::Mat SlideReader::read_associated_image(const std::string& name) const {
  const std::vector<std::string> names = associated_images();
  HP_CHECK(std::find(names.begin(), names.end(), name) != names.end(), InputError, "slide '", path_,
           "' has no associated image '", name, "'");
  int64_t w = 0, h = 0;
  openslide_get_associated_image_dimensions(handle_->slide, name.c_str(), &w, &h);
  std::vector<uint32_t> argb(static_cast<size_t>(w * h));
  openslide_read_associated_image(handle_->slide, name.c_str(), argb.data());
  const char* error = openslide_get_error(handle_->slide);
  HP_CHECK(error == nullptr, Error, "slide '", path_, "': reading associated image '", name, "' failed: ", error);
  return argb_over_white(argb, static_cast<int>(w), static_cast<int>(h));
}

int SlideReader::best_level(double downsample) const {
  int best = 0;
  for (size_t i = 0; i < levels_.size(); ++i)
    if (levels_[i].downsample <= downsample * (1 + 1e-3)) best = static_cast<int>(i);
  return best;
}

cv::Mat SlideReader::read_region(int level, int64_t x, int64_t y, int width, int height) const {
  HP_CHECK(level >= 0 && level < static_cast<int>(levels_.size()), InputError, "slide '", path_, "': level ", level,
           " does not exist (", levels_.size(), " levels)");
  HP_CHECK(width > 0 && height > 0, InputError, "slide '", path_, "': region size must be positive, got ", width, "x",
           height);
  if (!handle_->slide) {
    cv::Mat out(height, width, CV_8UC3, cv::Scalar(255, 255, 255));
    const cv::Rect inside = cv::Rect(static_cast<int>(x), static_cast<int>(y), width, height) &
                            cv::Rect(0, 0, handle_->image.cols, handle_->image.rows);
    if (!inside.empty())
      handle_->image(inside).copyTo(out(cv::Rect(inside.x - static_cast<int>(x), inside.y - static_cast<int>(y),
                                                 inside.width, inside.height)));
    return out;
  }
  std::vector<uint32_t> argb(static_cast<size_t>(width) * height);
  openslide_read_region(handle_->slide, argb.data(), x, y, level, width, height);
  const char* error = openslide_get_error(handle_->slide);
  HP_CHECK(error == nullptr, Error, "slide '", path_, "': reading level ", level, " at (", x, ", ", y,
           ") failed: ", error);
  return argb_over_white(argb, width, height);
}

cv::Mat SlideReader::read_region_at_mpp(double x, double y, int width, int height, double mpp) const {
  HP_CHECK(mpp > 0, ConfigError, "read resolution must be > 0 um/px, got ", mpp);
  const double downsample = mpp / require_mpp();  // level-0 px per output px
  const int level = best_level(downsample);
  const double level_scale = levels_[level].downsample;
  // Level px per output px; the level region is rounded outwards, then resized to the exact size.
  const double factor = downsample / level_scale;
  const int64_t x0 = static_cast<int64_t>(std::floor(x)), y0 = static_cast<int64_t>(std::floor(y));
  const int w = std::max(1, static_cast<int>(std::lround(width * factor)));
  const int h = std::max(1, static_cast<int>(std::lround(height * factor)));
  cv::Mat region = read_region(level, x0, y0, w, h);
  if (region.cols == width && region.rows == height) return region;
  cv::Mat out;
  cv::resize(region, out, cv::Size(width, height), 0, 0, factor > 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
  return out;
}

cv::Size SlideReader::thumbnail_size(int max_side) const {
  return thumbnail_size_at(width(), height(), thumbnail_downsample(width(), height(), max_side));
}

cv::Mat SlideReader::thumbnail(int max_side) const {
  const double downsample = thumbnail_downsample(width(), height(), max_side);
  const cv::Size size = thumbnail_size_at(width(), height(), downsample);
  const int tw = size.width, th = size.height;
  const int level = best_level(downsample);
  const SlideLevel& l = levels_[level];
  // Strips of thumbnail rows whose level rows stay under ~64 MB of ARGB.
  const int64_t level_rows_per_strip = std::max<int64_t>(1, (int64_t{16} << 20) / std::max<int64_t>(1, l.width));
  const int thumb_rows_per_strip =
      std::max(1, static_cast<int>(level_rows_per_strip * th / std::max<int64_t>(1, l.height)));
  cv::Mat thumb(th, tw, CV_8UC3);
  for (int t0 = 0; t0 < th; t0 += thumb_rows_per_strip) {
    const int t1 = std::min(th, t0 + thumb_rows_per_strip);
    const int64_t r0 = t0 * l.height / th, r1 = std::max(r0 + 1, t1 * l.height / th);
    const cv::Mat strip = read_region(level, 0, static_cast<int64_t>(r0 * l.downsample), static_cast<int>(l.width),
                                      static_cast<int>(r1 - r0));
    cv::resize(strip, thumb.rowRange(t0, t1), cv::Size(tw, t1 - t0), 0, 0, cv::INTER_AREA);
  }
  return thumb;
}

}  // namespace hemapath
