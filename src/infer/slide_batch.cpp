#include "hemapath/infer/slide_batch.h"

#include <filesystem>

#include "hemapath/core/atomic_file.h"
#include "hemapath/io/csv.h"

namespace hemapath {
namespace fs = std::filesystem;

StatusCounts write_slide_batch_summary(const BatchLedger& ledger, const std::vector<std::string>& slides,
                                       const std::string& out_dir) {
  const auto lock = ledger.lock();
  // Each finished slide's summary; the classes are those of the first (one model per batch).
  std::vector<InputStatus> status;
  std::vector<nlohmann::json> summaries;
  std::vector<std::string> classes;
  for (const auto& slide : slides) {
    status.push_back(ledger.status(slide));
    summaries.push_back(status.back().state == InputState::finished ? ledger.result_json(slide) : nlohmann::json());
    if (classes.empty() && summaries.back().contains("class_area_um2"))
      for (const auto& [name, area] : summaries.back()["class_area_um2"].items()) classes.push_back(name);
  }
  CsvRow header{"slide", "status", "output_width_px", "output_height_px", "mpp", "tiles_with_tissue", "cells"};
  for (const auto& name : classes) header.push_back("area_um2_" + name);
  header.push_back("seconds");
  header.push_back("error");
  CsvWriter csv(header);

  StatusCounts counts;
  nlohmann::json areas = nlohmann::json::object(), rows = nlohmann::json::array();
  for (const auto& name : classes) areas[name] = 0.0;
  int64_t tiles = 0, cells = 0;
  for (size_t i = 0; i < slides.size(); ++i) {
    const nlohmann::json& s = summaries[i];
    CsvRow row{slides[i], state_name(status[i].state)};
    counts.count(status[i].state);
    if (status[i].state == InputState::finished) {
      const int64_t slide_cells = s.value("cells", int64_t{0});
      row.insert(row.end(), {s.at("output_size_px").at(0).dump(), s.at("output_size_px").at(1).dump(),
                             format_number(s.at("mpp").get<double>()), s.at("tiles_with_tissue").dump(),
                             std::to_string(slide_cells)});
      for (const auto& name : classes) {
        const double area = s.at("class_area_um2").value(name, 0.0);
        row.push_back(format_number(area));
        areas[name] = areas[name].get<double>() + area;
      }
      row.push_back(format_number(s.at("seconds").get<double>(), 4));
      row.push_back("");
      tiles += s.at("tiles_with_tissue").get<int64_t>();
      cells += slide_cells;
    } else {
      row.resize(header.size() - 1);
      row.push_back(status[i].error);
    }
    csv.add_row(row);
    rows.push_back({{"slide", slides[i]}, {"status", state_name(status[i].state)}, {"error", status[i].error}});
  }
  csv.write((fs::path(out_dir) / "summary.csv").string());
  const nlohmann::json summary = {{"slides", slides.size()},    {"finished", counts.finished},
                                  {"failed", counts.failed},    {"pending", counts.pending},
                                  {"tiles_with_tissue", tiles}, {"cells", cells},
                                  {"class_area_um2", areas},    {"per_slide", rows}};
  write_text_atomic(fs::path(out_dir) / "summary.json", summary.dump(2) + "\n");
  return counts;
}

}  // namespace hemapath
