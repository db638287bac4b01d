#pragma once
/// A large 8-bit image kept on disk rather than in memory: the stitching canvas of slide
/// inference, written rectangle by rectangle (from several threads at once) so memory does not
/// grow with the slide's area. Layout: raw, row-major, interleaved bands, no header; a new
/// file is sparse, so unwritten pixels read as 0.
#include <cstdint>
#include <string>

#include <opencv2/core.hpp>

namespace hemapath {

class RasterFile {
 public:
  /// Creates (or truncates) `path` as a width x height x bands image of zeros. OutputError
  /// naming the file when it cannot be created.
  static RasterFile create(const std::string& path, int width, int height, int bands);
  /// Opens an existing raster of that shape for reading and writing (resuming). InputError
  /// when missing or of another byte size.
  static RasterFile open(const std::string& path, int width, int height, int bands);
  ~RasterFile();
  RasterFile(RasterFile&& other) noexcept;
  RasterFile& operator=(RasterFile&& other) noexcept;
  RasterFile(const RasterFile&) = delete;
  RasterFile& operator=(const RasterFile&) = delete;

  const std::string& path() const { return path_; }
  int width() const { return width_; }
  int height() const { return height_; }
  int bands() const { return bands_; }

  /// Writes `pixels` (CV_8UC(bands), rect's size) at `rect` (px, inside the raster).
  /// InputError otherwise; OutputError on an I/O failure. Thread-safe for disjoint rects.
  void write(const cv::Rect& rect, const cv::Mat& pixels);
  /// The pixels of `rect` (inside the raster), CV_8UC(bands).
  cv::Mat read(const cv::Rect& rect) const;
  /// Flushes written data to the disk (before a resume journal records it as done).
  void sync();

 private:
  RasterFile(std::string path, int fd, int width, int height, int bands);
  void check_rect(const cv::Rect& rect) const;

  std::string path_;
  int fd_ = -1;
  int width_ = 0, height_ = 0, bands_ = 0;
};

}  // namespace hemapath
