#pragma once
/// The merged summary of a batch of slides segmented into <out>/<slide stem>/ (possibly by
/// several workers, each with its --shard of the list): summary.csv with a row per slide and
/// summary.json with totals, rebuilt from the slides' own summary.json files.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hemapath/io/batch_inputs.h"

namespace hemapath {

/// Writes <out>/summary.csv (slide, status, output_width_px, output_height_px, mpp,
/// tiles_with_tissue, cells, area_um2_<class> per class, seconds, error) and <out>/summary.json
/// (counts by status, totals of tiles, cells and area per class, and every slide's status)
/// over `slides`, holding the ledger's lock. Returns the counts by status.
StatusCounts write_slide_batch_summary(const BatchLedger& ledger, const std::vector<std::string>& slides,
                                       const std::string& out_dir);

}  // namespace hemapath
