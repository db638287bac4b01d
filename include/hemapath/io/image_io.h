#pragma once
/// Image and mask files through OpenCV codecs. Colour images are RGB in memory
/// (OpenCV's BGR stays inside this file).
#include <string>

#include <opencv2/core.hpp>

namespace hemapath {

/// Reads a colour image as CV_8UC3 RGB (grey images are expanded, alpha is dropped,
/// 16-bit is scaled to 8-bit). Throws InputError naming the file when it is missing or
/// cannot be decoded.
cv::Mat read_image_rgb(const std::string& path);

/// Reads a label or instance mask unchanged as one channel (CV_8U or CV_16U). Throws
/// InputError when missing, undecodable or not single-channel.
cv::Mat read_mask(const std::string& path);

/// Writes an RGB (CV_8UC3) or single-channel image; the format follows the extension.
/// Atomic: the file appears whole or not at all. Throws OutputError on failure.
void write_image(const std::string& path, const cv::Mat& image);

/// True for extensions hemapath reads as plain images (.png .jpg .jpeg .tif .tiff .bmp),
/// case-insensitive.
bool has_image_extension(const std::string& path);

/// InputError "<what>: output 'PATH' must end in .png" unless `path` ends in .png (any case):
/// for writers whose format is fixed (charts, contact sheets).
void require_png_path(const std::string& path, const std::string& what);

}  // namespace hemapath
