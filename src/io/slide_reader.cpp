#include "hemapath/io/slide_reader.h"

#include <filesystem>

#include <openslide.h>

#include "hemapath/core/error.h"

namespace hemapath {

struct SlideReader::Handle {
  openslide_t* slide = nullptr;
  ~Handle() {
    if (slide) openslide_close(slide);
  }
};

bool SlideReader::is_slide(const std::string& path) { return openslide_detect_vendor(path.c_str()) != nullptr; }

SlideReader::SlideReader(const std::string& path) : path_(path), handle_(std::make_unique<Handle>()) {
  HP_CHECK(std::filesystem::is_regular_file(path), InputError, "slide '", path, "' does not exist");
  handle_->slide = openslide_open(path.c_str());
  HP_CHECK(handle_->slide != nullptr, InputError, "slide '", path,
           "' is not a format OpenSlide reads (svs, tif, ndpi, mrxs, scn, vms, bif, tiled TIFF)");
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
}

SlideReader::~SlideReader() = default;

std::string SlideReader::vendor() const {
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
  if (auto v = number(vendor_key); v && *v > 0) return v;
  // libvips pyramids carry only TIFF resolution tags: px per cm (unit 3) or per inch (2).
  auto res = number(vendor_key == std::string(OPENSLIDE_PROPERTY_NAME_MPP_X) ? "tiff.XResolution" : "tiff.YResolution");
  auto unit = properties_.find("tiff.ResolutionUnit");
  if (!res || *res <= 0 || unit == properties_.end()) return std::nullopt;
  if (unit->second == "centimeter") return 1e4 / *res;
  if (unit->second == "inch") return 25400.0 / *res;
  return std::nullopt;
}

std::optional<double> SlideReader::mpp_x() const { return mpp(OPENSLIDE_PROPERTY_NAME_MPP_X); }
std::optional<double> SlideReader::mpp_y() const { return mpp(OPENSLIDE_PROPERTY_NAME_MPP_Y); }
std::optional<double> SlideReader::objective_power() const { return number(OPENSLIDE_PROPERTY_NAME_OBJECTIVE_POWER); }

std::vector<std::string> SlideReader::associated_images() const {
  std::vector<std::string> names;
  for (const char* const* name = openslide_get_associated_image_names(handle_->slide); *name; ++name)
    names.emplace_back(*name);
  return names;
}

}  // namespace hemapath
