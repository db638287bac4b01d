#include "hemapath/io/raster_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "hemapath/core/error.h"

namespace hemapath {
namespace {
int64_t byte_size(int width, int height, int bands) { return int64_t{width} * height * bands; }
}  // namespace

RasterFile::RasterFile(std::string path, int fd, int width, int height, int bands)
    : path_(std::move(path)), fd_(fd), width_(width), height_(height), bands_(bands) {}

RasterFile RasterFile::create(const std::string& path, int width, int height, int bands) {
  HP_CHECK(width > 0 && height > 0 && bands > 0 && bands <= 4, InputError, "raster '", path, "': bad shape ", width,
           "x", height, "x", bands);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  HP_CHECK(fd >= 0, OutputError, "cannot create '", path, "': ", std::strerror(errno));
  RasterFile raster(path, fd, width, height, bands);
  HP_CHECK(::ftruncate(fd, byte_size(width, height, bands)) == 0, OutputError, "cannot size '", path, "' to ",
           byte_size(width, height, bands), " bytes: ", std::strerror(errno));
  return raster;
}

RasterFile RasterFile::open(const std::string& path, int width, int height, int bands) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  HP_CHECK(fd >= 0, InputError, "cannot open '", path, "': ", std::strerror(errno));
  RasterFile raster(path, fd, width, height, bands);
  struct stat st {};
  HP_CHECK(::fstat(fd, &st) == 0 && st.st_size == byte_size(width, height, bands), InputError, "'", path,
           "' is not a ", width, "x", height, "x", bands, " raster (", st.st_size, " bytes)");
  return raster;
}

RasterFile::~RasterFile() {
  if (fd_ >= 0) ::close(fd_);
}

RasterFile::RasterFile(RasterFile&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)), width_(other.width_),
      height_(other.height_), bands_(other.bands_) {}

RasterFile& RasterFile::operator=(RasterFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
    width_ = other.width_;
    height_ = other.height_;
    bands_ = other.bands_;
  }
  return *this;
}

void RasterFile::check_rect(const cv::Rect& rect) const {
  HP_CHECK(rect.width > 0 && rect.height > 0 && (rect & cv::Rect(0, 0, width_, height_)) == rect, InputError,
           "raster '", path_, "': rectangle ", rect, " is not inside its ", width_, "x", height_, " px");
}

// Moves `rect`'s rows between the file and `pixels` with pread or pwrite (`io`), one call per
// row (and more only when the kernel transfers part of one).
template <typename Io, typename Buffer>
void transfer_rows(const cv::Rect& rect, int raster_width, int bands, Buffer pixels, Io io) {
  const size_t row_bytes = static_cast<size_t>(rect.width) * bands;
  for (int y = 0; y < rect.height; ++y) {
    const off_t offset = (static_cast<off_t>(rect.y + y) * raster_width + rect.x) * bands;
    for (size_t done = 0; done < row_bytes;) done += io(pixels.ptr(y) + done, row_bytes - done, offset + static_cast<off_t>(done));
  }
}

void RasterFile::write(const cv::Rect& rect, const cv::Mat& pixels) {
  check_rect(rect);
  HP_CHECK(pixels.type() == CV_8UC(bands_) && pixels.size() == rect.size(), InputError, "raster '", path_,
           "': expected ", rect.width, "x", rect.height, " px of ", bands_, " 8-bit band(s)");
  transfer_rows(rect, width_, bands_, pixels, [&](const uint8_t* data, size_t n, off_t offset) {
    const ssize_t written = ::pwrite(fd_, data, n, offset);
    HP_CHECK(written > 0, OutputError, "writing '", path_, "' failed: ", std::strerror(errno));
    return static_cast<size_t>(written);
  });
}

cv::Mat RasterFile::read(const cv::Rect& rect) const {
  check_rect(rect);
  cv::Mat pixels(rect.size(), CV_8UC(bands_));
  transfer_rows(rect, width_, bands_, pixels, [&](uint8_t* data, size_t n, off_t offset) {
    const ssize_t got = ::pread(fd_, data, n, offset);
    HP_CHECK(got > 0, InputError, "reading '", path_, "' failed: ", got == 0 ? "file too short" : std::strerror(errno));
    return static_cast<size_t>(got);
  });
  return pixels;
}

void RasterFile::sync() {
  HP_CHECK(::fdatasync(fd_) == 0, OutputError, "flushing '", path_, "' failed: ", std::strerror(errno));
}

}  // namespace hemapath
