#pragma once
// hemapath predict for segmentation models: per image, the class map, foreground probability
// and the cells cut from it (16-bit mask, overlay, CSV, GeoJSON), plus a summary CSV.
#include <string>
#include <vector>

#include "hemapath/infer/inference_options.h"

#include "commands.h"

namespace hemapath::cli {

void predict_segmentation(const std::string& model, const std::vector<std::string>& inputs, const std::string& out,
                          const CellFlags& cells, const InferenceOptions& inference);

}  // namespace hemapath::cli
