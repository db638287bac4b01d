#pragma once
/// Pyramidal tiled TIFF through libvips: the slide-sized outputs that QuPath, OpenSlide and
/// image viewers open. Every file carries its resolution (TIFF XResolution/YResolution in
/// px per cm, which OpenSlide exposes and hemapath's SlideReader turns back into mpp).
#include <string>

namespace hemapath {

struct PyramidTiffOptions {
  double mpp = 0;                    ///< um per px of the full-resolution level (> 0)
  /// "deflate" or "lzw" (lossless: label maps), or "jpeg" (RGB images).
  std::string compression = "deflate";
  int jpeg_quality = 90;
  /// px, a multiple of 16; smaller for images narrower than it (see pyramid_tiff.cpp). Levels
  /// narrower than a tile remain (the smallest ones): OpenSlide with Debian 12's libtiff
  /// misreads those in greyscale files, so read class maps at their full-size level.
  int tile_size = 256;
  /// How each level is made from the one above: "mode" keeps class labels labels, "mean"
  /// averages (images), "nearest" picks.
  std::string shrink = "mode";
  int threads = 0;                   ///< libvips worker threads; 0 = its default
};

/// Writes the raw 8-bit image at `raw_path` (width x height px, `bands` interleaved bands,
/// row-major, no header: a RasterFile) as a pyramidal tiled TIFF at `out_path`. libvips
/// streams the raster from disk, so memory stays bounded whatever its size; BigTIFF when the
/// pixels pass 2 GB. ConfigError for bad options, OutputError when libvips fails (its
/// message included).
void write_pyramidal_tiff(const std::string& raw_path, int width, int height, int bands, const std::string& out_path,
                          const PyramidTiffOptions& options);

}  // namespace hemapath
