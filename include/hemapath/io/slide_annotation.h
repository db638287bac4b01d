#pragma once
/// A whole-slide annotation as label masks of any region: either a label image aligned to the
/// slide (8-bit class indices at any size; it is stretched over the slide's level 0) or
/// GeoJSON polygons in level-0 px (annotation_raster.h). What tile export uses for mask tiles and
/// slide segmentation for scoring against the truth.
#include <map>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "hemapath/io/annotation_raster.h"

namespace hemapath {

class SlideAnnotation {
 public:
  /// Reads `path` (.geojson/.json polygons, else a label image) for a slide of `slide_width` x
  /// `slide_height` level-0 px. `names`: class names, index 1 upwards; empty = for GeoJSON the
  /// shapes' classes sorted, for a label image "class1", "class2", ... up to its largest value.
  /// InputError naming the file for unreadable files, 16-bit label images, more than 255
  /// classes, or a label value beyond the given names.
  SlideAnnotation(const std::string& path, const std::vector<std::string>& names, double slide_width,
                  double slide_height);

  /// Class names, index 1 upwards (0 is background).
  const std::vector<std::string>& classes() const { return classes_; }
  /// Labels (CV_8U) of a width x height px region whose top-left is level-0 (x0, y0), one px
  /// every `downsample` level-0 px; each px takes the class under its centre.
  cv::Mat region(double x0, double y0, double downsample, int width, int height) const;

 private:
  double slide_width_, slide_height_;
  cv::Mat labels_;
  std::vector<AnnotationShape> shapes_;
  std::map<std::string, int> index_;
  std::vector<std::string> classes_;
};

}  // namespace hemapath
