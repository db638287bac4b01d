#include "hemapath/io/pyramid_tiff.h"

#include <algorithm>
#include <mutex>

#include <vips/vips.h>

#include "hemapath/core/error.h"

namespace hemapath {
namespace {

void init_vips() {
  static std::once_flag once;
  static bool ok = false;
  std::call_once(once, [] { ok = vips_init("hemapath") == 0; });
  HP_CHECK(ok, OutputError, "libvips failed to start: ", vips_error_buffer());
}

std::string vips_error() {
  std::string message = vips_error_buffer();
  vips_error_clear();
  while (!message.empty() && message.back() == '\n') message.pop_back();
  return message;
}

struct ImageRef {
  VipsImage* image = nullptr;
  ~ImageRef() {
    if (image) g_object_unref(image);
  }
};

VipsForeignTiffCompression compression(const std::string& name) {
  if (name == "deflate") return VIPS_FOREIGN_TIFF_COMPRESSION_DEFLATE;
  if (name == "lzw") return VIPS_FOREIGN_TIFF_COMPRESSION_LZW;
  if (name == "jpeg") return VIPS_FOREIGN_TIFF_COMPRESSION_JPEG;
  throw ConfigError("TIFF compression '" + name + "' is unknown: expected deflate, lzw or jpeg");
}

VipsRegionShrink shrink(const std::string& name) {
  if (name == "mode") return VIPS_REGION_SHRINK_MODE;
  if (name == "mean") return VIPS_REGION_SHRINK_MEAN;
  if (name == "nearest") return VIPS_REGION_SHRINK_NEAREST;
  throw ConfigError("pyramid shrink '" + name + "' is unknown: expected mode, mean or nearest");
}

}  // namespace

void write_pyramidal_tiff(const std::string& raw_path, int width, int height, int bands, const std::string& out_path,
                          const PyramidTiffOptions& options) {
  HP_CHECK(options.mpp > 0, ConfigError, "pyramidal TIFF '", out_path, "': mpp must be > 0, got ", options.mpp);
  HP_CHECK(options.tile_size >= 16 && options.tile_size % 16 == 0, ConfigError, "pyramidal TIFF '", out_path,
           "': tile size must be a multiple of 16, got ", options.tile_size);
  HP_CHECK(bands == 1 || bands == 3, InputError, "pyramidal TIFF '", out_path, "': expected 1 or 3 bands, got ",
           bands);
  const VipsForeignTiffCompression codec = compression(options.compression);
  const VipsRegionShrink region_shrink = shrink(options.shrink);
  init_vips();
  if (options.threads > 0) vips_concurrency_set(options.threads);
  ImageRef raw;
  if (vips_rawload(raw_path.c_str(), &raw.image, width, height, bands, nullptr) != 0)
    throw OutputError("cannot read the raster '" + raw_path + "' for '" + out_path + "': " + vips_error());
  if (bands == 3) raw.image->Type = VIPS_INTERPRETATION_sRGB;
  else raw.image->Type = VIPS_INTERPRETATION_B_W;
  const double px_per_mm = 1000.0 / options.mpp;  // vips resolutions are px per mm
  // OpenSlide 3.4.1 reads non-JPEG tiles through libtiff's RGBA interface, which in Debian 12's
  // libtiff 4.5.0 garbles a tile wider than its image: keep tiles within the full-size level.
  const int tile = std::max(16, std::min(options.tile_size, std::min(width, height) / 16 * 16));
  const bool big = static_cast<double>(width) * height * bands > 2e9;
  if (vips_tiffsave(raw.image, out_path.c_str(), "tile", TRUE, "tile_width", tile, "tile_height", tile, "pyramid", TRUE, "compression", codec, "Q", options.jpeg_quality,
                    "region_shrink", region_shrink, "xres", px_per_mm, "yres", px_per_mm, "bigtiff", big ? TRUE : FALSE,
                    nullptr) != 0)
    throw OutputError("writing the pyramidal TIFF '" + out_path + "' failed: " + vips_error());
}

}  // namespace hemapath
