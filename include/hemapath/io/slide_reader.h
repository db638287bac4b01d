#pragma once
/// Whole-slide images through OpenSlide (svs, tif, ndpi, mrxs, scn, vms, bif, generic tiled
/// TIFF). Owns the openslide_t handle (RAII).
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace hemapath {

struct SlideLevel {
  int64_t width = 0, height = 0;  ///< px at this level
  double downsample = 1;          ///< level-0 px per level px
};

class SlideReader {
 public:
  /// Opens `path`. InputError naming it when missing, of an unsupported format or unreadable.
  explicit SlideReader(const std::string& path);
  ~SlideReader();
  SlideReader(const SlideReader&) = delete;
  SlideReader& operator=(const SlideReader&) = delete;

  /// True when OpenSlide recognises the file as a slide (cheap, does not open it fully).
  static bool is_slide(const std::string& path);

  const std::string& path() const { return path_; }
  std::string vendor() const;
  const std::vector<SlideLevel>& levels() const { return levels_; }
  /// um per level-0 px from openslide.mpp-x/-y, or from the TIFF resolution tags when the
  /// vendor property is absent (as for libvips pyramids); empty when neither exists.
  std::optional<double> mpp_x() const;
  std::optional<double> mpp_y() const;
  std::optional<double> objective_power() const;
  const std::map<std::string, std::string>& properties() const { return properties_; }
  std::vector<std::string> associated_images() const;

 private:
  std::optional<double> mpp(const char* vendor_key) const;
  std::optional<double> number(const std::string& key) const;

  struct Handle;
  std::string path_;
  std::unique_ptr<Handle> handle_;
  std::vector<SlideLevel> levels_;
  std::map<std::string, std::string> properties_;
};

}  // namespace hemapath
