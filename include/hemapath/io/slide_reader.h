#pragma once
/// Whole-slide images through OpenSlide (svs, tif, ndpi, mrxs, scn, vms, bif, generic tiled
/// TIFF), and plain images (PNG, JPEG, BMP, untiled TIFF) as single-level slides, behind one
/// reader. Coordinates are level-0 pixels unless said otherwise; resolutions are um per pixel
/// (mpp). Regions come back as CV_8UC3 RGB, transparent (and out-of-slide) pixels composited
/// over white. Reads are thread-safe: many threads may call read_region on one reader at once.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace hemapath {

struct SlideLevel {
  int64_t width = 0, height = 0;  ///< px at this level
  double downsample = 1;          ///< level-0 px per level px
};

/// How a slide is opened.
struct SlideOpenOptions {
  /// um per level-0 px to use instead of the file's own (for slides without one, or with a
  /// wrong one). Must be > 0 when given.
  std::optional<double> mpp;
};

/// The range of resolutions (um/px) a TIFF resolution tag is believed in; outside it (72 dpi
/// defaults and the like) the slide is taken to have no mpp.
constexpr double kMinPlausibleMpp = 0.01, kMaxPlausibleMpp = 100;

class SlideReader {
 public:
  /// Opens `path`: OpenSlide first, then OpenCV for plain images. InputError naming it when
  /// missing, of an unsupported format or unreadable (OpenSlide's own message included).
  explicit SlideReader(const std::string& path, const SlideOpenOptions& options = {});
  ~SlideReader();
  SlideReader(const SlideReader&) = delete;
  SlideReader& operator=(const SlideReader&) = delete;

  /// True when OpenSlide recognises the file as a slide (cheap, does not open it fully).
  static bool is_slide(const std::string& path);

  const std::string& path() const { return path_; }
  /// OpenSlide's vendor ("aperio", "generic-tiff", ...) or "image" for a plain image.
  std::string vendor() const;
  const std::vector<SlideLevel>& levels() const { return levels_; }
  int64_t width() const { return levels_.front().width; }    ///< level-0 px
  int64_t height() const { return levels_.front().height; }  ///< level-0 px
  /// um per level-0 px: the override, else openslide.mpp-x/-y, else the TIFF resolution tags
  /// (as libvips pyramids carry) when they give kMinPlausibleMpp..kMaxPlausibleMpp; empty
  /// otherwise.
  std::optional<double> mpp_x() const;
  std::optional<double> mpp_y() const;
  /// um per level-0 px (mean of x and y) or InputError naming the file and saying to pass --mpp.
  double require_mpp() const;
  std::optional<double> objective_power() const;
  const std::map<std::string, std::string>& properties() const { return properties_; }
  std::vector<std::string> associated_images() const;
  /// An associated image (label, macro, thumbnail) as RGB; InputError for an unknown name.
  cv::Mat read_associated_image(const std::string& name) const;

  /// The level to read `downsample` (level-0 px per output px) from: the most detailed level
  /// whose downsample does not exceed it (a small tolerance absorbs rounded level sizes).
  int best_level(double downsample) const;
  /// `width` x `height` px of `level`, top-left at level-0 (x, y). Parts outside the slide are
  /// white. InputError for a bad level or a non-positive size; Error when OpenSlide fails.
  cv::Mat read_region(int level, int64_t x, int64_t y, int width, int height) const;
  /// `width` x `height` px at `mpp` um/px whose top-left is level-0 (x, y): read from
  /// best_level and resized (area averaging when shrinking, bilinear when enlarging).
  cv::Mat read_region_at_mpp(double x, double y, int width, int height, double mpp) const;
  /// The whole slide with its longer side at most `max_side` px (aspect kept), read from the
  /// coarsest level that still has that detail, in strips so memory stays bounded.
  cv::Mat thumbnail(int max_side) const;
  /// The size thumbnail(max_side) has.
  cv::Size thumbnail_size(int max_side) const;

 private:
  std::optional<double> mpp(const char* vendor_key) const;
  std::optional<double> number(const std::string& key) const;

  struct Handle;
  std::string path_;
  std::unique_ptr<Handle> handle_;
  std::vector<SlideLevel> levels_;
  std::map<std::string, std::string> properties_;
  std::optional<double> mpp_override_;
};

}  // namespace hemapath
