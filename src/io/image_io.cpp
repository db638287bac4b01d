#include "hemapath/io/image_io.h"

#include <algorithm>
#include <filesystem>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "hemapath/core/atomic_file.h"
#include "hemapath/core/error.h"

namespace hemapath {
namespace fs = std::filesystem;

namespace {
cv::Mat decode(const std::string& path, int flags, const char* what) {
  HP_CHECK(fs::is_regular_file(path), InputError, what, " '", path, "' does not exist");
  cv::Mat m;
  try {
    m = cv::imread(path, flags);
  } catch (const cv::Exception&) {
    m.release();
  }
  HP_CHECK(!m.empty(), InputError, what, " '", path,
           "' cannot be decoded: expected a PNG, JPEG, TIFF or BMP image (file corrupt or of another format)");
  return m;
}
}  // namespace

cv::Mat read_image_rgb(const std::string& path) {
  cv::Mat m = decode(path, cv::IMREAD_COLOR, "image");
  cv::cvtColor(m, m, cv::COLOR_BGR2RGB);
  return m;
}

cv::Mat read_mask(const std::string& path) {
  cv::Mat m = decode(path, cv::IMREAD_UNCHANGED, "mask");
  HP_CHECK(m.channels() == 1, InputError, "mask '", path, "' has ", m.channels(),
           " channels: expected a single-channel index or instance mask");
  HP_CHECK(m.depth() == CV_8U || m.depth() == CV_16U, InputError, "mask '", path,
           "' is not 8- or 16-bit: expected integer class or instance ids");
  return m;
}

void write_image(const std::string& path, const cv::Mat& image) {
  HP_CHECK(!image.empty(), OutputError, "cannot write '", path, "': the image is empty");
  // A new buffer for the BGR copy: converting into a header that shares `image`'s pixels
  // would swap the caller's channels in place.
  cv::Mat out;
  if (image.channels() == 3)
    cv::cvtColor(image, out, cv::COLOR_RGB2BGR);
  else
    out = image;
  AtomicFile file(path);
  bool ok = false;
  try {
    ok = cv::imwrite(file.temp_path().string(), out);
  } catch (const cv::Exception& e) {
    throw OutputError("cannot write image '" + path + "': " + e.what());
  }
  HP_CHECK(ok, OutputError, "cannot write image '", path, "': unsupported extension or unwritable folder");
  file.commit();
}

namespace {
std::string lower_extension(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}
}  // namespace

bool has_image_extension(const std::string& path) {
  const std::string ext = lower_extension(path);
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".tif" || ext == ".tiff" || ext == ".bmp";
}

void require_png_path(const std::string& path, const std::string& what) {
  HP_CHECK(lower_extension(path) == ".png", InputError, what, ": output '", path, "' must end in .png");
}

}  // namespace hemapath
