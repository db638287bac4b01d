#pragma once
/// One labelled example of a dataset, as file paths.
#include <string>

namespace hemapath {

struct Sample {
  std::string image_path;
  std::string mask_path;  ///< empty: the whole image is the cell
  int label = -1;         ///< class index, -1 when unlabelled
};

}  // namespace hemapath
